import Foundation
import LLMPerfCore

extension RunStore: RunRepository {
    public var location: String { path }

    public func createRun(_ run: RunInfo) throws { try insertRun(run, owner: .current) }

    public func resolveRun(_ reference: String) throws -> RunInfo {
        do {
            return try resolve(reference)
        } catch let error as StoreError {
            switch error {
            case .invalidReference(let message), .unknownRun(let message):
                throw RunRepositoryError.invalidReference(message)
            default: throw RunRepositoryError.failure(error.description)
            }
        }
    }

    /// The batched SQLite writer (`RequestWriter`).
    public func traceSink(runID: String, onFailure: @escaping @Sendable () -> Void) -> any TraceSink {
        let writer = RequestWriter(store: self, runID: runID)
        writer.onFailure { _ in onFailure() }
        return writer
    }
}

extension RequestWriter: TraceSink {}
