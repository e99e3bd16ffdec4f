import Foundation

/// Candidate minus baseline: `absolute = b − a`, `relative = (b − a) / a` (a fraction: 0.1 is
/// +10%; nil when a is 0).
public struct Change: Sendable, Equatable, Codable {
    public var absolute: Double
    public var relative: Double?

    public init(absolute: Double, relative: Double?) {
        self.absolute = absolute
        self.relative = relative
    }

    public init?(from a: Double?, to b: Double?) {
        guard let a, let b else { return nil }
        self.init(absolute: b - a, relative: a != 0 ? (b - a) / a : nil)
    }
}
