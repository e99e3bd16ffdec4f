import ArgumentParser
import Foundation
import LLMPerfCore
import LLMPerfRunner

/// `llmperf kube`: Kubernetes manifests that run a scenario as shards and merge their results.
struct KubeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kube",
        abstract: "Kubernetes: run a scenario's load as shards in a cluster and merge the results.",
        subcommands: [KubeRenderCommand.self])
}

struct KubeRenderCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "render",
        abstract: "Write the manifests that run a scenario in N shards and merge them (multi-document YAML).",
        discussion: """
            Writes a ConfigMap NAME-scenario (the scenario file verbatim), a PersistentVolumeClaim NAME-results \
            (ReadWriteMany) for the shard files, an Indexed Job NAME whose N pods each run their share of the \
            load (`llmperf run --shard I/N --start-at TIME --batch-id BATCH --db /results/shard-I.sqlite`), and \
            a Job NAME-merge that waits for them and merges them into /results/merged.sqlite. `kubectl apply -f` \
            runs it all; the file's header shows how to copy merged.sqlite out.

            The start time is fixed when the file is rendered (now + --start-delay, 2m by default): apply it at \
            once, or pass --start-at. Each ${VAR} the scenario names becomes an env var of the shard pods from \
            the Secret --secret (key VAR); the render never reads or writes a variable's value. Files the \
            scenario refers to (prompt_file, datasets, traces) are not carried: the image must have them.
            """)

    @Argument(help: "The scenario file (YAML, version: 1).") var scenario: String
    @Option(help: "How many shards (pods) share the load, 1 to \(KubeManifests.maxShards).") var shards: Int
    @Option(help: "The llmperf container image, e.g. registry.example.com/llmperf:0.1.0.") var image: String
    @Option(
        help: ArgumentHelp(
            "The Job's name and the prefix of the other objects (a DNS-1123 label of at most \(KubeManifests.maxNameLength) characters; default: from the scenario's file name).",
            valueName: "name"))
    var name: String?
    @Option(help: "Put every object in this namespace (default: kubectl's).") var namespace: String?
    @Option(help: ArgumentHelp("The Secret that holds the scenario's ${VAR} values, one key each.", valueName: "name"))
    var secret: String?
    @Option(
        help: ArgumentHelp(
            "When every shard starts sending, RFC 3339 (e.g. 2026-12-06T23:00:00Z).", valueName: "time"))
    var startAt: String?
    @Option(
        help: ArgumentHelp(
            "Start this long after the render (default 2m): apply the file at once.", valueName: "duration"))
    var startDelay: String?
    @Option(help: ArgumentHelp("The results claim's storage class.", valueName: "name")) var storageClass: String?
    @Option(help: ArgumentHelp("The results claim's size.", valueName: "size")) var storage = "1Gi"
    @Option(help: ArgumentHelp("CPU each pod requests and is limited to.", valueName: "quantity")) var cpu = "2"
    @Option(help: ArgumentHelp("Memory each pod requests and is limited to.", valueName: "quantity")) var memory =
        "1Gi"
    @Option(name: [.short, .customLong("output")], help: "Write the YAML to this file (default: standard output).")
    var output: String?

    /// The default start delay.
    static let defaultStartDelay = Duration.seconds(120)

    func validate() throws {
        guard (1...KubeManifests.maxShards).contains(shards) else {
            throw ValidationError("--shards must be between 1 and \(KubeManifests.maxShards), got \(shards)")
        }
        if startAt != nil && startDelay != nil {
            throw ValidationError("--start-at and --start-delay exclude each other")
        }
        _ = try startTime(now: Date())
    }

    /// `--start-at`, or now + `--start-delay` (2m by default).
    func startTime(now: Date) throws -> Date {
        if let startAt {
            guard let date = KubeManifests.parseTime(startAt) else {
                throw ValidationError(
                    "--start-at expects an RFC 3339 time such as 2026-12-06T23:00:00Z, got '\(startAt)'")
            }
            return date
        }
        var delay = Self.defaultStartDelay
        if let startDelay {
            guard let parsed = DurationParser.parse(startDelay) else {
                throw ValidationError("--start-delay expects a duration such as 90s or 5m, got '\(startDelay)'")
            }
            delay = parsed
        }
        return now.addingTimeInterval(delay.secondsValue)
    }

    /// The default name: the scenario's file name as a DNS-1123 label.
    var jobName: String {
        if let name { return name }
        let base = ((scenario as NSString).lastPathComponent as NSString).deletingPathExtension.lowercased()
        var label = String(base.map { ("a"..."z").contains($0) || ("0"..."9").contains($0) ? $0 : "-" })
        label = String(label.prefix(KubeManifests.maxNameLength)).trimmingCharacters(
            in: CharacterSet(charactersIn: "-"))
        return label.isEmpty ? "llmperf" : label
    }

    func run() throws {
        guard let data = FileManager.default.contents(atPath: scenario) else {
            throw CLIError.invalid("cannot read \(scenario)")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw CLIError.invalid("\(scenario) is not UTF-8 text")
        }
        let now = Date()
        let start = try startTime(now: now)
        if start < now {
            FileHandle.standardError.write(
                Data(
                    "llmperf: note: --start-at \(KubeManifests.timestamp(start)) is already past\n"
                        .utf8))
        }
        let settings = KubeManifests.Settings(
            name: jobName, namespace: namespace, image: image, shards: shards, secret: secret,
            startAt: start, batchID: KubeManifests.batchID(name: jobName, at: now),
            storageClass: storageClass, storage: storage, cpu: cpu, memory: memory)
        let yaml: String
        do {
            yaml = try KubeManifests(settings: settings, scenarioText: text, scenarioPath: scenario).render()
        } catch {
            throw CLIError.invalid(error.description)
        }
        if let output {
            do {
                try Data(yaml.utf8).write(to: URL(fileURLWithPath: output))
            } catch {
                throw CLIError.failure("cannot write \(output): \(error.localizedDescription)")
            }
        } else {
            FileHandle.standardOutput.write(Data(yaml.utf8))
        }
    }
}
