import Foundation

struct FixtureMissing: Error, CustomStringConvertible {
    let name: String
    var description: String { "fixture \(name) not found" }
}

/// Bytes of a file in the test target's Fixtures/ folder.
enum Fixture {
    static func bytes(_ name: String) throws -> [UInt8] {
        let parts = name.split(separator: ".", maxSplits: 1).map(String.init)
        guard
            let url = Bundle.module.url(
                forResource: parts[0], withExtension: parts.count > 1 ? parts[1] : nil, subdirectory: "Fixtures")
        else { throw FixtureMissing(name: name) }
        return [UInt8](try Data(contentsOf: url))
    }
}
