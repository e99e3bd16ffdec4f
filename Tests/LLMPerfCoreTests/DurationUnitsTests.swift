import Testing

@testable import LLMPerfCore

@Suite("Duration units")
struct DurationUnitsTests {
    @Test func wholeNanosecondsDropsTheFractionAndClampsNegatives() {
        #expect(Duration.milliseconds(1_500).wholeNanoseconds == 1_500_000_000)
        #expect((Duration.nanoseconds(7) + .seconds(2)).wholeNanoseconds == 2_000_000_007)
        #expect(Duration(secondsComponent: 0, attosecondsComponent: 999_999_999).wholeNanoseconds == 0)
        #expect(Duration.seconds(-3).wholeNanoseconds == 0)
        #expect(Duration.zero.wholeNanoseconds == 0)
    }

    @Test func millisecondsAndSecondsAsDoubles() {
        #expect(Duration.milliseconds(250).millisecondsValue == 250)
        #expect(Duration.microseconds(1_500).millisecondsValue == 1.5)
        #expect(Duration.seconds(2).millisecondsValue == 2_000)
        #expect(Duration.milliseconds(1_500).secondsValue == 1.5)
        #expect(Duration.seconds(30).secondsValue == 30)
    }
}
