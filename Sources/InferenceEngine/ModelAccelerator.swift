/// Runs a model's forward passes somewhere other than the CPU backend (a GPU): it holds its own copy of the
/// weights and each sequence's keys and values (attached to the `KVCache` as its `device`), and returns logits in
/// host memory. `TransformerModel.forward(batch:buffers:)` hands every pass to it once attached, so the decoders,
/// the scheduler, speculative decoding and the prefix cache run unchanged on top.
public protocol ModelAccelerator: AnyObject {
    /// The device, for logs, `/metrics` and reports, e.g. `vulkan:0 NVIDIA H200 (discrete GPU)`.
    var deviceDescription: String { get }

    /// Runs the batch as `TransformerModel.forward(batch:buffers:)` specifies, except that it leaves the caches'
    /// counts to the caller, which advances them afterwards. Logits go to `buffers.logitsStorage(rows:)`. When no
    /// entry asks for logits, the final hidden states (before the output norm) are left in `buffers.hidden`.
    /// Throws what the device failed with; the caches' device contents past their counts are then unspecified.
    func forward(batch: [BatchEntry], buffers: ForwardBuffers) throws -> [UnsafePointer<Float>?]

    /// Gives a new cache of the model its device storage (its `device`), before anything is restored into it. When
    /// the device cannot, the cache is left without one and its first forward pass tries again (and throws).
    func attach(_ cache: KVCache)
}

/// Where a model's forward passes run: `cpu`, or a Vulkan device (`vulkan` picks the first GPU, `vulkan:N` the
/// device at index N of the Vulkan loader's list), or `auto`: the first GPU when one can be used, else the CPU.
public enum ComputeDevice: Equatable, Hashable, Sendable, CustomStringConvertible {
    case cpu
    case vulkan(index: Int?)
    case auto

    /// Parses `cpu`, `vulkan`, `vulkan:N` or `auto` (case-insensitive).
    public init?(argument: String) {
        let text = argument.lowercased()
        if text == "cpu" {
            self = .cpu
        } else if text == "auto" {
            self = .auto
        } else if text == "vulkan" {
            self = .vulkan(index: nil)
        } else if text.hasPrefix("vulkan:"), let n = Int(text.dropFirst("vulkan:".count)), n >= 0 {
            self = .vulkan(index: n)
        } else {
            return nil
        }
    }

    public var description: String {
        switch self {
        case .cpu: return "cpu"
        case .vulkan(nil): return "vulkan"
        case .vulkan(let index?): return "vulkan:\(index)"
        case .auto: return "auto"
        }
    }

    /// The accepted values, for help texts.
    public static let argumentList = "cpu|vulkan|vulkan:N|auto"
}

extension TransformerModel {
    /// Gives back the host memory of every weight matrix the accelerator now holds on its device (all but the token
    /// embedding, whose rows the host still looks up): converted matrices' storage is discarded, the file's pages
    /// are released (they would be read again from the file on access). Only for a model with an accelerator,
    /// which never reads them: the CPU kernels would.
    public func releaseDeviceResidentWeights() {
        precondition(accelerator != nil, "the CPU engine reads these weights")
        var matrices = layers.flatMap(\.matrices)
        if output.data != tokenEmbedding.data { matrices.append(output) }
        for m in matrices {
            if let storage = m.owner as? WeightStorage {
                storage.discard()
            } else if m.owner === file {
                file.file.release(offset: m.data - file.file.base, count: m.rows * m.rowBytes)
            }
        }
    }
}
