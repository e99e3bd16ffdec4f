import Foundation
import Testing

@testable import InferenceServer

@Suite("Components")
struct ComponentTests {
    private func feed(_ matcher: inout StopSequenceMatcher, _ text: String) -> String {
        let (out, matched) = matcher.feed(text)
        return matched ? out + "|STOP" : out
    }

    @Test func stopMatcherHoldsBackPartialMatches() {
        var matcher = StopSequenceMatcher(sequences: ["END", "xyz"])
        #expect(feed(&matcher, "abc E") == "abc ")
        #expect(feed(&matcher, "N") == "")
        #expect(feed(&matcher, "Dtail") == "|STOP")
    }

    @Test func stopMatcherReleasesFalseStarts() {
        var matcher = StopSequenceMatcher(sequences: ["END"])
        #expect(feed(&matcher, "E") == "")
        #expect(feed(&matcher, "x") == "Ex")
        #expect(feed(&matcher, "EN") == "")
        #expect(matcher.drain() == "EN")
        var other = StopSequenceMatcher(sequences: ["b", "abc"])
        #expect(feed(&other, "xxab") == "xxa|STOP")
    }

    @Test func stopSequencesAreTrimmedAcrossPieces() {
        var matcher = StopSequenceMatcher(sequences: ["</end>"])
        var out = ""
        var matched = false
        for piece in ["Hello", " wor", "ld</", "en", "d> tail"] {
            let result = matcher.feed(piece)
            out += result.text
            if result.matched {
                matched = true
                break
            }
        }
        #expect(matched)
        #expect(out == "Hello world")
        var other = StopSequenceMatcher(sequences: ["STOP"])
        #expect(other.feed("abc ST").text == "abc ")
        #expect(other.drain() == "ST")
    }

    @Test func syntheticPromptTokenCounts() throws {
        let engine = SyntheticEngine()
        #expect(try engine.prepare(.completion("  one two\tthree\nfour ")).tokenCount == 4)
        #expect(try engine.prepare(.completion("")).tokenCount == 0)
        let chat = try engine.prepare(
            .chat([.init(role: "system", content: "be brief"), .init(role: "user", content: "hi")]))
        #expect(chat.tokenCount == 6)
    }

    @Test func syntheticBatchesEverythingDueAtZeroLatency() async throws {
        let engine = SyntheticEngine()
        let stream = engine.generate(
            GenerationRequest(
                requestID: "r", prompt: PreparedPrompt(text: "", tokenCount: 0), maxTokens: 600,
                maxTokensRequested: true,
                temperature: nil, topP: nil, seed: nil, arrivalNanos: MonotonicClock.nowNanos()))
        var sizes: [Int] = []
        var finish: GenerationFinish?
        for try await batch in stream {
            sizes.append(batch.pieces.count)
            finish = batch.finish ?? finish
        }
        #expect(sizes == [256, 256, 88])
        #expect(finish?.reason == .length)
    }

    @Test func errorBodyShape() {
        let error = APIError.invalidRequest("bad \"x\"", param: "max_tokens", code: "invalid_value")
        #expect(
            error.body
                == #"{"error":{"message":"bad \"x\"","type":"invalid_request_error","param":"max_tokens","code":"invalid_value"}}"#
        )
        #expect(APIError.invalidRequest("m").body.contains(#""param":null,"code":null"#))
    }
}

@Suite("Generation channel")
struct GenerationChannelTests {
    @Test func coalescesPiecesFromAnotherThread() async throws {
        let channel = GenerationChannel(responseHeaders: [(name: "x-cache", value: "miss")])
        let stream = channel.stream
        #expect(stream.responseHeaders.first?.value == "miss")
        let producer = Thread {
            for index in 0..<1000 { channel.yield(GeneratedPiece(text: "t\(index)")) }
            channel.finish(GenerationFinish(reason: .length, usageDetails: UsageDetails(cachedPromptTokens: 7)))
        }
        producer.start()
        var texts: [String] = []
        var batches = 0
        var finish: GenerationFinish?
        for try await batch in stream {
            batches += 1
            texts += batch.pieces.map(\.text)
            if let batchFinish = batch.finish { finish = batchFinish }
        }
        #expect(texts == (0..<1000).map { "t\($0)" })
        #expect(batches >= 1 && batches <= 1001)
        #expect(finish?.usageDetails.cachedPromptTokens == 7)
    }

    /// Pieces queued while nobody is reading come out together: a consumer that starts after the
    /// producer (another thread) has queued 1000 pieces and the finish gets them in one batch.
    @Test func piecesQueuedBeforeTheConsumerReadsComeOutAsOneBatch() async throws {
        let channel = GenerationChannel()
        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
            Thread {
                for index in 0..<1000 { channel.yield(GeneratedPiece(text: "t\(index)")) }
                channel.finish(GenerationFinish(reason: .length, usageDetails: UsageDetails()))
                done.resume()
            }.start()
        }
        var sizes: [Int] = []
        var finished = false
        for try await batch in channel.stream {
            sizes.append(batch.pieces.count)
            finished = finished || batch.finish != nil
        }
        #expect(sizes == [1000], "batch sizes \(sizes)")
        #expect(finished)
    }

    @Test func cancelStopsTheProducerSide() async throws {
        let channel = GenerationChannel()
        channel.yield(GeneratedPiece(text: "a"))
        let stream = channel.stream
        var iterator = stream.makeAsyncIterator()
        #expect(try await iterator.next()?.pieces.count == 1)
        stream.cancel()
        #expect(channel.isCancelled)
        channel.yield(GeneratedPiece(text: "b"))
        #expect(try await iterator.next() == nil)
    }

    @Test func failurePropagates() async throws {
        struct Broken: Error {}
        let channel = GenerationChannel()
        channel.fail(Broken())
        var iterator = channel.stream.makeAsyncIterator()
        await #expect(throws: Broken.self) { _ = try await iterator.next() }
    }
}
