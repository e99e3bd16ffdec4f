/// The tool's version, stored with every run.
public enum LLMPerfVersion {
    public static let current = "0.1.0"
}
