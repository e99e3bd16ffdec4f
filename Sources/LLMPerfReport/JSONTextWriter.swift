import Foundation
import LLMPerfCore

/// Writes JSON text straight into bytes, laid out exactly as `JSONEncoder` lays it out with
/// `.sortedKeys` and `.withoutEscapingSlashes` (pretty: two-space indent, `"key" : value`,
/// an empty container as `[\n\n]`; compact: no whitespace). The caller writes object keys in
/// sorted order. Far faster than `JSONEncoder` for the millions of numbers of a large run,
/// and it can hand its bytes to a sink as it goes, so the whole text never has to be in
/// memory. Values from elsewhere (`Codable` types of Core) are embedded as `JSONEncoder`
/// fragments, re-indented to fit.
struct JSONTextWriter {
    let pretty: Bool
    private(set) var bytes: [UInt8] = []
    /// Per open container: whether it is an object, and whether it has no element yet.
    private var stack: [(isObject: Bool, empty: Bool)] = []
    private var afterKey = false

    init(pretty: Bool, reservingCapacity capacity: Int = 1 << 16) {
        self.pretty = pretty
        bytes.reserveCapacity(capacity)
    }

    /// Hands the bytes written so far to `sink` and forgets them.
    mutating func flush(to sink: (Data) throws -> Void) rethrows {
        guard !bytes.isEmpty else { return }
        try sink(Data(bytes))
        bytes.removeAll(keepingCapacity: true)
    }

    // MARK: containers

    mutating func beginObject() {
        beforeValue()
        bytes.append(UInt8(ascii: "{"))
        stack.append((true, true))
    }

    mutating func endObject() { close(UInt8(ascii: "}")) }

    mutating func beginArray() {
        beforeValue()
        bytes.append(UInt8(ascii: "["))
        stack.append((false, true))
    }

    mutating func endArray() { close(UInt8(ascii: "]")) }

    mutating func key(_ name: String) {
        separate()
        writeString(name)
        if pretty {
            bytes.append(contentsOf: [0x20, UInt8(ascii: ":"), 0x20])
        } else {
            bytes.append(UInt8(ascii: ":"))
        }
        afterKey = true
    }

    // MARK: values

    mutating func string(_ value: String) {
        beforeValue()
        writeString(value)
    }

    mutating func bool(_ value: Bool) {
        beforeValue()
        bytes.append(contentsOf: value ? Array("true".utf8) : Array("false".utf8))
    }

    mutating func int(_ value: Int) {
        beforeValue()
        writeInteger(value)
    }

    mutating func uint64(_ value: UInt64) {
        beforeValue()
        writeUnsigned(value)
    }

    /// Integral values below 2⁵³ without a fraction (`5`), others in Swift's shortest
    /// round-trip form (`0.1`, `1e-05`); non-finite ones as the strings `NaN`, `Infinity`,
    /// `-Infinity` (as `JSONReport` configures `JSONEncoder`).
    mutating func double(_ value: Double) {
        beforeValue()
        guard value.isFinite else {
            writeString(value.isNaN ? "NaN" : value > 0 ? "Infinity" : "-Infinity")
            return
        }
        if value == value.rounded(), abs(value) < 9_007_199_254_740_992 {
            writeInteger(Int(value))
        } else {
            bytes.append(contentsOf: value.description.utf8)
        }
    }

    /// `"key" : value` pairs whose value may be absent: nothing is written for nil.
    mutating func field(_ name: String, _ value: Int?) {
        guard let value else { return }
        key(name)
        int(value)
    }

    mutating func field(_ name: String, _ value: Double?) {
        guard let value else { return }
        key(name)
        double(value)
    }

    mutating func field(_ name: String, _ value: UInt64?) {
        guard let value else { return }
        key(name)
        uint64(value)
    }

    /// JSON text from `JSONEncoder` with the same `pretty` setting, placed as one value.
    mutating func fragment(_ json: Data) {
        beforeValue()
        guard pretty, stack.count > 0 else {
            bytes.append(contentsOf: json)
            return
        }
        // Indent every line after the first, except the blank line of an empty container.
        let indent = [UInt8](repeating: 0x20, count: 2 * stack.count)
        var previous: UInt8 = 0
        for byte in json {
            if previous == 0x0A && byte != 0x0A { bytes.append(contentsOf: indent) }
            bytes.append(byte)
            previous = byte
        }
    }

    /// An array of unsigned integers, written without per-element overhead.
    mutating func array(_ values: [UInt64]) {
        beginArray()
        for value in values {
            separate()
            writeUnsigned(value)
        }
        endArray()
    }

    mutating func array(_ values: [UInt32]) {
        beginArray()
        for value in values {
            separate()
            writeUnsigned(UInt64(value))
        }
        endArray()
    }

    // MARK: layout

    /// Before a value: nothing right after a key; in an array, the comma and line break.
    private mutating func beforeValue() {
        if afterKey {
            afterKey = false
            return
        }
        if !stack.isEmpty { separate() }
    }

    private mutating func separate() {
        guard !stack.isEmpty else { return }
        if stack[stack.count - 1].empty {
            stack[stack.count - 1].empty = false
        } else {
            bytes.append(UInt8(ascii: ","))
        }
        newline(depth: stack.count)
    }

    private mutating func close(_ bracket: UInt8) {
        let container = stack.removeLast()
        if pretty {
            if container.empty { bytes.append(0x0A) }
            newline(depth: stack.count)
        }
        bytes.append(bracket)
    }

    private mutating func newline(depth: Int) {
        guard pretty else { return }
        bytes.append(0x0A)
        for _ in 0..<(2 * depth) { bytes.append(0x20) }
    }

    // MARK: scalars

    private mutating func writeInteger(_ value: Int) {
        if value < 0 {
            bytes.append(UInt8(ascii: "-"))
            writeUnsigned(UInt64(value.magnitude))
        } else {
            writeUnsigned(UInt64(value))
        }
    }

    private mutating func writeUnsigned(_ value: UInt64) {
        var rest = value
        var count = 0
        repeat {
            count += 1
            rest /= 10
        } while rest > 0
        bytes.append(contentsOf: repeatElement(0x30, count: count))
        var index = bytes.count - 1
        rest = value
        repeat {
            bytes[index] = 0x30 + UInt8(rest % 10)
            rest /= 10
            index -= 1
        } while rest > 0
    }

    private mutating func writeString(_ value: String) {
        JSONQuoting.appendQuoted(value, to: &bytes, escapes: .jsonEncoder)
    }
}
