import Crypto
import Foundation

/// Reads a dataset file in chunks, hashing every byte (SHA-256) on the way, and hands the parser
/// a window of the bytes not yet consumed; the window grows when a record spans chunks. The file
/// is never held whole, so a 280 MB dataset loads in the memory of its records.
public enum DatasetFileStream {
    public static let chunkSize = 4 << 20

    /// Calls `process` with each window until it says it has finished; `process` returns how many
    /// bytes of the window it consumed (whole records) and whether the file is done. Returns the
    /// file's SHA-256 (hex).
    static func read(
        path: String, chunkSize: Int = DatasetFileStream.chunkSize,
        process: (_ window: UnsafeBufferPointer<UInt8>, _ baseOffset: Int, _ atEOF: Bool) throws -> (
            consumed: Int, finished: Bool
        )
    ) throws -> String {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else {
            throw DatasetError(file: path, message: "cannot read: \(String(cString: strerror(errno)))")
        }
        defer { close(fd) }
        var hasher = SHA256()
        var buffer: [UInt8] = []
        buffer.reserveCapacity(chunkSize + chunkSize / 2)
        var chunk = [UInt8](repeating: 0, count: chunkSize)
        var baseOffset = 0
        var atEOF = false
        while true {
            if !atEOF {
                let count = chunk.withUnsafeMutableBytes { Foundation.read(fd, $0.baseAddress, $0.count) }
                guard count >= 0 else {
                    throw DatasetError(file: path, message: "cannot read: \(String(cString: strerror(errno)))")
                }
                if count == 0 {
                    atEOF = true
                } else {
                    chunk.withUnsafeBytes {
                        hasher.update(bufferPointer: UnsafeRawBufferPointer(rebasing: $0[0..<count]))
                    }
                    buffer.append(contentsOf: chunk[0..<count])
                }
            }
            let step = try buffer.withUnsafeBufferPointer { try process($0, baseOffset, atEOF) }
            if step.finished { break }
            if step.consumed > 0 {
                buffer.removeFirst(step.consumed)
                baseOffset += step.consumed
            } else if atEOF {
                throw DatasetError(file: path, message: "unexpected end of file")
            }
        }
        let digits = Array("0123456789abcdef".utf8)
        var hex: [UInt8] = []
        for byte in hasher.finalize() {
            hex.append(digits[Int(byte >> 4)])
            hex.append(digits[Int(byte & 0x0f)])
        }
        return String(decoding: hex, as: UTF8.self)
    }
}
