import Foundation
import LLMPerfCore

/// `--target`, `--model` and `--header`, expanded and checked.
public struct LabEndpoint: Sendable {
    public var url: String
    public var shownURL: String
    public var model: String
    public var headers: [HeaderSpec]

    public init(target: String, model: String, headers: [String], environment: [String: String]) throws {
        do {
            (url, shownURL) = try LabPlan.targetURL(target, environment: environment)
            self.model = try LabPlan.expand(model, what: "--model", environment: environment).value
            self.headers = try headers.map { try LabPlan.header($0, environment: environment) }
        } catch {
            throw CLIError.invalid("\(error)")
        }
        guard !self.model.trimmingCharacters(in: .whitespaces).isEmpty else {
            throw CLIError.invalid("--model: expected a model name, got an empty one")
        }
    }
}

/// One scenario of the lab directory, loaded.
public struct LabCase: Sendable {
    /// The file's base name (what --only names).
    public var name: String
    public var document: ScenarioDocument
    public var spec: LabSpec

    public init(name: String, document: ScenarioDocument, spec: LabSpec) {
        self.name = name
        self.document = document
        self.spec = spec
    }
}

/// Finds and loads the lab scenarios.
public enum LabCatalog {
    /// The scenario files of `directory` named by `only` (all without it), loaded and in lab
    /// order. A missing directory, an unknown name or a scenario without a lab section is
    /// invalid input (exit 2).
    public static func load(directory: String, only: [String], environment: [String: String]) throws -> [LabCase] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue
        else {
            throw CLIError.invalid(
                "--dir: no such directory: \(directory) (run llmperf lab from the repository root, or pass --dir)")
        }
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        var files: [String: String] = [:]
        for entry in entries.sorted() where entry.hasSuffix(".yml") || entry.hasSuffix(".yaml") {
            let name = (entry as NSString).deletingPathExtension
            if let earlier = files[name] {
                throw CLIError.invalid("\(directory): both \(earlier) and \(entry) are named '\(name)'; keep one")
            }
            files[name] = entry
        }
        guard !files.isEmpty else { throw CLIError.invalid("\(directory): no scenario files (*.yml)") }
        let selected: [String]
        do {
            selected = try LabPlan.select(only: only, available: files.keys.sorted())
        } catch {
            throw CLIError.invalid(error.description)
        }
        var cases: [LabCase] = []
        for name in selected {
            let path = (directory as NSString).appendingPathComponent(files[name]!)
            let document: ScenarioDocument
            do {
                document = try ScenarioLoader.load(path: path, environment: environment)
            } catch {
                throw CLIError.invalid(error.description)
            }
            guard let spec = document.lab else {
                throw CLIError.invalid("\(path): no lab section; llmperf lab needs one (see scenarios/optimizations)")
            }
            cases.append(LabCase(name: name, document: document, spec: spec))
        }
        let order = LabPlan.ordered(cases.map { (name: $0.name, side: $0.spec.side) })
        return order.compactMap { name in cases.first { $0.name == name } }
    }
}
