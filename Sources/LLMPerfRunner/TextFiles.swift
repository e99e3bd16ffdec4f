import Foundation

/// Writes a whole file (a report); a failure is a runtime failure naming the file.
public func writeText(_ text: String, to path: String) throws {
    do {
        try text.write(toFile: path, atomically: true, encoding: .utf8)
    } catch {
        throw CLIError.failure("cannot write \(path): \(error.localizedDescription)")
    }
}

/// Appends to a file, creating it when missing (so `$GITHUB_STEP_SUMMARY` keeps what others wrote).
public func appendText(_ text: String, to path: String) throws {
    if !FileManager.default.fileExists(atPath: path) {
        guard FileManager.default.createFile(atPath: path, contents: nil) else {
            throw CLIError.failure("cannot create \(path)")
        }
    }
    guard let handle = FileHandle(forWritingAtPath: path) else { throw CLIError.failure("cannot open \(path)") }
    defer { try? handle.close() }
    handle.seekToEndOfFile()
    handle.write(Data(text.utf8))
}

/// A line on standard error.
public func printError(_ text: String) {
    FileHandle.standardError.write(Data((text + "\n").utf8))
}
