import Foundation
import InferenceTestSupport
import LLMTokenizer
import Testing

@testable import InferenceEngine

/// A GGUF key of the wrong type is an error naming the key, never silently replaced by the
/// default a missing key gets.
@Suite struct ModelConfigTests {
    static func config(_ extra: [(String, GGUFTestWriter.Value)]) throws -> ModelConfig {
        var writer = GGUFTestWriter()
        writer.add("general.architecture", .string("llama"))
        writer.add("llama.embedding_length", .u32(64))
        writer.add("llama.attention.head_count", .u32(4))
        writer.add("llama.block_count", .u32(2))
        writer.add("llama.feed_forward_length", .u32(128))
        for (key, value) in extra { writer.add(key, value) }
        let path = try writer.write(name: "config")
        defer { try? FileManager.default.removeItem(atPath: path) }
        return try ModelConfig.read(from: try GGUFFile(path: path))
    }

    @Test func missingOptionalKeysTakeTheirDefaults() throws {
        let config = try Self.config([])
        #expect(config.kvHeadCount == 4)
        #expect(config.headDimension == 16)
        #expect(config.ropeBase == 10000)
        #expect(config.trainedContextLength == 2048)
        let given = try Self.config([
            ("llama.attention.head_count_kv", .u32(2)), ("llama.rope.freq_base", .f32(500_000)),
            ("llama.context_length", .u64(8192)),
        ])
        #expect(given.kvHeadCount == 2 && given.ropeBase == 500_000 && given.trainedContextLength == 8192)
    }

    @Test func aKeyOfTheWrongTypeIsAnError() throws {
        let cases: [(String, GGUFTestWriter.Value, String)] = [
            ("llama.attention.head_count_kv", .string("2"), "an integer"),
            ("llama.attention.key_length", .f32(16), "an integer"),
            ("llama.vocab_size", .string("many"), "an integer"),
            ("llama.rope.dimension_count", .bool(true), "an integer"),
            ("llama.rope.freq_base", .string("10000"), "a number"),
            ("llama.attention.layer_norm_rms_epsilon", .string("1e-6"), "a number"),
            ("llama.context_length", .f64(4096), "an integer"),
        ]
        for (key, value, expected) in cases {
            #expect(throws: GGUFError.wrongValueType(key: key, expected: expected), "\(key)") {
                try Self.config([(key, value)])
            }
        }
    }
}
