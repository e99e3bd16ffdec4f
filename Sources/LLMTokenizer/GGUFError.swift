/// Errors raised while reading a GGUF model file or building a model from it.
public enum GGUFError: Error, Equatable, CustomStringConvertible, Sendable {
    case cannotOpen(path: String, reason: String)
    /// The file ended before `needed` bytes could be read at `offset`.
    case truncated(offset: Int, needed: Int, fileSize: Int)
    case badMagic(found: UInt32)
    case unsupportedVersion(UInt32)
    case unsupportedValueType(UInt32, key: String)
    case unsupportedTensorType(tensor: String, type: String)
    case unsupportedArchitecture(String)
    case missingKey(String)
    case wrongValueType(key: String, expected: String)
    case missingTensor(String)
    case invalidTensor(name: String, reason: String)
    case invalidFile(String)

    public var description: String {
        switch self {
        case .cannotOpen(let path, let reason):
            return "cannot open model file \(path): \(reason)"
        case .truncated(let offset, let needed, let fileSize):
            return
                "GGUF file is truncated: needed \(needed) bytes at offset \(offset) but the file has \(fileSize) bytes"
        case .badMagic(let found):
            let hex = String(found, radix: 16)
            return "not a GGUF file: bad magic 0x\(String(repeating: "0", count: max(0, 8 - hex.count)))\(hex)"
        case .unsupportedVersion(let version):
            return "unsupported GGUF version \(version) (supported: 1, 2, 3)"
        case .unsupportedValueType(let type, let key):
            return "unsupported GGUF metadata value type \(type) for key '\(key)'"
        case .unsupportedTensorType(let tensor, let type):
            return "unsupported tensor type \(type) for tensor '\(tensor)' (supported: F32, F16, Q8_0, Q4_0, Q4_1)"
        case .unsupportedArchitecture(let name):
            return "unsupported model architecture '\(name)' (supported: llama)"
        case .missingKey(let key):
            return "GGUF metadata key '\(key)' is missing"
        case .wrongValueType(let key, let expected):
            return "GGUF metadata key '\(key)' is not \(expected)"
        case .missingTensor(let name):
            return "tensor '\(name)' is missing"
        case .invalidTensor(let name, let reason):
            return "tensor '\(name)' is invalid: \(reason)"
        case .invalidFile(let reason):
            return "invalid GGUF file: \(reason)"
        }
    }
}
