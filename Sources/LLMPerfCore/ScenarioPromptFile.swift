import Foundation

/// Reads `workload.prompt_file`: `.txt` has one prompt per non-empty line (surrounding
/// whitespace trimmed); `.jsonl` has one JSON object per non-empty line with a `prompt` or
/// `user` string and an optional `system` string.
enum ScenarioPromptFile {
    enum Format {
        case lines
        case jsonLines
    }

    struct Failure: Error {
        var message: String
    }

    static func read(path: String, format: Format) -> Result<[Prompt], Failure> {
        let text: String
        switch ScenarioFileReader.readText(path: path) {
        case .success(let contents): text = contents
        case .failure(let failure): return .failure(Failure(message: "cannot read \(path): \(failure.reason)"))
        }
        var prompts: [Prompt] = []
        for (index, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = rawLine.trimmingCharacters(in: .whitespacesAndNewlines)
            if line.isEmpty { continue }
            switch format {
            case .lines:
                prompts.append(Prompt(user: line))
            case .jsonLines:
                guard let prompt = jsonPrompt(line) else {
                    return .failure(
                        Failure(
                            message:
                                "\(path):\(index + 1): expected a JSON object with a 'prompt' or 'user' string (and optional 'system')"
                        ))
                }
                prompts.append(prompt)
            }
        }
        guard !prompts.isEmpty else { return .failure(Failure(message: "\(path) contains no prompts")) }
        return .success(prompts)
    }

    private static func jsonPrompt(_ line: String) -> Prompt? {
        guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else {
            return nil
        }
        guard let user = (object["user"] ?? object["prompt"]) as? String, !user.isEmpty else { return nil }
        let system = object["system"]
        if system != nil, !(system is String) { return nil }
        return Prompt(system: system as? String, user: user)
    }
}
