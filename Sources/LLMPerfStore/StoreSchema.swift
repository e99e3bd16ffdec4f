import GRDB

/// The database schema as an append-only list of migrations. Never edit a registered
/// migration: add a new one.
enum StoreSchema {
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1: runs and requests") { db in
            try db.execute(
                sql: """
                    CREATE TABLE runs (
                        id TEXT PRIMARY KEY NOT NULL,
                        name TEXT NOT NULL,
                        variant TEXT,
                        batch_id TEXT NOT NULL,
                        status TEXT NOT NULL,
                        scenario_yaml TEXT NOT NULL,
                        scenario_hash TEXT NOT NULL,
                        scenario_path TEXT NOT NULL,
                        target_url TEXT NOT NULL,
                        api TEXT NOT NULL,
                        model TEXT NOT NULL,
                        load_description TEXT NOT NULL,
                        max_tokens INTEGER,
                        prompt_set_hash TEXT NOT NULL,
                        slo_json TEXT NOT NULL,
                        tool_version TEXT NOT NULL,
                        host TEXT NOT NULL,
                        git_commit TEXT,
                        started_at DOUBLE NOT NULL,
                        ended_at DOUBLE
                    );
                    CREATE INDEX runs_by_name ON runs(name, started_at);
                    CREATE INDEX runs_by_batch ON runs(batch_id);
                    CREATE TABLE run_labels (
                        run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
                        label TEXT NOT NULL,
                        PRIMARY KEY (run_id, label)
                    );
                    CREATE INDEX run_labels_by_label ON run_labels(label);
                    CREATE TABLE requests (
                        run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
                        idx INTEGER NOT NULL,
                        is_warmup INTEGER NOT NULL,
                        prompt_index INTEGER NOT NULL,
                        scheduled_at_ns INTEGER,
                        started_at_ns INTEGER NOT NULL,
                        dns_ns INTEGER NOT NULL,
                        connect_ns INTEGER NOT NULL,
                        tls_ns INTEGER NOT NULL,
                        sent_ns INTEGER NOT NULL,
                        first_byte_ns INTEGER,
                        ended_at_ns INTEGER NOT NULL,
                        chunk_count INTEGER NOT NULL,
                        chunk_times BLOB NOT NULL,
                        chunk_tokens BLOB,
                        prompt_tokens INTEGER,
                        completion_tokens INTEGER,
                        cached_tokens INTEGER,
                        output_tokens INTEGER NOT NULL,
                        token_source TEXT NOT NULL,
                        outcome TEXT NOT NULL,
                        error_detail TEXT NOT NULL,
                        http_status INTEGER NOT NULL,
                        connection_reused INTEGER NOT NULL,
                        http_version TEXT NOT NULL,
                        remote_address TEXT NOT NULL,
                        output_text TEXT NOT NULL,
                        PRIMARY KEY (run_id, idx)
                    ) WITHOUT ROWID;
                    """)
        }
        migrator.registerMigration("v2: run owner process") { db in
            // The process writing a `running` run, so that a later open can tell a run whose
            // process was killed (`kill -9`, a crash, a power cut) from one still measuring.
            try db.execute(
                sql: """
                    ALTER TABLE runs ADD COLUMN owner_host TEXT;
                    ALTER TABLE runs ADD COLUMN owner_pid INTEGER;
                    ALTER TABLE runs ADD COLUMN owner_start_ticks INTEGER;
                    """)
        }
        migrator.registerMigration("v3: timing known") { db in
            // 0 when libcurl could not report a request's connection timings: dns_ns,
            // connect_ns, tls_ns, sent_ns and first_byte_ns are then unknown, not 0 ms.
            try db.execute(sql: "ALTER TABLE requests ADD COLUMN timing_known INTEGER NOT NULL DEFAULT 1")
        }
        migrator.registerMigration("v4: reasoning") { db in
            // chunk_reasoning: one byte per chunk, 1 where the chunk carried reasoning only; NULL
            // when no chunk did. reasoning_tokens: usage.completion_tokens_details.reasoning_tokens.
            try db.execute(
                sql: """
                    ALTER TABLE requests ADD COLUMN chunk_reasoning BLOB;
                    ALTER TABLE requests ADD COLUMN reasoning_tokens INTEGER;
                    """)
        }
        migrator.registerMigration("v5: server timings") { db in
            // The server's own timings of a request, as its response reported them (Ollama's
            // durations, llama.cpp's `timings`); NULL when it reported none. See ServerTimings.
            try db.execute(
                sql: """
                    ALTER TABLE requests ADD COLUMN server_prompt_ns INTEGER;
                    ALTER TABLE requests ADD COLUMN server_generation_ns INTEGER;
                    ALTER TABLE requests ADD COLUMN server_total_ns INTEGER;
                    ALTER TABLE requests ADD COLUMN server_load_ns INTEGER;
                    ALTER TABLE requests ADD COLUMN server_draft_tokens INTEGER;
                    ALTER TABLE requests ADD COLUMN server_draft_accepted_tokens INTEGER;
                    """)
        }
        migrator.registerMigration("v6: client load and sweeps") { db in
            // How hard the client worked while a run's requests ran (ClientLoad); NULL for runs
            // stored before. The steady-state window a run's statistics count (SteadyStateWindow),
            // NULL when they count every request. A sweep (`llmperf sweep`): its points are the runs of its batch.
            try db.execute(
                sql: """
                    ALTER TABLE runs ADD COLUMN client_cpu_s REAL;
                    ALTER TABLE runs ADD COLUMN client_wall_s REAL;
                    ALTER TABLE runs ADD COLUMN client_lag_p50_ms REAL;
                    ALTER TABLE runs ADD COLUMN client_lag_p99_ms REAL;
                    ALTER TABLE runs ADD COLUMN steady_from_ns INTEGER;
                    ALTER TABLE runs ADD COLUMN steady_to_ns INTEGER;
                    CREATE TABLE sweeps (
                        batch_id TEXT PRIMARY KEY NOT NULL,
                        name TEXT NOT NULL,
                        over TEXT NOT NULL,
                        search TEXT NOT NULL,
                        status TEXT NOT NULL,
                        stop_reason TEXT,
                        started_at REAL NOT NULL,
                        ended_at REAL
                    );
                    CREATE INDEX sweeps_by_name ON sweeps (name, started_at);
                    """)
        }
        migrator.registerMigration("v7: server phases and scrapes") { db in
            // The bundled server's phases of a request (ServerTimings: queue, preprocess,
            // postprocess, prefix-cache hits, mean batch size). A scrape of the server's
            // Prometheus endpoint during a run (`target.metrics`): when it was taken (run clock),
            // how long it took, and why it failed; its samples that changed since the run's last
            // successful scrape, one row each (a NULL value: the series is gone). See RunStore+Scrapes.
            try db.execute(
                sql: """
                    ALTER TABLE requests ADD COLUMN server_queue_ns INTEGER;
                    ALTER TABLE requests ADD COLUMN server_preprocess_ns INTEGER;
                    ALTER TABLE requests ADD COLUMN server_postprocess_ns INTEGER;
                    ALTER TABLE requests ADD COLUMN server_cached_tokens INTEGER;
                    ALTER TABLE requests ADD COLUMN server_batch_size REAL;
                    CREATE TABLE metric_scrapes (
                        run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
                        seq INTEGER NOT NULL,
                        at_ns INTEGER NOT NULL,
                        duration_ns INTEGER NOT NULL,
                        error TEXT,
                        PRIMARY KEY (run_id, seq)
                    );
                    CREATE TABLE metric_samples (
                        run_id TEXT NOT NULL,
                        seq INTEGER NOT NULL,
                        name TEXT NOT NULL,
                        labels TEXT NOT NULL,
                        value REAL,
                        FOREIGN KEY (run_id, seq) REFERENCES metric_scrapes(run_id, seq) ON DELETE CASCADE
                    );
                    CREATE INDEX metric_samples_by_scrape ON metric_samples (run_id, seq);
                    """)
        }
        migrator.registerMigration("v8: sessions") { db in
            // A multi-turn session's request (`workload.sessions`): its session, its turn (both from 0)
            // and the tokens of the earlier turns it carried. NULL for a request on its own.
            try db.execute(
                sql: """
                    ALTER TABLE requests ADD COLUMN session_id INTEGER;
                    ALTER TABLE requests ADD COLUMN turn_index INTEGER;
                    ALTER TABLE requests ADD COLUMN history_tokens INTEGER;
                    """)
        }
        migrator.registerMigration("v9: shards") { db in
            // A shard's run of a sharded load (`run --shard I/N`, ShardStamp): its shard, its clock offsets
            // (wall − monotonic ns) read at the start and at the end with their uncertainties, its origin on the
            // wall clock and the `--start-at` it waited for. A merged run (`llmperf merge`): how many shards, one
            // `run_shards` row each (where it came from, how far its times were shifted onto the merged axis),
            // and each request's shard.
            try db.execute(
                sql: """
                    ALTER TABLE runs ADD COLUMN shard_index INTEGER;
                    ALTER TABLE runs ADD COLUMN shard_count INTEGER;
                    ALTER TABLE runs ADD COLUMN clock_offset_start_ns INTEGER;
                    ALTER TABLE runs ADD COLUMN clock_uncertainty_start_ns INTEGER;
                    ALTER TABLE runs ADD COLUMN clock_offset_end_ns INTEGER;
                    ALTER TABLE runs ADD COLUMN clock_uncertainty_end_ns INTEGER;
                    ALTER TABLE runs ADD COLUMN origin_wall_ns INTEGER;
                    ALTER TABLE runs ADD COLUMN start_at_ns INTEGER;
                    ALTER TABLE runs ADD COLUMN merged_shards INTEGER;
                    ALTER TABLE requests ADD COLUMN shard INTEGER;
                    CREATE TABLE run_shards (
                        run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
                        shard_index INTEGER NOT NULL,
                        source_run_id TEXT NOT NULL,
                        source TEXT NOT NULL,
                        host TEXT NOT NULL,
                        status TEXT NOT NULL,
                        origin_shift_ns INTEGER NOT NULL,
                        clock_offset_start_ns INTEGER NOT NULL,
                        clock_uncertainty_start_ns INTEGER NOT NULL,
                        clock_offset_end_ns INTEGER,
                        clock_uncertainty_end_ns INTEGER,
                        origin_wall_ns INTEGER NOT NULL,
                        start_at_ns INTEGER,
                        PRIMARY KEY (run_id, shard_index)
                    );
                    CREATE INDEX run_shards_by_source ON run_shards (source_run_id);
                    """)
        }
        return migrator
    }
}
