import CCurl
import Foundation

/// One small blocking HTTP GET through libcurl's easy interface, for control traffic that is
/// not measured: waiting for a backend's `/health`, reading `/metrics`.
public enum HTTPProbe {
    public struct Response: Sendable, Equatable {
        public var status: Int
        public var body: String
    }

    private final class Sink {
        var bytes: [UInt8] = []
    }

    private static let collect: curl_write_callback = { data, size, count, userdata in
        let n = size * count
        guard let data, let userdata else { return 0 }
        let sink = Unmanaged<Sink>.fromOpaque(userdata).takeUnretainedValue()
        sink.bytes.append(contentsOf: UnsafeRawBufferPointer(start: data, count: n))
        return n
    }

    /// GETs `url`; nil when no HTTP response arrived (refused, timed out, TLS failure).
    public static func get(_ url: String, timeoutMilliseconds: Int = 2_000, caFile: String? = nil) -> Response? {
        CurlGlobal.initialize()
        guard let easy = curl_easy_init() else { return nil }
        defer { curl_easy_cleanup(easy) }
        let sink = Sink()
        let pointer = Unmanaged.passUnretained(sink).toOpaque()
        // Every option must take: a probe that went out differently from what was asked is no answer.
        guard
            configureGET(
                easy, url: url, timeoutMilliseconds: timeoutMilliseconds, caFile: caFile, write: collect,
                into: pointer)
        else { return nil }
        let result = withExtendedLifetime(sink) { curl_easy_perform(easy) }
        guard result == CURLE_OK else { return nil }
        var status = 0
        guard ccurl_getinfo_long(easy, CURLINFO_RESPONSE_CODE, &status) == CURLE_OK else { return nil }
        return Response(status: status, body: String(decoding: sink.bytes, as: UTF8.self))
    }
}

extension HTTPProbe {
    /// Sets `easy` up for a plain GET of `url` whose body `write` collects into `userdata`, within the timeout
    /// (connecting included); false when libcurl refused an option (nothing should be sent then).
    static func configureGET(
        _ easy: UnsafeMutableRawPointer, url: String, timeoutMilliseconds: Int, caFile: String?,
        write: curl_write_callback, into userdata: UnsafeMutableRawPointer
    ) -> Bool {
        var options = [
            ccurl_setopt_string(easy, CURLOPT_URL, url),
            ccurl_setopt_long(easy, CURLOPT_NOSIGNAL, 1),
            ccurl_setopt_long(easy, CURLOPT_TIMEOUT_MS, timeoutMilliseconds),
            ccurl_setopt_long(easy, CURLOPT_CONNECTTIMEOUT_MS, timeoutMilliseconds),
            ccurl_setopt_write_function(easy, write),
            ccurl_setopt_pointer(easy, CURLOPT_WRITEDATA, userdata),
        ]
        if let caFile { options.append(ccurl_setopt_string(easy, CURLOPT_CAINFO, caFile)) }
        return options.allSatisfy { $0 == CURLE_OK }
    }
}

/// `curl_global_init` once per process, before any handle is made.
public enum CurlGlobal {
    private static let once: Void = {
        curl_global_init(Int(CURL_GLOBAL_DEFAULT))
    }()

    public static func initialize() { _ = once }
}
