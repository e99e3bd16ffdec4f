/// Run colors for charts: the Okabe–Ito palette (distinguishable with color-vision
/// deficiencies), yellow swapped for a dark gray that reads on white; one per run, up to 8.
enum ChartPalette {
    static let runColors = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#555555", "#8C564B"]

    static func color(run index: Int) -> String { runColors[index % runColors.count] }

    /// Waterfall phases, in order: DNS, TCP, TLS, wait to first byte, first byte to first
    /// token, decode.
    static let phaseColors = ["#9467BD", "#1F77B4", "#17BECF", "#BCBD22", "#FF7F0E", "#2CA02C"]
}
