import Foundation
import Testing

@testable import LLMPerfCore

/// `ScenarioTemplate.variableNames(in:)` and `references(in:)`: the variables a text names, found
/// without reading any value (what `kube render` turns into secret references).
@Suite("Scenario variable names")
struct ScenarioVariableNamesTests {
    @Test func namesEachVariableOnceInOrder() {
        let text = """
            url: ${BASE_URL:-https://api.example.com/v1}
            headers:
              Authorization: Bearer ${API_KEY}
              x-org: ${ORG_ID}-${API_KEY}
            """
        #expect(ScenarioTemplate.variableNames(in: text) == ["BASE_URL", "API_KEY", "ORG_ID"])
        #expect(
            ScenarioTemplate.references(in: text) == [
                .init(name: "BASE_URL", hasFallback: true), .init(name: "API_KEY", hasFallback: false),
                .init(name: "ORG_ID", hasFallback: false), .init(name: "API_KEY", hasFallback: false),
            ])
    }

    @Test func skipsLiteralsAndWhatIsNotAReference() {
        #expect(ScenarioTemplate.variableNames(in: "$${NOT_A_VAR} $HOME ${1BAD} ${with space} ${OK}") == ["OK"])
        #expect(ScenarioTemplate.variableNames(in: "cost: $5 and ${UNTERMINATED") == [])
        #expect(ScenarioTemplate.variableNames(in: "no templates here") == [])
    }

    @Test func agreesWithTheExpansion() throws {
        let text = "Bearer ${TOKEN} for ${USER_NAME:-anyone}"
        let expansion = try ScenarioTemplate.expand(text, environment: ["TOKEN": "t"]).get()
        #expect(ScenarioTemplate.references(in: text).map(\.name) == expansion.variables)
    }
}
