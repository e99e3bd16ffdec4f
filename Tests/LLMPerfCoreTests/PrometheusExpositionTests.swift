import Testing

@testable import LLMPerfCore

/// A sample as the parser should return it (labels in any order: `MetricSample` sorts them).
func promSample(_ name: String, _ labels: KeyValuePairs<String, String>, _ value: Double) -> MetricSample {
    MetricSample(name: name, labels: labels.map { MetricLabel($0.key, $0.value) }, value: value)
}

func promSample(_ name: String, _ value: Double) -> MetricSample {
    MetricSample(name: name, value: value)
}

/// Buckets written as the fixtures write them: `(le, cumulative count)`.
func promBuckets(_ name: String, _ buckets: [(String, Double)]) -> [MetricSample] {
    promBuckets(name, [:], buckets)
}

func promBuckets(
    _ name: String, _ labels: KeyValuePairs<String, String>, _ buckets: [(String, Double)]
) -> [MetricSample] {
    buckets.map { le, count in
        MetricSample(
            name: name + "_bucket", labels: labels.map { MetricLabel($0.key, $0.value) } + [MetricLabel("le", le)],
            value: count)
    }
}

@Suite struct PrometheusExpositionTests {
    static let vllmLabels: KeyValuePairs<String, String> = ["engine": "0", "model_name": "Llama-3.1-8B"]
    static let finishReasons: KeyValuePairs<String, Double> = ["stop": 101, "length": 19, "abort": 0]

    @Test func parsesVLLM() throws {
        let families = try PrometheusExposition.parse(PrometheusFixtures.vllm)
        let labels = Self.vllmLabels
        let ttft = "vllm:time_to_first_token_seconds"
        #expect(
            families == [
                MetricFamily(
                    name: "vllm:num_requests_running", type: .gauge,
                    help: "Number of requests in model execution batches.",
                    samples: [promSample("vllm:num_requests_running", labels, 8)]),
                MetricFamily(
                    name: "vllm:num_requests_waiting", type: .gauge,
                    help: "Number of requests waiting to be processed.",
                    samples: [promSample("vllm:num_requests_waiting", labels, 2)]),
                MetricFamily(
                    name: "vllm:kv_cache_usage_perc", type: .gauge, help: "KV-cache usage. 1 means 100 percent usage.",
                    samples: [promSample("vllm:kv_cache_usage_perc", labels, 0.4375)]),
                MetricFamily(
                    name: "vllm:generation_tokens_total", type: .counter,
                    help: "Number of generation tokens processed.",
                    samples: [promSample("vllm:generation_tokens_total", labels, 27453)]),
                MetricFamily(
                    name: "vllm:generation_tokens_created", type: .gauge,
                    help: "Number of generation tokens processed.",
                    samples: [promSample("vllm:generation_tokens_created", labels, 1_725_418_400)]),
                MetricFamily(
                    name: "vllm:request_success_total", type: .counter,
                    help: "Count of successfully processed requests.",
                    samples: Self.finishReasons.map { reason, count in
                        promSample(
                            "vllm:request_success_total",
                            ["engine": "0", "finished_reason": reason, "model_name": "Llama-3.1-8B"], count)
                    }),
                MetricFamily(
                    name: ttft, type: .histogram, help: "Histogram of time to first token in seconds.",
                    samples: [promSample(ttft + "_sum", labels, 9.25)]
                        + promBuckets(
                            ttft, labels, [("0.04", 12), ("0.06", 40), ("0.1", 110), ("0.25", 119), ("+Inf", 120)])
                        + [promSample(ttft + "_count", labels, 120)]),
            ])
    }

    @Test func parsesSGLang() throws {
        let families = try PrometheusExposition.parse(PrometheusFixtures.sglang)
        let labels: KeyValuePairs<String, String> = ["model_name": "Qwen2.5-7B"]
        let itl = "sglang:inter_token_latency_seconds"
        func gauge(_ name: String, _ help: String, _ value: Double) -> MetricFamily {
            MetricFamily(name: name, type: .gauge, help: help, samples: [promSample(name, labels, value)])
        }
        func counter(_ name: String, _ help: String, _ value: Double) -> MetricFamily {
            MetricFamily(name: name, type: .counter, help: help, samples: [promSample(name, labels, value)])
        }
        #expect(
            families == [
                gauge("sglang:num_running_reqs", "The number of running requests.", 14),
                gauge("sglang:num_queue_reqs", "The number of requests in the waiting queue.", 0),
                gauge("sglang:token_usage", "The token usage.", 0.21),
                gauge("sglang:cache_hit_rate", "The prefix cache hit rate.", 0.5),
                counter("sglang:prompt_tokens_total", "Number of prefill tokens processed.", 90210),
                counter("sglang:generation_tokens_total", "Number of generation tokens processed.", 41000),
                counter("sglang:num_requests_total", "Number of requests processed.", 320),
                MetricFamily(
                    name: itl, type: .histogram, help: "Histogram of inter-token latency in seconds.",
                    samples: promBuckets(itl, labels, [("0.01", 30000), ("0.015", 40000), ("+Inf", 40680)])
                        + [promSample(itl + "_count", labels, 40680), promSample(itl + "_sum", labels, 366.12)]),
            ])
    }

    @Test func parsesTGI() throws {
        let families = try PrometheusExposition.parse(PrometheusFixtures.tgi)
        #expect(
            families == [
                MetricFamily(
                    name: "tgi_request_success", type: .counter, samples: [promSample("tgi_request_success", 42)]),
                MetricFamily(
                    name: "tgi_batch_inference_count", type: .counter,
                    samples: [
                        promSample("tgi_batch_inference_count", ["method": "prefill"], 40),
                        promSample("tgi_batch_inference_count", ["method": "decode"], 1800),
                    ]),
                MetricFamily(name: "tgi_queue_size", type: .gauge, samples: [promSample("tgi_queue_size", 3)]),
                MetricFamily(
                    name: "tgi_batch_current_size", type: .gauge, samples: [promSample("tgi_batch_current_size", 8)]),
                MetricFamily(
                    name: "tgi_request_duration", type: .histogram,
                    samples: promBuckets(
                        "tgi_request_duration",
                        [("0.5", 0), ("0.75", 6), ("1.125", 30), ("1.6875", 41), ("+Inf", 42)])
                        + [
                            promSample("tgi_request_duration_sum", 39.375),
                            promSample("tgi_request_duration_count", 42),
                        ]),
                MetricFamily(
                    name: "tgi_request_generated_tokens", type: .histogram,
                    samples: promBuckets("tgi_request_generated_tokens", [("64", 10), ("128", 42), ("+Inf", 42)])
                        + [
                            promSample("tgi_request_generated_tokens_sum", 4032),
                            promSample("tgi_request_generated_tokens_count", 42),
                        ]),
            ])
    }

    @Test func parsesLlamaCpp() throws {
        let families = try PrometheusExposition.parse(PrometheusFixtures.llamaCpp)
        func family(_ name: String, _ type: MetricType, _ help: String, _ value: Double) -> MetricFamily {
            MetricFamily(name: name, type: type, help: help, samples: [promSample(name, value)])
        }
        #expect(
            families == [
                family("llamacpp:prompt_tokens_total", .counter, "Number of prompt tokens processed.", 1_234_570),
                family("llamacpp:prompt_seconds_total", .counter, "Prompt process time", 412.5),
                family("llamacpp:tokens_predicted_total", .counter, "Number of generation tokens processed.", 98304),
                family(
                    "llamacpp:kv_cache_usage_ratio", .gauge, "KV-cache usage. 1 means 100 percent usage.", 0.125),
                family("llamacpp:requests_processing", .gauge, "Number of request processing.", 4),
                family("llamacpp:requests_deferred", .gauge, "Number of request deferred.", 1),
            ])
    }

    @Test func parsesLLMPerfServe() throws {
        let families = try PrometheusExposition.parse(PrometheusFixtures.llmperf)
        let ttft = "llmperf_time_to_first_token_seconds"
        #expect(
            families == [
                MetricFamily(
                    name: "llmperf_requests_total", type: .counter,
                    help: "HTTP requests answered, by endpoint and status code.",
                    samples: [
                        promSample("llmperf_requests_total", ["endpoint": "/metrics", "status": "200"], 12),
                        promSample(
                            "llmperf_requests_total", ["endpoint": "/v1/chat/completions", "status": "200"], 64),
                        promSample("llmperf_requests_total", ["endpoint": "/v1/chat/completions", "status": "400"], 1),
                    ]),
                MetricFamily(
                    name: "llmperf_prompt_tokens_total", type: .counter,
                    help: "Prompt tokens of requests admitted to generation.",
                    samples: [promSample("llmperf_prompt_tokens_total", 8192)]),
                MetricFamily(
                    name: "llmperf_generation_tokens_total", type: .counter, help: "Completion tokens sent.",
                    samples: [promSample("llmperf_generation_tokens_total", 4096)]),
                MetricFamily(
                    name: "llmperf_requests_running", type: .gauge, help: "Requests being generated (in flight).",
                    samples: [promSample("llmperf_requests_running", 4)]),
                MetricFamily(
                    name: "llmperf_requests_waiting", type: .gauge,
                    help: "Requests queued for a slot in the inference loop.",
                    samples: [promSample("llmperf_requests_waiting", 0)]),
                MetricFamily(
                    name: ttft, type: .histogram,
                    help: "Time from request arrival to the write of the first content token.",
                    samples: promBuckets(ttft, [("0.001", 0), ("0.005", 16), ("0.01", 48), ("+Inf", 64)])
                        + [promSample(ttft + "_sum", 0.512), promSample(ttft + "_count", 64)]),
            ])
    }

    @Test func unescapesLabelValuesAndHelp() throws {
        let text = #"""
            # HELP esc A \\ backslash, a \n newline, a \"quote\" and \t kept.
            # TYPE esc gauge
            esc{path="C:\\dir",quote="say \"hi\"",nl="a\nb",other="\d",utf="héllo ✓"} 1
            """#
        let families = try PrometheusExposition.parse(text)
        #expect(families.count == 1)
        #expect(families.first?.help == "A \\ backslash, a \n newline, a \\\"quote\\\" and \\t kept.")
        #expect(
            families.first?.samples == [
                promSample(
                    "esc",
                    [
                        "path": "C:\\dir", "quote": "say \"hi\"", "nl": "a\nb", "other": "\\d", "utf": "héllo ✓",
                    ], 1)
            ])
    }

    @Test func readsSpecialValuesExponentsAndTimestamps() throws {
        let text = """
            a +Inf
            b -Inf
            c NaN
            d 1e3
            e -2.5E-3
            f .5
            g 7.
            h 1.7976931348623157e308
            i 4.9e-324
            j 123456789012345678901
            k 0.1 1700000000000
            l -0 -5
            m +inf
            n Infinity
            o 12345678901234567.5e-2
            """
        let values = try PrometheusExposition.parse(text).map { ($0.name, $0.samples.map(\.value)) }
        #expect(values.map(\.0) == ["a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "l", "m", "n", "o"])
        let value = Dictionary(uniqueKeysWithValues: values.map { ($0.0, $0.1[0]) })
        #expect(value["a"] == .infinity && value["b"] == -.infinity && value["c"]?.isNaN == true)
        #expect(value["d"] == 1000 && value["e"] == -0.0025 && value["f"] == 0.5 && value["g"] == 7)
        #expect(value["h"] == .greatestFiniteMagnitude && value["i"] == .leastNonzeroMagnitude)
        #expect(value["j"] == 123_456_789_012_345_678_901.0 && value["k"] == 0.1)
        #expect(value["l"] == 0 && value["l"]?.sign == .minus)
        #expect(value["m"] == .infinity && value["n"] == .infinity)
        #expect(value["o"] == 123_456_789_012_345.675)
    }

    /// Decimals parsed on the fast path (≤ 15 digits, exponent within ±22) are the same doubles as
    /// the standard library's correctly rounded parse, as are the longer ones it hands over.
    @Test func decimalsAreCorrectlyRounded() throws {
        var generator = StatisticsRandom(seed: 7)
        var lines: [String] = []
        var expected: [Double] = []
        for index in 0..<4000 {
            let digits = String(UInt64.random(in: 0...UInt64.max, using: &generator)).prefix(
                Int.random(in: 1...19, using: &generator))
            let point = Int.random(in: 0...digits.count, using: &generator)
            var text = String(digits.prefix(point)) + "." + String(digits.dropFirst(point))
            if Bool.random(using: &generator) { text += "e\(Int.random(in: -30...30, using: &generator))" }
            lines.append("v\(index) \(text)")
            expected.append(try #require(Double(text)))
        }
        let families = try PrometheusExposition.parse(lines.joined(separator: "\n"))
        let wrong = zip(zip(lines, expected), families).filter { $0.0.1 != $0.1.samples[0].value }
            .map { "\($0.0.0) read as \($0.1.samples[0].value), not \($0.0.1)" }
        #expect(families.count == lines.count)
        #expect(wrong.isEmpty, "\(wrong.prefix(5))")
    }

    @Test func assignsSamplesToTheirFamilies() throws {
        let text = """
            # TYPE a counter
            a_total 1
            a_created 1700000000
            # TYPE b_total counter
            b_total 2
            # TYPE s summary
            s{quantile="0.5"} 0.2
            s_sum 3
            s_count 10
            # TYPE h histogram
            h_bucket{le="1"} 1
            h_bucket{le="+Inf"} 2
            h_sum 1.5
            h_count 2
            orphan_bucket{le="1"} 1
            a_sum 4
            # HELP x Helped but untyped.
            x 1
            x_total 2
            a_total 3
            """
        let families = try PrometheusExposition.parse(text)
        #expect(families.map(\.name) == ["a", "b_total", "s", "h", "orphan_bucket", "a_sum", "x", "x_total"])
        #expect(
            families.map(\.type) == [.counter, .counter, .summary, .histogram, .untyped, .untyped, .untyped, .untyped])
        #expect(families[0].samples.map(\.name) == ["a_total", "a_created", "a_total"])
        #expect(families[0].samples.map(\.value) == [1, 1_700_000_000, 3])
        #expect(families[2].samples.map(\.name) == ["s", "s_sum", "s_count"])
        #expect(families[3].samples.map(\.name) == ["h_bucket", "h_bucket", "h_sum", "h_count"])
        #expect(families[6].help == "Helped but untyped.")
        #expect(families[6].samples == [promSample("x", 1)])
    }

    @Test func toleratesBlanksCommentsCRLFTrailingCommaAndEOF() throws {
        let text =
            "  \t# TYPE w gauge\r\n"
            + "w { a = \"1\" , b=\"2\", }   5   \r\n"
            + "\n   \n# a comment\n#\n# HELP\n# UNIT w seconds\n"
            + "w2{} 1\n"
            + "# EOF\n\n  \n"
        let families = try PrometheusExposition.parse(text)
        #expect(
            families == [
                MetricFamily(name: "w", type: .gauge, samples: [promSample("w", ["a": "1", "b": "2"], 5)]),
                MetricFamily(name: "w2", type: .untyped, samples: [promSample("w2", 1)]),
            ])
        #expect(try PrometheusExposition.parse("") == [])
        #expect(try PrometheusExposition.parse("# only comments\n\n") == [])
    }

    /// Malformed lines fail with the line, the column (in characters) and what was wrong.
    @Test(arguments: [
        (#"foo{model="x" 1"#, #"line 1, column 15: expected ',' or '}' after the value of label 'model', found '1'"#),
        (
            "# HELP x\n\n" + #"vllm:x{model "a"} 1"#,
            #"line 3, column 14: expected '=' after label name 'model', found '"'"#
        ),
        (#"foo{a="x} 1"#, "line 1, column 12: the value of label 'a' is not closed before the end of the line"),
        (#"foo{a="x\"#, "line 1, column 10: the value of label 'a' is not closed before the end of the line"),
        ("foo 1.2.3", "line 1, column 5: invalid value '1.2.3' for 'foo'"),
        ("foo 0x1p3", "line 1, column 5: invalid value '0x1p3' for 'foo'"),
        (#"foo{a="b"}"#, "line 1, column 11: expected a value for 'foo', found end of line"),
        ("foo 1 12.5", "line 1, column 7: invalid timestamp '12.5' for 'foo': expected an integer (milliseconds)"),
        (
            "foo 1 99999999999999999999",
            "line 1, column 7: timestamp '99999999999999999999' for 'foo' is out of range"
        ),
        ("foo 1 2 3", "line 1, column 9: unexpected text after the timestamp of 'foo': '3'"),
        (
            "# TYPE foo gauges",
            "line 1, column 12: unknown metric type 'gauges' for 'foo' (expected counter, gauge, histogram, summary or untyped)"
        ),
        ("# TYPE foo", "line 1, column 11: expected a metric type after 'foo', found end of line"),
        ("# TYPE foo gauge\n# TYPE foo counter", "line 2, column 8: second TYPE line for 'foo'"),
        ("# HELP foo a\n# HELP foo b", "line 2, column 8: second HELP line for 'foo'"),
        ("foo 1\n# TYPE foo gauge", "line 2, column 8: TYPE line for 'foo' comes after its samples"),
        (
            "# TYPE h histogram\n" + #"h_bucket{x="1"} 3"#,
            "line 2, column 1: histogram bucket 'h_bucket' has no 'le' label"
        ),
        (
            "# TYPE h histogram\n" + #"h_bucket{le="fast"} 3"#,
            "line 2, column 1: invalid 'le' value 'fast' in histogram bucket 'h_bucket'"
        ),
        (
            "# TYPE h histogram\nh 3",
            "line 2, column 1: sample 'h' of histogram 'h' needs a _bucket, _sum or _count suffix"
        ),
        ("# TYPE s summary\ns 3", "line 2, column 1: summary quantile 's' has no 'quantile' label"),
        (#"foo{a="1",a="2"} 1"#, "line 1, column 11: duplicate label name 'a'"),
        ("9foo 1", "line 1, column 1: expected a metric name or '#', found '9'"),
        ("foo-bar 1", "line 1, column 4: unexpected character '-' after metric name 'foo'"),
        (#"foo{1a="x"} 1"#, "line 1, column 5: expected a label name or '}', found '1'"),
        ("foo{,} 1", "line 1, column 5: expected a label name or '}', found ','"),
        (#"foo{a=x} 1"#, #"line 1, column 7: expected '"' to open the value of label 'a', found 'x'"#),
        (#"foo{a="héllo",b} 1"#, "line 1, column 16: expected '=' after label name 'b', found '}'"),
        ("# TYPE 1x gauge", "line 1, column 8: expected a metric name after '# TYPE', found '1'"),
        ("foo 1\n# EOF\nbar 2", "line 3, column 1: unexpected content after '# EOF'"),
        ("foo\u{1} 1", "line 1, column 4: unexpected character '\\u{1}' after metric name 'foo'"),
    ])
    func malformedInputFailsWithPosition(text: String, expected: String) {
        #expect(throws: (any Error).self) { try PrometheusExposition.parse(text) }
        do {
            _ = try PrometheusExposition.parse(text)
        } catch {
            #expect((error as? PrometheusParseError)?.description == expected)
        }
    }

    @Test func labelTextReadsBack() throws {
        let sample = MetricSample(
            name: "x", labels: [MetricLabel("z", "a \"b\" \\ c\nd"), MetricLabel("a", "plain")], value: 1)
        #expect(try MetricSample.labels(fromText: sample.labelText) == sample.labels)
        #expect(try MetricSample.labels(fromText: "") == [])
        #expect(throws: PrometheusParseError(line: 1, column: 1, message: "expected '{', found 'a'")) {
            try MetricSample.labels(fromText: #"a="1""#)
        }
        #expect(
            throws: PrometheusParseError(line: 1, column: 8, message: "unexpected text after the label set: ' '")
        ) {
            try MetricSample.labels(fromText: #"{a="1"} 2"#)
        }
    }

    /// Every prefix of these fixtures, and TGI's with any one byte dropped, parses or throws a
    /// `PrometheusParseError`: nothing traps (FuzzPrometheusText tries far more).
    @Test func truncatedAndDamagedFixturesNeverTrap() {
        for fixture in [PrometheusFixtures.vllm, PrometheusFixtures.tgi, PrometheusFixtures.llmperf] {
            let bytes = Array(fixture.utf8)
            for end in 0...bytes.count {
                _ = try? PrometheusExposition.parse(String(decoding: bytes[..<end], as: UTF8.self))
            }
        }
        let bytes = Array(PrometheusFixtures.tgi.utf8)
        for dropped in bytes.indices {
            var damaged = bytes
            damaged.remove(at: dropped)
            _ = try? PrometheusExposition.parse(String(decoding: damaged, as: UTF8.self))
        }
    }
}
