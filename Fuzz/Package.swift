// swift-tools-version:6.1
// libFuzzer harnesses for llmperf's parsers: one executable per entry point. Built and run by
// `make fuzz` (from the repository root) with its own scratch path, `.build-fuzz`:
//   swift build --package-path Fuzz --scratch-path .build-fuzz -Xswiftc -sanitize=fuzzer,address
// Each executable's `LLVMFuzzerTestOneInput` is the function under fuzzing; its entry point hands
// it to libFuzzer (FuzzDriver), so the usual libFuzzer flags apply (-max_total_time=60 CORPUS...).
import PackageDescription

// `main.swift` holds only functions: compiled as a library file, it has no top-level code.
let entryFlags: [SwiftSetting] = [.unsafeFlags(["-parse-as-library"])]

let package = Package(
    name: "llmperf-fuzz",
    dependencies: [
        .package(name: "llmperf", path: ".."),
        // The same versions the main package pins (Package.swift), for the request decoder's sources.
        .package(url: "https://github.com/apple/swift-nio", exact: "2.101.3"),
        .package(url: "https://github.com/apple/swift-http-types", exact: "1.8.0"),
    ],
    targets: [
        // Starts libFuzzer from each executable's entry point (see FuzzDriver.h).
        .target(name: "FuzzDriver"),
        // The scenario loader on YAML bytes.
        .executableTarget(
            name: "FuzzScenarioLoader",
            dependencies: ["FuzzDriver", .product(name: "LLMPerfCore", package: "llmperf")],
            swiftSettings: entryFlags),
        // The SSE framer and the OpenAI stream decoder on byte streams cut at arbitrary points.
        .executableTarget(
            name: "FuzzSSEStream",
            dependencies: [
                "FuzzDriver",
                .product(name: "LLMPerfClient", package: "llmperf"),
                .product(name: "LLMPerfCore", package: "llmperf"),
            ],
            swiftSettings: entryFlags),
        // The Prometheus text parser (a server's /metrics) and what a run reads from its families.
        .executableTarget(
            name: "FuzzPrometheusText",
            dependencies: ["FuzzDriver", .product(name: "LLMPerfCore", package: "llmperf")],
            swiftSettings: entryFlags),
        // The GGUF header reader (magic, version, metadata, tensor infos).
        .executableTarget(
            name: "FuzzGGUFHeader",
            dependencies: ["FuzzDriver", .product(name: "InferenceEngine", package: "llmperf")],
            swiftSettings: entryFlags),
        // The server's request decoder (JSON body → validated parameters). Its source files are
        // compiled into this target (links in `Server/`), so the fuzz build needs only NIOCore
        // and HTTPTypes, not the whole server with Hummingbird and NIOSSL.
        .executableTarget(
            name: "FuzzRequestDecoder",
            dependencies: [
                "FuzzDriver",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
            ],
            swiftSettings: entryFlags),
    ]
)
