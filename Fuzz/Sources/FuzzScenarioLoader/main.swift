import FuzzDriver
import LLMPerfCore

/// libFuzzer entry: the input is a scenario file's text. Loading may fail with a `ScenarioError`
/// (that is the point of most inputs); it must never crash, hang or trap. `${VAR}` references
/// resolve against a fixed environment so runs are reproducible.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzScenarioLoader(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    let environment = ["API_KEY": "k", "HOST": "127.0.0.1", "EMPTY": ""]
    do {
        let document = try ScenarioLoader.load(yaml: text, path: "/fuzz/scenario.yml", environment: environment)
        // A loaded document must describe itself without trapping.
        _ = String(describing: document)
    } catch {
        _ = error.description
    }
    return 0
}

/// The executable's entry point (SwiftPM's name for it): libFuzzer with this target's input.
@_cdecl("FuzzScenarioLoader_main")
public func fuzzScenarioLoaderMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    llmperf_fuzz_main(argc, argv) { data, size in
        guard let data else { return 0 }
        return fuzzScenarioLoader(data, size)
    }
}
