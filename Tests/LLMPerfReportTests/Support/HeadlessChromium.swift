import Foundation

/// Debian's `chromium`, run headless on a file, for the browser test.
struct HeadlessChromium {
    struct Output {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    var executable: String

    /// `chromium` or `chromium-browser` on PATH (or in /usr/bin); nil when neither is there.
    static func find() -> HeadlessChromium? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        for directory in path.split(separator: ":").map(String.init) + ["/usr/bin"] {
            for name in ["chromium", "chromium-browser"] {
                let candidate = "\(directory)/\(name)"
                if FileManager.default.isExecutableFile(atPath: candidate) {
                    return HeadlessChromium(executable: candidate)
                }
            }
        }
        return nil
    }

    /// Runs headless with `arguments` added to the usual flags, at most `timeoutSeconds`,
    /// with a fresh profile in `workDirectory`.
    func run(_ arguments: [String], workDirectory: URL, timeoutSeconds: Int = 90) throws -> Output {
        let profile = workDirectory.appendingPathComponent("profile-\(UUID().uuidString)")
        let out = workDirectory.appendingPathComponent("chromium-\(UUID().uuidString).out")
        let err = workDirectory.appendingPathComponent("chromium-\(UUID().uuidString).err")
        _ = FileManager.default.createFile(atPath: out.path, contents: nil)
        _ = FileManager.default.createFile(atPath: err.path, contents: nil)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/timeout")
        process.arguments =
            [
                "-k", "5", String(timeoutSeconds), executable, "--headless", "--no-sandbox", "--disable-gpu",
                "--disable-dev-shm-usage", "--no-first-run", "--user-data-dir=\(profile.path)",
            ] + arguments
        process.standardOutput = try FileHandle(forWritingTo: out)
        process.standardError = try FileHandle(forWritingTo: err)
        try process.run()
        process.waitUntilExit()
        return Output(
            status: process.terminationStatus,
            stdout: String(decoding: FileManager.default.contents(atPath: out.path) ?? Data(), as: UTF8.self),
            stderr: String(decoding: FileManager.default.contents(atPath: err.path) ?? Data(), as: UTF8.self))
    }
}
