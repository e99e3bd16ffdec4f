import FuzzDriver
import LLMPerfCore

/// libFuzzer entry: the input is a server's `/metrics` answer (bytes, repaired to UTF-8 as the
/// scraper decodes them). Parsing may fail with a `PrometheusParseError` at a line and column of
/// the text; it must never crash, hang or trap. What parses must be well formed: every sample's
/// labels sorted and unique and read back from their `labelText`, every histogram bucket with a
/// numeric `le`; and the readers behind a run's reconciliation (histogram snapshots, quantiles,
/// the catalog's values, series over two scrapes) must take any of it without trapping.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzPrometheusText(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    let families: [MetricFamily]
    do {
        families = try PrometheusExposition.parse(text)
    } catch let error as PrometheusParseError {
        let lines = text.utf8.reduce(1) { $1 == 0x0A ? $0 + 1 : $0 }
        precondition(error.line >= 1 && error.line <= lines, "an error on a line of the text")
        precondition(error.column >= 1, "an error at a column")
        _ = error.description
        return 0
    } catch {
        preconditionFailure("parse threw \(error), not a PrometheusParseError")
    }
    var samples: [MetricSample] = []
    for family in families {
        for sample in family.samples {
            precondition(
                zip(sample.labels, sample.labels.dropFirst()).allSatisfy { $0.name < $1.name },
                "labels sorted, each name once")
            guard let read = try? MetricSample.labels(fromText: sample.labelText), read == sample.labels else {
                preconditionFailure("labelText reads back: \(sample.labelText)")
            }
            if family.type == .histogram, sample.name == family.name + "_bucket" {
                precondition(sample.label("le") != nil, "a bucket has an le label")
            }
        }
        if family.type == .histogram, let snapshot = HistogramSnapshot.from(samples: family.samples, name: family.name)
        {
            for q in [0, 0.5, 0.9, 0.99, 1] { _ = snapshot.quantile(q) }
            _ = snapshot.subtracting(snapshot).mean
        }
        _ = ServerMetricCatalog.meaning(ofFamily: family.name)
        samples += family.samples
    }
    // The same samples as two scrapes a second apart, through everything a run reads from them.
    let scrapes = [
        MetricsScrape(sequence: 1, atNanos: 0, durationNanos: 0, samples: []),
        MetricsScrape(sequence: 2, atNanos: 1_000_000_000, durationNanos: 0, samples: samples),
    ]
    for meaning in ServerMetricMeaning.allCases { _ = ServerMetricSeries.series(meaning, from: scrapes) }
    let client = MetricsReconciliation.ClientSide(
        ttftMillis: .init(p50: 1, p90: 2, p99: 3), e2eMillis: .init(p50: 1), outputTokens: 1, promptTokens: 1,
        requests: 1)
    _ = MetricsReconciliation.reconcile(scrapes: scrapes, client: client)
    return 0
}

/// The executable's entry point (SwiftPM's name for it): libFuzzer with this target's input.
@_cdecl("FuzzPrometheusText_main")
public func fuzzPrometheusTextMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    llmperf_fuzz_main(argc, argv) { data, size in
        guard let data else { return 0 }
        return fuzzPrometheusText(data, size)
    }
}
