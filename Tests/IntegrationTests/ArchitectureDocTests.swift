import Foundation
import Testing

/// `docs/ARCHITECTURE.md` stays true to the code: every target under `Sources/` is in its
/// table, each target imports only the project modules the table allows, and every type, file
/// and path it names in backticks exists.
@Suite struct ArchitectureDocTests {
    static let root = LLMPerfProcess.repositoryRoot
    static let sources = root.appendingPathComponent("Sources")

    static func document() throws -> String {
        try String(contentsOf: root.appendingPathComponent("docs/ARCHITECTURE.md"), encoding: .utf8)
    }

    static var targets: [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: sources.path)) ?? []
        return names.filter { !$0.hasPrefix(".") }.sorted()
    }

    /// The rows of the targets table: target name → the project modules it may import.
    static func allowedImports(in document: String) -> [String: Set<String>] {
        let short = [
            "Core": "LLMPerfCore", "Client": "LLMPerfClient", "Store": "LLMPerfStore", "Report": "LLMPerfReport",
        ]
        var rows: [String: Set<String>] = [:]
        let section = document.components(separatedBy: "\n## ").first { $0.hasPrefix("Targets") } ?? ""
        for line in section.split(separator: "\n") where line.hasPrefix("| `") {
            let cells = line.split(separator: "|", omittingEmptySubsequences: false).map {
                $0.trimmingCharacters(in: .whitespaces)
            }
            guard cells.count >= 4 else { continue }
            let target = cells[1].trimmingCharacters(in: CharacterSet(charactersIn: "`"))
            let words = cells[3].components(separatedBy: CharacterSet.alphanumerics.inverted).filter { !$0.isEmpty }
            rows[target] = Set(words.map { short[$0] ?? $0 })
        }
        return rows
    }

    /// The project modules a target's sources import.
    static func projectImports(of target: String) throws -> Set<String> {
        let modules = Set(targets)
        var found: Set<String> = []
        let directory = sources.appendingPathComponent(target)
        let files = FileManager.default.enumerator(atPath: directory.path)?.compactMap { $0 as? String } ?? []
        for file in files where file.hasSuffix(".swift") {
            let text = try String(contentsOf: directory.appendingPathComponent(file), encoding: .utf8)
            for line in text.split(separator: "\n") {
                let words = line.trimmingCharacters(in: .whitespaces).split(separator: " ")
                guard let i = words.firstIndex(of: "import"), i + 1 < words.count else { continue }
                let module = String(words[i + 1])
                if modules.contains(module) { found.insert(module) }
            }
        }
        return found
    }

    @Test func everyTargetIsInTheTableAndImportsOnlyWhatItMay() throws {
        let rows = Self.allowedImports(in: try Self.document())
        #expect(!Self.targets.isEmpty)
        for target in Self.targets {
            let allowed = try #require(rows[target], "\(target) is missing from docs/ARCHITECTURE.md's table")
            if target == "llmperf" { continue }  // the executable wires everything
            let extra = try Self.projectImports(of: target).subtracting(allowed).subtracting([target])
            #expect(extra.isEmpty, "\(target) imports \(extra.sorted()) but the table allows \(allowed.sorted())")
        }
        for named in rows.keys {
            #expect(Self.targets.contains(named), "the table names \(named), which is not a target")
        }
    }

    @Test func everyNameAndPathItMentionsExists() throws {
        let document = try Self.document()
        var declared = Set(Self.targets)
        var swiftFiles: Set<String> = []
        for directory in ["Sources", "Tests"] {
            let base = Self.root.appendingPathComponent(directory)
            let files = FileManager.default.enumerator(atPath: base.path)?.compactMap { $0 as? String } ?? []
            for file in files where file.hasSuffix(".swift") {
                declared.insert(URL(fileURLWithPath: file).deletingPathExtension().lastPathComponent)
                swiftFiles.insert(URL(fileURLWithPath: file).lastPathComponent)
                let text = try String(contentsOf: base.appendingPathComponent(file), encoding: .utf8)
                let words = text.split(whereSeparator: { !$0.isLetter && !$0.isNumber && $0 != "_" })
                for (keyword, name) in zip(words, words.dropFirst())
                where ["struct", "class", "enum", "protocol", "actor", "typealias", "case"].contains(keyword) {
                    declared.insert(String(name))
                }
            }
        }
        let spans = document.components(separatedBy: "`").enumerated().filter { $0.offset % 2 == 1 }.map(\.element)
        var checked = 0
        for span in spans {
            if span.contains("/") && !span.contains(" ") && !span.hasPrefix("/") && !span.contains("<") {
                // A path in the repository.
                let path = span
                #expect(
                    FileManager.default.fileExists(atPath: Self.root.appendingPathComponent(path).path),
                    "docs/ARCHITECTURE.md names \(path), which does not exist")
                checked += 1
            } else if span.hasSuffix(".swift") {
                #expect(swiftFiles.contains(span), "docs/ARCHITECTURE.md names \(span), which no file is called")
                checked += 1
            } else if let first = span.unicodeScalars.first, CharacterSet.uppercaseLetters.contains(first),
                span.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "+" })
            {
                let name = span.replacingOccurrences(of: "+", with: "_")
                let known = declared.contains(name) || declared.contains(span)
                #expect(known, "docs/ARCHITECTURE.md names \(span), which no target, file or type is called")
                checked += 1
            }
        }
        #expect(checked > 50, "the check found only \(checked) names: is the document still there?")
    }
}
