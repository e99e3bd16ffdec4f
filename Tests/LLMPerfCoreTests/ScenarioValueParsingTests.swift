import Foundation
import Testing

@testable import LLMPerfCore

/// The small readers the loader is built on: durations, rates, `${VAR}` templates, the
/// did-you-mean, SHA-256 and the seeded generator.
@Suite("Scenario value parsing")
struct ScenarioValueParsingTests {
    @Test func durationsNeedAUnitAndAreExact() {
        #expect(DurationParser.parse("250ms") == .milliseconds(250))
        #expect(DurationParser.parse("1.5s") == .milliseconds(1500))
        #expect(DurationParser.parse("2m") == .seconds(120))
        #expect(DurationParser.parse("1h") == .seconds(3600))
        #expect(DurationParser.parse("100us") == .microseconds(100))
        #expect(DurationParser.parse("100µs") == .microseconds(100))
        #expect(DurationParser.parse("10ns") == .nanoseconds(10))
        #expect(DurationParser.parse(".5s") == .milliseconds(500))
        #expect(DurationParser.parse("0.001ms") == .nanoseconds(1000))
        #expect(DurationParser.parse("1.5ns") == .nanoseconds(2))
        #expect(DurationParser.parse(" 30 s ") == .seconds(30))
        #expect(DurationParser.parse("0s") == .zero)
        for invalid in ["30", "", "s", "1.s", "-1s", "1e3ms", "1m30s", "1.2.3s", "ten s", "99999999999999h"] {
            #expect(DurationParser.parse(invalid) == nil, "\(invalid)")
        }
    }

    @Test func ratesPerSecond() {
        #expect(RateParser.perSecond("10") == 10)
        #expect(RateParser.perSecond("10/s") == 10)
        #expect(RateParser.perSecond("2.5/s") == 2.5)
        #expect(RateParser.perSecond("120/m") == 2)
        #expect(RateParser.perSecond("3600/h") == 1)
        for invalid in ["0", "-1/s", "10/sec", "abc", "/s", "1e2", "inf", ""] {
            #expect(RateParser.perSecond(invalid) == nil, "\(invalid)")
        }
    }

    @Test func templates() {
        let environment = ["A": "alpha", "EMPTY": ""]
        func expand(_ text: String) -> Result<ScenarioTemplate.Expansion, ScenarioTemplate.Failure> {
            ScenarioTemplate.expand(text, environment: environment)
        }
        #expect(expand("x ${A} y") == .success(.init(value: "x alpha y", variables: ["A"])))
        #expect(expand("${MISSING:-https://d}") == .success(.init(value: "https://d", variables: ["MISSING"])))
        #expect(expand("${EMPTY:-fallback}") == .success(.init(value: "fallback", variables: ["EMPTY"])))
        #expect(expand("${EMPTY}") == .success(.init(value: "", variables: ["EMPTY"])))
        #expect(expand("$${A} $5 $") == .success(.init(value: "${A} $5 $", variables: [])))
        #expect(expand("${MISSING}") == .failure(.missingVariable("MISSING")))
        #expect(
            expand("${1A}")
                == .failure(.malformed("'${1A}' is not a variable reference; expected ${NAME} or ${NAME:-default}")))
        #expect(
            expand("${A")
                == .failure(.malformed("unterminated '${' (close it with '}', or write '$${' for a literal '${')")))
    }

    @Test func suggestions() {
        #expect(ScenarioSuggestion.editDistance("kitten", "sitting") == 3)
        #expect(ScenarioSuggestion.editDistance("", "abc") == 3)
        #expect(ScenarioSuggestion.closest(to: "concurency", in: ScenarioDecoder.loadKeys) == "concurrency")
        #expect(ScenarioSuggestion.closest(to: "max-tokens", in: ScenarioDecoder.workloadKeys) == "max_tokens")
        #expect(ScenarioSuggestion.closest(to: "Requests", in: ScenarioDecoder.loadKeys) == "requests")
        #expect(ScenarioSuggestion.closest(to: "banana", in: ScenarioDecoder.loadKeys) == nil)
        #expect(ScenarioSuggestion.closest(to: "3", in: ["2", "1.1"]) == nil)
    }

    @Test func sha256TestVectors() {
        #expect(ScenarioDigest.sha256Hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(ScenarioDigest.sha256Hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(
            ScenarioDigest.sha256Hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")
                == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        #expect(
            ScenarioDigest.sha256Hex(
                "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu"
            ) == "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1")
        #expect(
            ScenarioDigest.sha256Hex([UInt8](repeating: 0x61, count: 1_000_000))
                == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    @Test func splitMix64ReferenceOutputs() {
        var random = ScenarioRandom(seed: 1_234_567)
        let outputs = (0..<5).map { _ in random.next() }
        #expect(
            outputs == [
                6_457_827_717_110_365_317, 3_203_168_211_198_807_973, 9_817_491_932_198_370_423,
                4_593_380_528_125_082_431, 16_408_922_859_458_223_821,
            ])
    }

    @Test func unitIntervalExcludesZero() {
        var random = ScenarioRandom(seed: 0)
        for _ in 0..<10_000 {
            let u = random.nextUnitInterval()
            #expect(u > 0 && u <= 1)
        }
        var bounded = ScenarioRandom(seed: 3)
        #expect((0..<1000).allSatisfy { _ in bounded.next(below: 7) < 7 })
    }
}
