/// `workload.tokenizer`: what counts a prompt's tokens when the workload asks for lengths in tokens.
/// Core only names the choice; the runner loads it (`LLMTokenizer`).
public enum TokenizerChoice: Sendable, Equatable {
    /// The bundled default model's GGUF vocabulary (SmolLM2-135M-Instruct, where `scripts/fetch-model` puts it).
    case bundledDefault
    /// The word approximation: 0.75 words a token (`SyntheticPromptGenerator.wordsPerToken`).
    case words
    /// A `.gguf` model file or a Hugging Face `tokenizer.json`, its path resolved against the scenario's directory.
    case file(String)

    /// How the scenario writes it: `default`, `words`, or the file's path.
    public var text: String {
        switch self {
        case .bundledDefault: return "default"
        case .words: return "words"
        case .file(let path): return path
        }
    }

    /// Counts tokens exactly (anything but `words`).
    public var isExact: Bool { self != .words }
}
