// swift-tools-version:6.1
// Performance benchmarks for llmperf, with ordo-one/benchmark (package-benchmark): one executable
// per suite, run by its `benchmark` command plugin in release mode. Built and run by `make bench`
// (from the repository root) with its own scratch path, `.build-bench`, so it never touches `.build`:
//   swift package --package-path Benchmarks --scratch-path .build-bench benchmark
// Each suite's directory sits in this `Benchmarks/` folder, which is how the plugin finds it.
// Baseline p90 values are committed in `Thresholds/` and checked by `make bench-check`.
import PackageDescription

/// A suite: an executable target named `name` in the folder of that name.
func suite(_ name: String, _ products: [String]) -> Target {
    .executableTarget(
        name: name,
        dependencies: [.product(name: "Benchmark", package: "benchmark"), "BenchmarkSupport"]
            + products.map { .product(name: $0, package: "llmperf") },
        path: name,
        plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")])
}

let package = Package(
    name: "llmperf-benchmarks",
    platforms: [.macOS(.v14)],
    dependencies: [
        .package(name: "llmperf", path: ".."),
        // The malloc counters need the MallocInterposer trait; the Linux Swift 6.3 ARC runtime interposer
        // (the package's other default trait) is left out: these suites do not count retains.
        .package(url: "https://github.com/ordo-one/benchmark", exact: "1.38.1", traits: ["MallocInterposer"]),
    ],
    targets: [
        // What the suites share: the metrics and tolerances, seeded draws, synthetic traces.
        .target(
            name: "BenchmarkSupport",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "LLMPerfCore", package: "llmperf"),
            ],
            path: "BenchmarkSupport"),
        // The SSE framer with the OpenAI chat decoder on a 10k-event stream; JSONCursor.
        suite("ClientBenchmarks", ["LLMPerfClient", "LLMPerfCore"]),
        // RunComparison (compare's statistics) over two runs of 100k requests.
        suite("CoreBenchmarks", ["LLMPerfCore"]),
        // RequestWriter and RunStore storing 100k requests in a new SQLite file.
        suite("StoreBenchmarks", ["LLMPerfStore", "LLMPerfCore"]),
        // Matrix-vector products per weight format; the tokenizer on 1 MB; a decode step of the default model.
        suite("EngineBenchmarks", ["InferenceEngine", "LLMTokenizer", "LLMPerfCore"]),
    ]
)
