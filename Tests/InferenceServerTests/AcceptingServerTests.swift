import Foundation
import HummingbirdCore
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle
import Testing

@testable import InferenceServer

/// The listening socket `llmperf serve` binds itself (in place of Hummingbird's `Server`): its accept settings,
/// and the Date header every answer carries now that Hummingbird's `Application` no longer adds it.
@Suite("Accepting server")
struct AcceptingServerTests {
    @Test func theListeningSocketHasTheConfiguredBacklogAndAcceptsPerWakeup() async throws {
        let (bound, continuation) = AsyncStream<(backlog: Int32, perWakeup: UInt)>.makeStream()
        let child = HTTP1Channel(responder: { _, writer, _ in
            try await writer.write(response: .init(status: .noContent), body: .init())
        })
        let server = AcceptingServer(
            childChannel: child,
            configuration: .init(host: "127.0.0.1", port: 0, backlog: 512, acceptBuffer: 128, acceptsPerWakeup: 32),
            eventLoopGroup: MultiThreadedEventLoopGroup.singleton, logger: Logger(label: "test")
        ) { channel in
            let backlog = try? await channel.getOption(ChannelOptions.backlog).get()
            let perWakeup = try? await channel.getOption(ChannelOptions.maxMessagesPerRead).get()
            continuation.yield((backlog ?? -1, perWakeup ?? 0))
            continuation.finish()
        }
        let group = ServiceGroup(services: [server], logger: Logger(label: "test"))
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask {
                defer { continuation.finish() }
                try await group.run()
            }
            var listened = false
            for await options in bound {
                listened = true
                #expect(options.backlog == 512 && options.perWakeup == 32)
            }
            #expect(listened, "the server never listened")
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
    }

    @Test func dateIsTheIMFFixdateForm() {
        #expect(HTTPDateCache.format(784_111_777) == "Sun, 06 Nov 1994 08:49:37 GMT")
        #expect(HTTPDateCache.format(951_782_400) == "Tue, 29 Feb 2000 00:00:00 GMT")
        #expect(HTTPDateCache.format(0) == "Thu, 01 Jan 1970 00:00:00 GMT")
    }

    @Test func everyAnswerCarriesTheDate() async throws {
        try await withServer(syntheticConfiguration()) { server in
            let before = Int(Date().timeIntervalSince1970)
            let answers = [
                try await TestHTTPClient.send(port: server.port, path: "/health"),
                try await TestHTTPClient.post(port: server.port, path: "/v1/chat/completions", json: chatBody()),
                try await TestHTTPClient.post(port: server.port, path: "/v1/chat/completions", json: "{"),
            ]
            let after = Int(Date().timeIntervalSince1970)
            let expected = Set((before...after).map(HTTPDateCache.format))
            #expect(answers.map(\.status) == [200, 200, 400])
            for answer in answers {
                let date = try #require(answer.headers["date"], "no Date header: \(answer.headers)")
                #expect(expected.contains(date), "\(date) not in \(expected)")
            }
        }
    }
}
