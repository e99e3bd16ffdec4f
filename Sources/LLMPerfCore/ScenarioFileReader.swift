import Foundation

/// Reads the scenario file and the files it names, with the operating system's reason when
/// that fails ("No such file or directory", "Is a directory", "Permission denied").
enum ScenarioFileReader {
    struct Failure: Error, Equatable {
        var reason: String
    }

    static func readText(path: String) -> Result<String, Failure> {
        var isDirectory: ObjCBool = false
        let exists = FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory)
        guard exists else { return .failure(Failure(reason: "No such file or directory")) }
        guard !isDirectory.boolValue else { return .failure(Failure(reason: "Is a directory")) }
        guard FileManager.default.isReadableFile(atPath: path), let data = FileManager.default.contents(atPath: path)
        else {
            return .failure(Failure(reason: "Permission denied"))
        }
        guard let text = String(data: data, encoding: .utf8) else {
            return .failure(Failure(reason: "not UTF-8 text"))
        }
        return .success(text)
    }
}
