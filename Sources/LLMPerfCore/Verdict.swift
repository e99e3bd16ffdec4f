import Foundation

/// A row's verdict for the candidate against the baseline, knowing the measure's direction.
public enum Verdict: String, Sendable, Equatable, Codable {
    case better
    case worse
    /// Not significant at α: `~`.
    case noChange = "no_change"
    /// One run has no data for the row, so nothing was tested.
    case notComparable = "not_comparable"

    /// `better`, `worse`, `~`, `n/a`.
    public var symbol: String {
        switch self {
        case .better: return "better"
        case .worse: return "worse"
        case .noChange: return "~"
        case .notComparable: return "n/a"
        }
    }
}
