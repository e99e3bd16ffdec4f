import Foundation

extension ScenarioDecoder {
    static let labKeys = ["optimization", "moves", "metric", "side", "expect", "compare", "sweep"]
    static let labComparisonKeys = ["before", "after", "label", "expect"]

    /// The document-level `lab:` section, checked against the document's variants (in file
    /// order; the first is the default baseline).
    func lab(_ node: ScenarioNode, scenarioName: String, variants: [String]) throws(ScenarioError) -> LabSpec {
        let path = ["lab"]
        try mapping(node, path, allowed: Self.labKeys, what: "a mapping with metric, side and optionally moves, …")
        guard variants.count >= 2 else {
            throw error(
                .invalidValue, at: node, path,
                "needs at least two variants to compare (a baseline and an optimized one), got \(variants.count)")
        }

        guard let metricNode = node["metric"] else {
            throw missing("metric", in: node, path, "missing required key; expected a metric such as ttft.p50")
        }
        let metric = try labMetric(metricNode, path + ["metric"])
        guard let sideNode = node["side"] else {
            throw missing(
                "side", in: node, path,
                "missing required key; expected client (works against any endpoint) or server (needs the bundled backend)"
            )
        }
        let side = try choice(sideNode, path + ["side"], LabSide.allCases.map { ($0.rawValue, $0) })
        var optimization = scenarioName
        if let optimizationNode = node["optimization"] {
            optimization = try nonEmptyString(optimizationNode, path + ["optimization"], expected: "a name")
        }
        var moves = metric.measure.displayName
        if let movesNode = node["moves"] {
            moves = try nonEmptyString(movesNode, path + ["moves"], expected: "a phrase such as time to first token")
        }
        let expectation = try node["expect"].map { (n: ScenarioNode) throws(ScenarioError) in
            try labExpectation(n, path + ["expect"], measure: metric.measure)
        }

        var comparisons: [LabComparison] = []
        if let compareNode = node["compare"] {
            let comparePath = path + ["compare"]
            let expected = "a list of {before, after} variant pairs"
            guard let items = compareNode.items else { throw invalid(compareNode, comparePath, expected: expected) }
            guard !items.isEmpty else { throw invalid(compareNode, comparePath, expected: "at least one pair") }
            for (index, item) in items.enumerated() {
                let itemPath = comparePath + ["\(index)"]
                try mapping(item, itemPath, allowed: Self.labComparisonKeys, what: "a mapping with before and after")
                let before = try variantName("before", in: item, itemPath, variants: variants)
                let after = try variantName("after", in: item, itemPath, variants: variants)
                guard before != after else {
                    throw error(
                        .invalidValue, at: item["after"]!, itemPath + ["after"],
                        "is the same variant as before ('\(before)'); compare two different variants")
                }
                var comparison = LabComparison(before: before, after: after, expectation: expectation)
                if let labelNode = item["label"] {
                    comparison.label = try nonEmptyString(labelNode, itemPath + ["label"], expected: "a short label")
                }
                if let expectNode = item["expect"] {
                    comparison.expectation = try labExpectation(
                        expectNode, itemPath + ["expect"], measure: metric.measure)
                }
                comparisons.append(comparison)
            }
        } else {
            comparisons = variants.dropFirst().map {
                LabComparison(before: variants[0], after: $0, expectation: expectation)
            }
        }
        var spec = LabSpec(
            optimization: optimization, moves: moves, metric: metric, side: side, expectation: expectation,
            comparisons: comparisons)
        if let sweepNode = node["sweep"] {
            let sweepPath = path + ["sweep"]
            let expected = "a list of rising concurrencies such as [1, 2, 4, 8, 16]"
            guard let items = sweepNode.items, (1...16).contains(items.count) else {
                throw invalid(sweepNode, sweepPath, expected: expected + " (1 to 16 of them)")
            }
            var loads: [Int] = []
            for (index, item) in items.enumerated() {
                let value = try integer(item, sweepPath + ["\(index)"], minimum: 1)
                guard value <= 1024 else { throw invalid(item, sweepPath + ["\(index)"], expected: "at most 1024") }
                if let last = loads.last, value <= last {
                    throw invalid(item, sweepPath + ["\(index)"], expected: "a concurrency above \(last) (they rise)")
                }
                loads.append(value)
            }
            spec.sweep = loads
        }
        return spec
    }

    private func labMetric(_ node: ScenarioNode, _ path: [String]) throws(ScenarioError) -> LabMetric {
        guard let text = node.scalarText else {
            throw invalid(node, path, expected: "a metric such as ttft.p50, tpot.p50 or output_tokens_per_s")
        }
        if let metric = LabMetric(key: text) { return metric }
        var message = "unknown metric '\(text)'; expected METRIC.STAT (such as ttft.p50; statistics "
        message += LabMetric.statistics.joined(separator: ", ") + ") or "
        message += LabMetric.runLevel.map(\.key).joined(separator: ", ")
        if let suggestion = ScenarioSuggestion.closest(to: text, in: LabMetric.keys) {
            message = "unknown metric '\(text)'; did you mean '\(suggestion)'?"
        }
        throw error(.invalidValue, at: node, path, message)
    }

    private func labExpectation(_ node: ScenarioNode, _ path: [String], measure: RunMeasure)
        throws(ScenarioError) -> LabExpectation
    {
        let bound = measure.higherIsBetter ? "\">= 100\"" : "\"<= 5ms\""
        let expected = "an improvement factor such as 2x, or a bound on the after value such as \(bound)"
        guard let text = node.scalarText, let expectation = LabExpectation.parse(text, measure: measure) else {
            throw invalid(node, path, expected: expected)
        }
        return expectation
    }

    private func variantName(_ key: String, in node: ScenarioNode, _ path: [String], variants: [String])
        throws(ScenarioError) -> String
    {
        guard let valueNode = node[key] else {
            throw missing(key, in: node, path, "missing required key; expected a variant name")
        }
        let name = try string(valueNode, path + [key], expected: "a variant name")
        guard variants.contains(name) else {
            var message = "no variant named '\(name)'; the variants are \(variants.joined(separator: ", "))"
            if let suggestion = ScenarioSuggestion.closest(to: name, in: variants) {
                message = "no variant named '\(name)'; did you mean '\(suggestion)'?"
            }
            throw error(.invalidValue, at: valueNode, path + [key], message)
        }
        return name
    }
}
