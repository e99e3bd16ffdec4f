/// Errors from the run database, worded for the user.
public enum StoreError: Error, Equatable, CustomStringConvertible {
    case cannotOpen(path: String, reason: String)
    case corrupt(String)
    case unknownRun(String)
    case invalidReference(String)
    /// What was asked contradicts what is stored (shards merged twice, shards sharing request indices).
    case conflict(String)

    public var description: String {
        switch self {
        case .cannotOpen(let path, let reason): return "cannot open the run database \(path): \(reason)"
        case .corrupt(let what): return "the run database is damaged: \(what)"
        case .unknownRun(let message): return message
        case .invalidReference(let message): return message
        case .conflict(let message): return message
        }
    }
}
