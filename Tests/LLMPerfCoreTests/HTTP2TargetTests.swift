import LLMPerfCore
import Testing

/// `http: 2` over cleartext with `connection: reuse` is refused at load time: libcurl 7.88.1
/// fails every request after the first on a reused prior-knowledge (h2c) connection.
@Suite struct HTTP2TargetTests {
    private func load(_ target: String) throws -> TargetSpec {
        let yaml = """
            version: 1
            name: h2
            target: \(target)
            workload: { prompts: ["hi"] }
            load: { concurrency: 1, requests: 1 }
            """
        return try #require(try ScenarioLoader.load(yaml: yaml, path: "scenarios/h2.yml", environment: [:]).runs.first)
            .target
    }

    @Test(arguments: [
        #"{ url: "http://127.0.0.1:8000/v1", model: m, http: 2 }"#,
        #"{ url: "http://127.0.0.1:8000/v1", model: m, http: 2, connection: reuse }"#,
        #"{ backend: local, engine: synthetic, http: 2 }"#,
    ])
    func cleartextReuseIsRejected(target: String) throws {
        do {
            _ = try load(target)
            Issue.record("loaded: \(target)")
        } catch let error as ScenarioError {
            #expect(error.kind == .conflict)
            #expect("\(error)".contains("target.http"), "\(error)")
            #expect("\(error)".contains("connection: new"), "\(error)")
        }
    }

    @Test(arguments: [
        #"{ url: "https://api.example.com/v1", model: m, http: 2 }"#,
        #"{ url: "http://127.0.0.1:8000/v1", model: m, http: 2, connection: new }"#,
        #"{ url: "http://127.0.0.1:8000/v1", model: m, http: "1.1" }"#,
        #"{ backend: local, engine: synthetic, tls: true, http: 2 }"#,
    ])
    func otherCombinationsLoad(target: String) throws {
        _ = try load(target)
    }
}
