import Foundation

/// A request header. `value` is what is sent (environment variables expanded); `template`
/// is the text as written in the scenario. A header is secret when its template referenced
/// an environment variable, or its name is Authorization, Proxy-Authorization or Cookie, or
/// contains key, token, secret or password (case-insensitive).
public struct HeaderSpec: Sendable, Equatable {
    public var name: String
    public var value: String
    public var template: String
    public var isSecret: Bool

    public init(name: String, value: String, template: String, isSecret: Bool) {
        self.name = name
        self.value = value
        self.template = template
        self.isSecret = isSecret
    }
}
