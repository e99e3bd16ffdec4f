import Foundation

/// One prompt as sent: an optional system message and the user text.
public struct Prompt: Sendable, Equatable, Codable {
    public var system: String?
    public var user: String

    public init(system: String? = nil, user: String) {
        self.system = system
        self.user = user
    }
}
