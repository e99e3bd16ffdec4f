import Foundation
import FuzzDriver
import InferenceEngine

/// Where each input is written: the reader maps a file. One file per fuzzing process.
let inputPath = FileManager.default.temporaryDirectory.appendingPathComponent(
    "llmperf-fuzz-gguf-\(ProcessInfo.processInfo.processIdentifier).gguf"
).path

/// libFuzzer entry: the input is a GGUF file. Reading its header (magic, version, metadata,
/// tensor infos, alignment, data offset) may throw; it must never crash or read out of bounds.
/// Every tensor the reader accepted must lie inside the file.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzGGUFHeader(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard FileManager.default.createFile(atPath: inputPath, contents: Data(bytes: data, count: size)) else {
        fatalError("cannot write \(inputPath)")
    }
    guard let file = try? GGUFFile(path: inputPath) else { return 0 }
    for name in file.tensorNames {
        guard let tensor = file.tensors[name] else { fatalError("tensor \(name) listed but missing") }
        let end = file.dataOffset + tensor.offset + tensor.byteCount
        precondition(end <= file.file.count, "tensor \(name) ends at \(end), past the file's \(file.file.count) bytes")
    }
    for key in file.metadataKeys { _ = file.metadata[key].map { String(describing: $0) } }
    return 0
}

/// The executable's entry point (SwiftPM's name for it): libFuzzer with this target's input.
@_cdecl("FuzzGGUFHeader_main")
public func fuzzGGUFHeaderMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    llmperf_fuzz_main(argc, argv) { data, size in
        guard let data else { return 0 }
        return fuzzGGUFHeader(data, size)
    }
}
