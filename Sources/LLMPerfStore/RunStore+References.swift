import LLMPerfCore

extension RunStore {
    /// Resolves a run reference (`r7f3a2c`, a unique prefix, `name@latest`, `name~N`,
    /// `label:X`, `name/variant`, a variant name) against every stored run.
    public func resolve(_ text: String) throws -> RunInfo {
        // An exact id always names its run, whatever it looks like.
        if let exact = try run(id: text) { return exact }
        let reference: RunReference
        do {
            reference = try RunReference.parse(text)
        } catch {
            throw StoreError.invalidReference(error.message)
        }
        let runs = try listRuns()
        let match: RunCandidate
        do {
            match = try reference.resolve(in: runs.map(RunCandidate.init(info:)))
        } catch {
            throw StoreError.invalidReference(error.message)
        }
        guard let info = runs.first(where: { $0.id == match.id }) else {
            throw StoreError.unknownRun("run \(match.id) vanished while it was being read")
        }
        return info
    }
}
