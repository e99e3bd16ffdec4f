// swift-tools-version:6.1
import PackageDescription

// The CPU the release build's engine kernels are compiled for: the building machine's, unless
// LLMPERF_PORTABLE_CPU names a portable target (scripts/gpu-check builds with x86-64-v3 for a machine it has
// not seen). The C kernels choose AVX-512 at run time either way.
let releaseCPU = Context.environment["LLMPERF_PORTABLE_CPU"] ?? "native"

let package = Package(
    name: "llmperf",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "llmperf", targets: ["llmperf"]),
        .library(name: "LLMPerfCore", targets: ["LLMPerfCore"]),
        .library(name: "LLMPerfClient", targets: ["LLMPerfClient"]),
        .library(name: "LLMPerfStore", targets: ["LLMPerfStore"]),
        .library(name: "LLMPerfReport", targets: ["LLMPerfReport"]),
        .library(name: "LLMPerfRunner", targets: ["LLMPerfRunner"]),
        .library(name: "LLMTokenizer", targets: ["LLMTokenizer"]),
        .library(name: "InferenceEngine", targets: ["InferenceEngine"]),
        .library(name: "InferenceServer", targets: ["InferenceServer"]),
        .library(name: "VulkanEngine", targets: ["VulkanEngine"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", exact: "1.8.2"),
        .package(url: "https://github.com/jpsim/Yams", exact: "6.2.2"),
        .package(url: "https://github.com/groue/GRDB.swift", exact: "7.10.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", exact: "2.28.1"),
        .package(url: "https://github.com/apple/swift-log", exact: "1.16.2"),
        .package(url: "https://github.com/apple/swift-nio", exact: "2.101.3"),
        .package(url: "https://github.com/apple/swift-nio-ssl", exact: "2.37.6"),
        .package(url: "https://github.com/apple/swift-nio-extras", exact: "1.35.2"),
        .package(url: "https://github.com/apple/swift-http-types", exact: "1.8.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", exact: "2.13.0"),
        .package(url: "https://github.com/apple/swift-crypto", exact: "4.5.2"),
        .package(url: "https://github.com/swift-server/swift-prometheus", exact: "2.4.1"),
    ],
    targets: [
        .systemLibrary(
            name: "CCurl",
            providers: [.apt(["libcurl4-openssl-dev"])]
        ),
        .target(
            name: "LLMPerfCore",
            dependencies: [.product(name: "Yams", package: "Yams"), .product(name: "Crypto", package: "swift-crypto")]
        ),
        .target(
            name: "LLMPerfClient",
            dependencies: ["LLMPerfCore", "CCurl"]
        ),
        .target(
            name: "LLMPerfStore",
            dependencies: ["LLMPerfCore", .product(name: "GRDB", package: "GRDB.swift")]
        ),
        .target(
            name: "LLMPerfReport",
            dependencies: ["LLMPerfCore"]
        ),
        .target(
            // The client's live metrics (`run --metrics-listen`): an adapter like the Client and the Store, it
            // imports Core and never the other LLMPerf targets.
            name: "LLMPerfExporter",
            dependencies: [
                "LLMPerfCore",
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
            ]
        ),
        .target(
            name: "LLMPerfRunner",
            // The profiler side never imports the backend side, with one exception: bench-engine
            // measures the engine in-process (EngineBenchmark), so the runner depends on InferenceEngine
            // and, for `--device vulkan`, VulkanEngine.
            // It counts tokens with LLMTokenizer: exact synthetic prompts and shared prefixes.
            // Yams writes the Kubernetes manifests of `kube render` (KubeManifests).
            dependencies: [
                "LLMPerfCore", "LLMPerfReport", "InferenceEngine", "VulkanEngine", "LLMTokenizer",
                .product(name: "Yams", package: "Yams"),
            ]
        ),
        .target(
            // The tokenizers (GGUF vocabularies and Hugging Face tokenizer.json) that both sides use: the engine to
            // encode, the profiler to build prompts of exact token lengths. Imports nothing of the project.
            name: "LLMTokenizer"
        ),
        .target(
            // The engine's C kernels (packed Q4 products with AVX-512VL permutes), chosen at run time by CPU
            // feature: optimised in every configuration, since the debug tests run them too.
            name: "CEngineKernels",
            cSettings: [.unsafeFlags(["-O3"])]
        ),
        .target(
            name: "InferenceEngine",
            dependencies: ["LLMTokenizer", "CEngineKernels"],
            swiftSettings: [
                // The matrix kernels are plain Swift SIMD: in release, compile them for the CPU that
                // builds them (AVX2/FMA, AVX-512 where present), as llama.cpp's native builds do,
                // and skip bounds checks. A binary built this way runs on CPUs like the builder's.
                .unsafeFlags(
                    ["-Ounchecked", "-Xcc", "-march=\(releaseCPU)"], .when(platforms: [.linux], configuration: .release)
                )
            ]
        ),
        .systemLibrary(
            // The Vulkan C API's header only: the loader (libvulkan.so.1) is opened at run time, so the binary runs
            // on the CPU where Vulkan is absent.
            name: "CVulkan",
            providers: [.apt(["libvulkan-dev"])]
        ),
        .target(
            // The Vulkan engine's compute shaders as SPIR-V (glsl/ compiled by scripts/compile-shaders).
            name: "CVulkanShaders",
            exclude: ["glsl"]
        ),
        .target(
            // The engine's forward pass on a Vulkan device (a GPU, or Mesa's lavapipe in the tests).
            name: "VulkanEngine",
            dependencies: ["InferenceEngine", "CVulkan", "CVulkanShaders"]
        ),
        .target(
            name: "InferenceServer",
            dependencies: [
                "InferenceEngine", "VulkanEngine", "LLMTokenizer",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOExtras", package: "swift-nio-extras"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .executableTarget(
            name: "llmperf",
            dependencies: [
                "LLMPerfCore", "LLMPerfClient", "LLMPerfStore", "LLMPerfReport", "LLMPerfRunner", "LLMPerfExporter",
                "InferenceServer", "InferenceEngine", "LLMTokenizer",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .testTarget(name: "LLMPerfCoreTests", dependencies: ["LLMPerfCore"], resources: [.copy("Fixtures")]),
        .testTarget(
            name: "LLMPerfClientTests", dependencies: ["LLMPerfClient", "LLMPerfCore"], resources: [.copy("Fixtures")]),
        .testTarget(
            name: "LLMPerfStoreTests",
            dependencies: ["LLMPerfStore", "LLMPerfCore", .product(name: "GRDB", package: "GRDB.swift")]),
        .testTarget(
            name: "LLMPerfExporterTests",
            dependencies: ["LLMPerfExporter", "LLMPerfCore", .product(name: "Prometheus", package: "swift-prometheus")]),
        .testTarget(name: "LLMPerfReportTests", dependencies: ["LLMPerfReport", "LLMPerfCore"], exclude: ["Golden"]),
        // Builders of tiny GGUF models for the engine's and the server's tests (debug builds only).
        .target(name: "InferenceTestSupport", dependencies: ["InferenceEngine", "LLMTokenizer"]),
        .testTarget(
            name: "InferenceEngineTests", dependencies: ["InferenceEngine", "LLMTokenizer", "InferenceTestSupport"]),
        .testTarget(name: "LLMTokenizerTests", dependencies: ["LLMTokenizer"], resources: [.copy("Fixtures")]),
        .testTarget(
            name: "VulkanEngineTests", dependencies: ["VulkanEngine", "InferenceEngine", "InferenceTestSupport"]),
        .testTarget(
            name: "InferenceServerTests",
            dependencies: ["InferenceServer", "InferenceEngine", "InferenceTestSupport", "VulkanEngine"]),
        .testTarget(
            name: "LLMPerfRunnerTests",
            dependencies: [
                "LLMPerfRunner", "LLMPerfCore", "LLMPerfReport", "InferenceEngine", "LLMTokenizer",
                "InferenceTestSupport", .product(name: "Yams", package: "Yams"),
            ],
            resources: [.copy("Fixtures")]),
        .testTarget(
            // InferenceTestSupport writes the tiny models the executable is run on (`--device vulkan`).
            name: "IntegrationTests",
            dependencies: [
                "LLMPerfCore", "LLMPerfStore", "InferenceTestSupport", .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Yams", package: "Yams"),
            ]
        ),
    ]
)
