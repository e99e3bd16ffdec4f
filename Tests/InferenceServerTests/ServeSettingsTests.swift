import Foundation
import Testing

@testable import InferenceServer

/// `llmperf serve`'s options checked together: which complaint comes first, which options
/// belong to one engine, and what the server is configured with.
@Suite struct ServeSettingsTests {
    /// Durations as the profiler reads them, for the options that take one (seconds or ms only here).
    static func settings() -> ServeSettings {
        ServeSettings(
            durations: .init(
                parse: { text in
                    if text.hasSuffix("ms"), let n = Int64(text.dropLast(2)) { return .milliseconds(n) }
                    if text.hasSuffix("s"), let n = Int64(text.dropLast()) { return .seconds(n) }
                    if text.hasSuffix("m"), let n = Int64(text.dropLast()) { return .seconds(60 * n) }
                    return nil
                }, expectation: "a duration"))
    }

    static func complaint(_ change: (inout ServeSettings) -> Void) -> String? {
        var settings = settings()
        change(&settings)
        do {
            try settings.validate()
            return nil
        } catch {
            return error.description
        }
    }

    @Test func theDefaultsAreValidAndServeSynthetic() throws {
        let settings = Self.settings()
        try settings.validate()
        #expect(settings.resolvedEngine == .synthetic)
        let configuration = try settings.configuration()
        #expect(configuration.maxBodyBytes == 8 << 20)
        #expect(configuration.headerTimeout == .seconds(60))
        #expect(configuration.faults == nil)
        #expect(configuration.port == 8080 && configuration.host == "127.0.0.1")
    }

    @Test func aModelMeansTheTransformerUnlessTheEngineSaysOtherwise() {
        var settings = Self.settings()
        settings.model = "default"
        #expect(settings.resolvedEngine == .transformer)
        #expect(
            Self.complaint {
                $0.model = "default"
                $0.engine = .synthetic
            } == "--model applies to the transformer engine, not synthetic")
    }

    @Test func transformerSwitchesAreRefusedOnTheSyntheticEngine() {
        #expect(Self.complaint { $0.weights = .f32 } == "--weights applies to the transformer engine, not synthetic")
        #expect(Self.complaint { $0.batching = .off } == "--batching applies to the transformer engine, not synthetic")
        #expect(
            Self.complaint { $0.prefixCache = .off }
                == "--prefix-cache applies to the transformer engine, not synthetic")
        #expect(Self.complaint { $0.maxQueue = 4 }?.hasPrefix("--max-queue applies to the transformer engine") == true)
        #expect(
            Self.complaint {
                $0.engine = .transformer
                $0.fault = "http_500"
            } == "--fault and --fault-mix apply to the synthetic engine")
    }

    @Test func rangesAndFormsAreCheckedInOrder() {
        #expect(Self.complaint { $0.threads = 0 } == "--threads must be 1…64, got 0")
        #expect(
            Self.complaint {
                $0.threads = 0
                $0.port = -1
            } == "--threads must be 1…64, got 0")
        #expect(Self.complaint { $0.tlsCert = "c.pem" } == "--tls-cert and --tls-key go together")
        #expect(Self.complaint { $0.maxBody = "0" }?.hasPrefix("--max-body: expected a size") == true)
        #expect(Self.complaint { $0.headerTimeout = "0s" } == "--header-timeout: expected a duration, got '0s'")
        #expect(Self.complaint { $0.faultDrip = "fast" } == "--fault-drip: expected a duration, got 'fast'")
        #expect(
            Self.complaint {
                $0.fault = "none"
                $0.faultMix = "none=1"
            } == "--fault and --fault-mix exclude each other")
        #expect(Self.complaint { $0.fault = "no_such_fault" }?.hasPrefix("--fault: ") == true)
    }

    @Test func theSyntheticBatchOptionsAreCheckedAndReachTheEngine() throws {
        #expect(Self.complaint { $0.maxRunning = 0 } == "--max-running must be 1…100000, got 0")
        #expect(Self.complaint { $0.itlPerRunningMs = -1 } == "--itl-per-running-ms must be 0…60000, got -1.0")
        #expect(
            Self.complaint {
                $0.engine = .transformer
                $0.maxRunning = 4
            }?.hasPrefix("--max-running applies to the synthetic engine") == true)
        #expect(
            Self.complaint {
                $0.engine = .transformer
                $0.itlPerRunningMs = 2
            }?.hasPrefix("--itl-per-running-ms applies to the synthetic engine") == true)
        var settings = Self.settings()
        settings.maxRunning = 3
        settings.itlPerRunningMs = 1.5
        try settings.validate()
        guard case .synthetic(let engine) = try settings.configuration().engine else {
            Issue.record("not the synthetic engine")
            return
        }
        #expect(engine.maxRunning == 3 && engine.itlPerRunningMs == 1.5)
    }

    @Test func theDeviceReachesTheTransformerEngineAndOnlyIt() throws {
        #expect(
            Self.complaint { $0.device = .vulkan(index: nil) }
                == "--device applies to the transformer engine, not synthetic")
        var settings = Self.settings()
        settings.engine = .transformer
        #expect(settings.transformerOptions.device == .cpu)
        settings.device = .vulkan(index: 1)
        settings.threads = 3
        settings.speculative = "self:q8_0"
        try settings.validate()
        let options = settings.transformerOptions
        #expect(options.device == .vulkan(index: 1))
        #expect(options.threads == 3 && options.speculation == .selfQuantized(.q8_0))
        #expect(TransformerServingOptions().device == .cpu)
    }

    @Test func maxBodyReadsBinaryUnits() {
        var settings = Self.settings()
        for (text, bytes) in [("1KiB", 1024), ("2MB", 2 << 20), ("512", 512), ("3 GiB", 3 << 30), ("1B", 1)] {
            settings.maxBody = text
            #expect(settings.parsedMaxBody == bytes, "\(text)")
        }
        for text in ["0", "-1KiB", "KiB", "1.5MiB"] {
            settings.maxBody = text
            #expect(settings.parsedMaxBody == nil, "\(text)")
        }
    }

    @Test func theFaultOptionsBecomeTheFaultMode() throws {
        var settings = Self.settings()
        settings.fault = "reset_mid_stream"
        settings.faultAfter = 5
        settings.faultStall = "2s"
        let faults = try #require(try settings.configuration().faults)
        #expect(faults.after == 5)
        #expect(faults.stall == .seconds(2))
        #expect(faults.selection == .every(.resetMidStream))
    }
}
