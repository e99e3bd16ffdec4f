import LLMPerfCore

/// Writes a JSON request body byte by byte, with keys in the order written (deterministic,
/// so identical workloads send identical bytes).
struct JSONBodyWriter {
    private(set) var bytes: [UInt8] = []
    private var needsComma: [Bool] = []

    init() { bytes.reserveCapacity(512) }

    mutating func beginObject() {
        valuePrefix()
        bytes.append(0x7B)
        needsComma.append(false)
    }

    mutating func endObject() {
        bytes.append(0x7D)
        needsComma.removeLast()
    }

    mutating func beginArray() {
        valuePrefix()
        bytes.append(0x5B)
        needsComma.append(false)
    }

    mutating func endArray() {
        bytes.append(0x5D)
        needsComma.removeLast()
    }

    /// Writes `"key":`; the value written next belongs to it.
    mutating func key(_ name: String) {
        valuePrefix()
        writeString(name)
        bytes.append(0x3A)
        keyPending = true
    }

    mutating func string(_ value: String) {
        valuePrefix()
        writeString(value)
    }

    mutating func integer(_ value: Int) {
        valuePrefix()
        bytes.append(contentsOf: String(value).utf8)
    }

    mutating func number(_ value: Double) {
        valuePrefix()
        if !value.isFinite {
            bytes.append(contentsOf: "null".utf8)
        } else if value == value.rounded() && abs(value) < 1e15 {
            bytes.append(contentsOf: String(Int(value)).utf8)
        } else {
            bytes.append(contentsOf: value.description.utf8)
        }
    }

    mutating func null() {
        valuePrefix()
        bytes.append(contentsOf: "null".utf8)
    }

    mutating func bool(_ value: Bool) {
        valuePrefix()
        bytes.append(contentsOf: (value ? "true" : "false").utf8)
    }

    private var keyPending = false

    private mutating func valuePrefix() {
        if keyPending {
            keyPending = false
            return
        }
        guard !needsComma.isEmpty else { return }
        if needsComma[needsComma.count - 1] { bytes.append(0x2C) }
        needsComma[needsComma.count - 1] = true
    }

    private mutating func writeString(_ s: String) {
        JSONQuoting.appendQuoted(s, to: &bytes)
    }
}
