import Foundation

/// The server's account of a run beside the client's: TTFT and end-to-end latency at p50, p90 and
/// p99, tokens out and in, requests finished; one row for each number both sides have.
///
/// The server's side is what its `/metrics` counted between the first and the last successful
/// scrape of the run, so traffic before the run (or another client's before it) is left out:
/// the TTFT and end-to-end histograms' differences between those two scrapes, their quantiles by
/// `HistogramSnapshot.quantile` in milliseconds, and the counters' increases (a counter that
/// resets in between counts from zero after the reset, as Prometheus's `increase` does). Those
/// quantiles are interpolated inside the server's buckets, so they carry up to a bucket's width as
/// error: a difference smaller than that says nothing. Failed scrapes are ignored; with fewer than
/// two successful scrapes there is no server side, and no rows.
public struct MetricsReconciliation: Sendable, Equatable {
    /// A row's unit: durations in milliseconds, token counts, request counts.
    public enum Unit: String, Sendable, Equatable {
        case milliseconds = "ms"
        case tokens
        case requests

        /// The same unit as the reports know it; nil for a count of requests, which they have no unit for.
        public var measureUnit: MeasureUnit? {
            switch self {
            case .milliseconds: .milliseconds
            case .tokens: .tokens
            case .requests: nil
            }
        }
    }

    public struct Row: Sendable, Equatable {
        /// What is compared, e.g. `TTFT p50`.
        public var what: String
        public var server: Double?
        public var client: Double?
        public var unit: Unit

        public init(what: String, server: Double?, client: Double?, unit: Unit) {
            self.what = what
            self.server = server
            self.client = client
            self.unit = unit
        }

        /// client − server: positive when the client saw more (a longer latency: time the server does
        /// not see, such as the network and the client itself).
        public var difference: Double? {
            guard let server, let client else { return nil }
            return client - server
        }
    }

    /// p50, p90 and p99 of a latency, in milliseconds; nil where unknown.
    public struct Quantiles: Sendable, Equatable {
        public var p50: Double?
        public var p90: Double?
        public var p99: Double?
        /// The mean: the server's comes from the histogram's sum and count, exact, with no bucket's width in it.
        public var mean: Double?

        public init(p50: Double? = nil, p90: Double? = nil, p99: Double? = nil, mean: Double? = nil) {
            self.mean = mean
            self.p50 = p50
            self.p90 = p90
            self.p99 = p99
        }
    }

    /// The client's numbers over the same window.
    public struct ClientSide: Sendable, Equatable {
        public var ttftMillis: Quantiles
        public var e2eMillis: Quantiles
        public var outputTokens: Int
        /// Nil when the responses did not say (no usage reported).
        public var promptTokens: Int?
        /// Requests that finished successfully.
        public var requests: Int

        public init(
            ttftMillis: Quantiles = Quantiles(), e2eMillis: Quantiles = Quantiles(), outputTokens: Int,
            promptTokens: Int? = nil, requests: Int
        ) {
            self.ttftMillis = ttftMillis
            self.e2eMillis = e2eMillis
            self.outputTokens = outputTokens
            self.promptTokens = promptTokens
            self.requests = requests
        }
    }

    public var rows: [Row]
    /// The server the metrics were recognized as (`ServerMetricCatalog.Entry.server`); nil when none.
    public var server: String?

    public init(rows: [Row], server: String? = nil) {
        self.rows = rows
        self.server = server
    }

    public static func reconcile(scrapes: [MetricsScrape], client: ClientSide) -> MetricsReconciliation {
        let successful = scrapes.filter { $0.error == nil }.sorted { $0.atNanos < $1.atNanos }
        guard successful.count >= 2 else { return MetricsReconciliation(rows: []) }
        var rows: [Row] = []
        var server: String?
        func add(_ what: String, _ serverValue: Double?, _ clientValue: Double?, _ unit: Unit) {
            guard let serverValue, let clientValue else { return }
            rows.append(Row(what: what, server: serverValue, client: clientValue, unit: unit))
        }
        for (meaning, label, quantiles) in [
            (ServerMetricMeaning.ttftSeconds, "TTFT", client.ttftMillis), (.e2eSeconds, "E2E", client.e2eMillis),
        ] {
            guard let entry = ServerMetricCatalog.entry(for: meaning, in: successful) else { continue }
            server = server ?? entry.server
            let window = histogramWindow(entry, successful)
            add("\(label) mean", window?.mean.map { $0 * 1000 }, quantiles.mean, .milliseconds)
            for (name, q, clientValue) in [
                ("p50", 0.5, quantiles.p50), ("p90", 0.9, quantiles.p90), ("p99", 0.99, quantiles.p99),
            ] {
                add("\(label) \(name)", window?.quantile(q).map { $0 * 1000 }, clientValue, .milliseconds)
            }
        }
        for (meaning, what, clientValue, unit) in [
            (ServerMetricMeaning.generationTokensTotal, "Output tokens", Double(client.outputTokens), Unit.tokens),
            (.promptTokensTotal, "Prompt tokens", client.promptTokens.map(Double.init), .tokens),
            (.requestsTotal, "Requests", Double(client.requests), .requests),
        ] {
            guard let entry = ServerMetricCatalog.entry(for: meaning, in: successful) else { continue }
            server = server ?? entry.server
            add(what, increase(entry, successful), clientValue, unit)
        }
        return MetricsReconciliation(rows: rows, server: server)
    }

    /// The histogram's observations between the first and the last scrape (all of the last's when
    /// it was absent at first: created on first use, or reset in between); nil when the last lacks it.
    static func histogramWindow(_ entry: ServerMetricCatalog.Entry, _ scrapes: [MetricsScrape]) -> HistogramSnapshot? {
        guard let first = scrapes.first, let last = scrapes.last, let end = entry.histogram(in: last.samples) else {
            return nil
        }
        guard let start = entry.histogram(in: first.samples) else { return end }
        return end.subtracting(start)
    }

    /// A counter's increase over the scrapes, counted from zero after each reset; nil when no scrape has it.
    static func increase(_ entry: ServerMetricCatalog.Entry, _ scrapes: [MetricsScrape]) -> Double? {
        let values = ServerMetricSeries.counterValues(entry, scrapes).map(\.value)
        guard var previous = values.first else { return nil }
        var total = 0.0
        for value in values.dropFirst() {
            total += value >= previous ? value - previous : value
            previous = value
        }
        return total
    }
}

extension MetricsReconciliation.ClientSide {
    /// The client's side from a run's requests (see `Tally`).
    public init(traces: some Sequence<RequestTrace>) {
        var tally = Tally()
        for trace in traces { tally.add(trace) }
        self = tally.side
    }

    /// Adds up the client's side one request at a time: every successful request, warmup included and whatever
    /// the run's steady-state window, since the server's counters and histograms between the first scrape
    /// (before the first request) and the last (after the last) saw all of them. TTFT and e2e (the whole
    /// request, `Metric.total`) quantiles and means, output tokens, and prompt tokens when every request
    /// reported them.
    public struct Tally: Sendable {
        private var ttft: [Double] = []
        private var e2e: [Double] = []
        private var outputTokens = 0
        private var promptTokens = 0
        private var promptKnown = true
        private var ok = 0

        public init() {}

        public mutating func add(_ trace: RequestTrace) {
            guard trace.outcome == .ok else { return }
            ok += 1
            if let value = Metric.ttft.value(of: trace) { ttft.append(value) }
            if let value = Metric.total.value(of: trace) { e2e.append(value) }
            outputTokens += trace.outputTokens
            if let prompt = trace.usage?.promptTokens { promptTokens += prompt } else { promptKnown = false }
        }

        public var side: MetricsReconciliation.ClientSide {
            func quantiles(_ values: [Double]) -> MetricsReconciliation.Quantiles {
                guard !values.isEmpty else { return MetricsReconciliation.Quantiles() }
                let sorted = values.sorted()
                return MetricsReconciliation.Quantiles(
                    p50: Quantile.of(sorted: sorted, 0.5), p90: Quantile.of(sorted: sorted, 0.9),
                    p99: Quantile.of(sorted: sorted, 0.99), mean: ExactSum(sorted).value / Double(sorted.count))
            }
            return MetricsReconciliation.ClientSide(
                ttftMillis: quantiles(ttft), e2eMillis: quantiles(e2e), outputTokens: outputTokens,
                promptTokens: promptKnown && ok > 0 ? promptTokens : nil, requests: ok)
        }
    }
}
