import Foundation
import Yams

extension ScenarioDecoder {
    static let rootKeys = ["version", "name", "target", "workload", "load", "slo", "variants", "lab"]

    /// One whole scenario from a root mapping that has no `variants` left in it.
    func scenario(_ root: ScenarioNode) throws(ScenarioError) -> Scenario {
        try mapping(root, [], allowed: Self.rootKeys, what: Self.rootExpectation)
        guard let versionNode = root["version"] else {
            throw missing("version", in: root, [], "missing required key; expected version: 1")
        }
        guard versionNode.scalarText == "1" else {
            throw error(
                .invalidValue, at: versionNode, ["version"],
                "expected 1 (the only scenario format version), got \(versionNode.shortDescription)")
        }
        guard let nameNode = root["name"] else { throw missing("name", in: root, []) }
        let name = try string(nameNode, ["name"])
        guard Self.isName(name) else {
            throw invalid(nameNode, ["name"], expected: "a name of letters, digits, '-', '_' or '.'")
        }
        guard let targetNode = root["target"] else { throw missing("target", in: root, []) }
        guard let workloadNode = root["workload"] else { throw missing("workload", in: root, []) }
        guard let loadNode = root["load"] else { throw missing("load", in: root, []) }

        let target = try self.target(targetNode)
        let workload = try self.workload(workloadNode, api: target.spec.api, replays: loadNode["replay"] != nil)
        let load = try self.load(loadNode, workloadSeed: workload.seed)
        let slo = try root["slo"].map { (node: ScenarioNode) throws(ScenarioError) in try self.slo(node) } ?? []

        var scenario = Scenario(
            name: name, variant: variant, target: target.spec, workload: workload, load: load, slo: slo)
        scenario.redactedYAML = Self.redactedYAML(root, secretHeaders: target.secretHeaders)
        scenario.hash = ScenarioDigest.sha256Hex(ScenarioCanonicalForm.render(scenario))
        return scenario
    }

    static let rootExpectation =
        "a mapping of scenario keys (version, name, target, workload, load, slo, variants, lab)"

    /// The tree as YAML, with the values of secret headers replaced by `<redacted>`.
    static func redactedYAML(_ root: ScenarioNode, secretHeaders: Set<String>) -> String {
        var tree = root
        tree.value = .mapping((root.entries ?? []).filter { $0.key != "variants" && $0.key != "lab" })
        if !secretHeaders.isEmpty, var rootEntries = tree.entries,
            let targetIndex = rootEntries.firstIndex(where: { $0.key == "target" }),
            var targetEntries = rootEntries[targetIndex].value.entries,
            let headersIndex = targetEntries.firstIndex(where: { $0.key == "headers" }),
            var headerEntries = targetEntries[headersIndex].value.entries
        {
            for index in headerEntries.indices where secretHeaders.contains(headerEntries[index].key) {
                headerEntries[index].value.value = .scalar(text: "<redacted>", style: .plain, isNull: false)
            }
            targetEntries[headersIndex].value.value = .mapping(headerEntries)
            rootEntries[targetIndex].value.value = .mapping(targetEntries)
            tree.value = .mapping(rootEntries)
        }
        do {
            return try Yams.serialize(node: tree.yamsNode, allowUnicode: true)
        } catch {
            return ""
        }
    }
}
