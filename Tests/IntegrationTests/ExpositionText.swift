import Foundation
import LLMPerfCore

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// A Prometheus text exposition as the tests read it (parsed by `PrometheusExposition`, the parser the scraper
/// uses): its samples, and the series names its families declare (a histogram's `_bucket`, `_sum` and `_count`
/// included), so a name counts as exposed before its first sample.
struct ExpositionText {
    var samples: [MetricSample] = []
    var declared: Set<String> = []

    init(_ text: String) throws {
        for family in try PrometheusExposition.parse(text) {
            declared.insert(family.name)
            if family.type == .histogram || family.type == .summary {
                declared.formUnion(["_bucket", "_sum", "_count"].map { family.name + $0 })
            }
            samples += family.samples
        }
    }

    /// Every name exposed: declared by a `# TYPE` line or written in a sample.
    var names: Set<String> { declared.union(samples.map(\.name)) }

    /// The sum of the samples of `name` whose labels include `labels`; nil when there is none.
    func value(_ name: String, _ labels: [String: String] = [:]) -> Double? {
        let matching = samples.filter { sample in
            sample.name == name && labels.allSatisfy { sample.label($0.key) == $0.value }
        }
        return matching.isEmpty ? nil : matching.reduce(0) { $0 + $1.value }
    }

    /// GET `url`; nil when nothing answers (yet, or any more).
    static func scrape(_ url: String) -> ExpositionText? { try? fetch(url).get() }

    /// GET `url`, or why it failed. Blocking, on purpose: a test that polls on Swift's cooperative threads can
    /// wait seconds for one while other suites block them, and miss what it polls for.
    static func fetch(_ url: String) -> Result<ExpositionText, any Error> {
        var request = URLRequest(url: URL(string: url)!)
        request.timeoutInterval = 5
        let answer = Answer()
        URLSession.shared.dataTask(with: request) { data, response, error in
            answer.set(data: data, status: (response as? HTTPURLResponse)?.statusCode ?? 0, error: error)
        }.resume()
        return answer.wait()
    }

    /// One response, handed from URLSession's queue to the waiting test.
    private final class Answer: @unchecked Sendable {
        private let done = DispatchSemaphore(value: 0)
        private var result: Result<ExpositionText, any Error> = .failure(HTTPStatus(code: 0))

        func set(data: Data?, status: Int, error: (any Error)?) {
            if let error {
                result = .failure(error)
            } else if status != 200 {
                result = .failure(HTTPStatus(code: status))
            } else {
                result = Result { try ExpositionText(String(decoding: data ?? Data(), as: UTF8.self)) }
            }
            done.signal()
        }

        func wait() -> Result<ExpositionText, any Error> {
            done.wait()
            return result
        }
    }

    struct HTTPStatus: Error {
        var code: Int
    }
}
