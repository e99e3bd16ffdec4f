import Testing

@testable import InferenceServer

@Suite struct ArrivalStampTests {
    @Test func firstReadAfterATakeIsTheArrival() {
        let stamp = ArrivalStamp()
        stamp.stampIfArmed(5)  // the request's first bytes
        stamp.stampIfArmed(7)  // more of the same request
        #expect(stamp.take() == 5)
        #expect(stamp.take() == nil)  // nothing read since
        stamp.stampIfArmed(9)  // the next request on the connection
        #expect(stamp.take() == 9)
    }
}
