import Foundation
import LLMPerfCore
import LLMTokenizer

/// The tokenizer a run counts with (`workload.tokenizer`), loaded once per run: the bundled default model's GGUF
/// vocabulary (read from its metadata, not its tensors), or a `.gguf` or `tokenizer.json` the scenario names.
/// `words` loads nothing.
public struct RunTokenizer: Sendable {
    public let choice: TokenizerChoice
    public let path: String
    public let tokenizer: Tokenizer
    /// Its one-token pieces, which exact-length prompts are made of.
    public let text: ExactTokenText
    /// Seconds spent reading the vocabulary and choosing its pieces.
    public let loadSeconds: Double

    /// Loads `choice`; nil for `words`. Errors say which file and why.
    public static func load(
        _ choice: TokenizerChoice, environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws -> RunTokenizer? {
        let path: String
        switch choice {
        case .words: return nil
        case .bundledDefault:
            do {
                path = try ModelLocator.resolve("default", environment: environment)
            } catch {
                throw CLIError.failure("workload.tokenizer default: \(error)")
            }
        case .file(let file): path = file
        }
        let start = DispatchTime.now().uptimeNanoseconds
        do {
            let tokenizer = try Tokenizer.load(path: path)
            let text = try ExactTokenText(tokenizer: tokenizer)
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            return RunTokenizer(choice: choice, path: path, tokenizer: tokenizer, text: text, loadSeconds: seconds)
        } catch {
            throw CLIError.failure("workload.tokenizer \(choice.text): \(error)")
        }
    }

    /// What the run's output says counted the tokens: `default (SmolLM2-….gguf)`, or the file's name.
    public var description: String {
        let file = (path as NSString).lastPathComponent
        switch choice {
        case .bundledDefault: return "default (\(file))"
        default: return file
        }
    }

    /// Rewrites the workload's synthetic prompts (`ExactSyntheticPrompts`) to the exact lengths of their plan,
    /// keeping each prompt's system text and everything else.
    public func applyExactLengths(to workload: inout WorkloadSpec) throws {
        guard let spec = workload.synthetic, let indices = workload.syntheticPromptIndices else { return }
        let seed = UInt64(bitPattern: Int64(workload.seed ?? 1))
        let texts = try ExactSyntheticPrompts.texts(for: spec, seed: seed, text: text)
        for (offset, index) in indices.enumerated() where offset < texts.count {
            workload.prompts[index].user = texts[offset]
        }
    }
}

/// A replay's rows as exact token blocks of the run's tokenizer (`load.replay` with `workload.tokenizer`).
extension TokenBlockPrompts: BlockPromptBuilding {}
