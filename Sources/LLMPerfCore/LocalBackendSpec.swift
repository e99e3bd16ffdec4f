import Foundation

/// `target: {backend: local, ...}`: llmperf starts `llmperf serve` as a child process on an
/// ephemeral 127.0.0.1 port and stops it afterwards.
public struct LocalBackendSpec: Sendable, Equatable {
    /// "transformer" (the real model) or "synthetic".
    public var engine: String
    /// `--model` for the transformer engine ("default" or a GGUF path); nil for the synthetic
    /// engine, which serves the model name "synthetic".
    public var model: String?
    /// Serve over HTTPS with a certificate made for the run (the client trusts it).
    public var tls: Bool
    /// Further `llmperf serve` flags, e.g. `ttft-ms: 50` → `--ttft-ms 50`, in key order; `true`
    /// stands for a bare flag (`tool-calls: true` → `--tool-calls`) and `false` leaves it out.
    public var options: [(key: String, value: String)]

    public init(
        engine: String = "transformer", model: String? = nil, tls: Bool = false,
        options: [(key: String, value: String)] = []
    ) {
        self.engine = engine
        self.model = model
        self.tls = tls
        self.options = options
    }

    /// The `llmperf serve` arguments this backend needs (port, TLS files added by the runner).
    public var serveArguments: [String] {
        var args = ["--engine", engine]
        if let model { args += ["--model", model] }
        for option in options {
            switch option.value {
            case "true": args.append("--\(option.key)")
            case "false": continue
            default: args += ["--\(option.key)", option.value]
            }
        }
        return args
    }

    /// Whether `value` is one `llmperf serve --device` takes: `cpu`, `vulkan`, `vulkan:N` (N ≥ 0) or `auto`, in any case
    /// (the engine's own parser reads the same; this one lets a scenario fail when it loads, not when its backend
    /// starts).
    public static func isDevice(_ value: String) -> Bool {
        let text = value.lowercased()
        if text == "cpu" || text == "vulkan" || text == "auto" { return true }
        guard text.hasPrefix("vulkan:") else { return false }
        let index = text.dropFirst("vulkan:".count)
        return !index.isEmpty && index.allSatisfy(\.isASCII) && Int(index).map { $0 >= 0 } == true
    }

    /// The accepted `device` values, for messages.
    public static let deviceValues =
        "cpu, vulkan (the first Vulkan GPU), vulkan:N (device N) or auto (the first Vulkan GPU if one is found, else cpu)"

    public static func == (lhs: LocalBackendSpec, rhs: LocalBackendSpec) -> Bool {
        lhs.engine == rhs.engine && lhs.model == rhs.model && lhs.tls == rhs.tls
            && lhs.options.map(\.key) == rhs.options.map(\.key) && lhs.options.map(\.value) == rhs.options.map(\.value)
    }
}
