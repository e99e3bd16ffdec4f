import Foundation

public struct TLSOptions: Sendable, Equatable {
    /// PEM file of certificate authorities to trust instead of the system's.
    public var caFile: String?
    /// Skip certificate verification (never the default).
    public var insecure: Bool

    public init(caFile: String? = nil, insecure: Bool = false) {
        self.caFile = caFile
        self.insecure = insecure
    }
}
