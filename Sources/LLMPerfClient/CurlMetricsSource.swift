import CCurl
import Foundation
import LLMPerfCore

/// GETs a Prometheus endpoint for the scraper over one libcurl easy handle kept for the whole run, so
/// each scrape reuses the connection (a new one per second would be traffic the server counts too).
/// Used from one thread at a time (the scraper's); the lock only guards against misuse.
public final class CurlMetricsSource: MetricsSource, @unchecked Sendable {
    private let lock = NSLock()
    private var easy: UnsafeMutableRawPointer?
    private let caFile: String?

    private final class Sink {
        var bytes: [UInt8] = []
        /// A scrape larger than this is refused: no server's metrics are 64 MiB.
        static let limit = 64 << 20
    }

    private static let collect: curl_write_callback = { data, size, count, userdata in
        let n = size * count
        guard let data, let userdata else { return 0 }
        let sink = Unmanaged<Sink>.fromOpaque(userdata).takeUnretainedValue()
        guard sink.bytes.count + n <= Sink.limit else { return 0 }
        sink.bytes.append(contentsOf: UnsafeRawBufferPointer(start: data, count: n))
        return n
    }

    public init(caFile: String? = nil) {
        self.caFile = caFile
        CurlGlobal.initialize()
    }

    deinit { if let easy { curl_easy_cleanup(easy) } }

    public func fetch(url: String, timeoutMilliseconds: Int) -> Result<String, MetricsFetchError> {
        lock.lock()
        defer { lock.unlock() }
        if easy == nil { easy = curl_easy_init() }
        guard let easy else { return .failure(MetricsFetchError("libcurl could not make a handle")) }
        let sink = Sink()
        let pointer = Unmanaged.passUnretained(sink).toOpaque()
        guard
            HTTPProbe.configureGET(
                easy, url: url, timeoutMilliseconds: timeoutMilliseconds, caFile: caFile, write: Self.collect,
                into: pointer),
            ccurl_setopt_string(easy, CURLOPT_ACCEPT_ENCODING, "") == CURLE_OK
        else {
            return .failure(MetricsFetchError("libcurl refused an option for \(url)"))
        }
        let result = withExtendedLifetime(sink) { curl_easy_perform(easy) }
        guard result == CURLE_OK else {
            let reason = String(cString: curl_easy_strerror(result))
            if result == CURLE_WRITE_ERROR { return .failure(MetricsFetchError("the answer is over 64 MiB")) }
            return .failure(MetricsFetchError(reason))
        }
        var status = 0
        _ = ccurl_getinfo_long(easy, CURLINFO_RESPONSE_CODE, &status)
        guard (200..<300).contains(status) else { return .failure(MetricsFetchError("HTTP \(status)")) }
        return .success(String(decoding: sink.bytes, as: UTF8.self))
    }
}
