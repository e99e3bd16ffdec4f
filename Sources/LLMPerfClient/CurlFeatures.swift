import CCurl
import LLMPerfCore

/// What the linked libcurl can do, read once from `curl_version_info`.
public enum CurlFeatures {
    private static let http2Bit = 1 << 16  // CURL_VERSION_HTTP2
    private static let sslBit = 1 << 2  // CURL_VERSION_SSL

    private static let info: (version: String, features: Int) = {
        CurlGlobal.initialize()
        guard let data = ccurl_version_info() else { return ("unknown", 0) }
        let version = data.pointee.version.map { String(cString: $0) } ?? "unknown"
        return (version, Int(data.pointee.features))
    }()

    /// The linked libcurl's version, e.g. "7.88.1".
    public static var version: String { info.version }

    /// Why HTTP/2 cannot be used (nil when it can): libcurl built without nghttp2, or, over
    /// https, without TLS.
    public static func http2Missing(secure: Bool) -> String? {
        http2Missing(secure: secure, features: info.features, version: info.version)
    }

    /// The same for a libcurl with these `curl_version_info` feature bits.
    static func http2Missing(secure: Bool, features: Int, version: String) -> String? {
        if features & http2Bit == 0 {
            return "the scenario asks for http: 2 but libcurl \(version) was built without HTTP/2 support"
        }
        if secure && features & sslBit == 0 {
            return "the scenario asks for http: 2 over https but libcurl \(version) was built without TLS"
        }
        return nil
    }
}

extension TransportConfig {
    /// Why no request of this configuration can go out as asked (nil when it can): checked
    /// before the first request is sent; every request would otherwise fail as `transport`
    /// with the same text.
    public var unsupportedReason: String? {
        guard http == .http2 else { return nil }
        return CurlFeatures.http2Missing(secure: url.lowercased().hasPrefix("https:"))
    }
}
