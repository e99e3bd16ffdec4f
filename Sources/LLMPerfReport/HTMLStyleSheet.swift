/// The report page's only style sheet, inlined in `<style>`: system fonts, no web fonts, no
/// external resources.
enum HTMLStyleSheet {
    static let css = """
        :root { color-scheme: light; }
        * { box-sizing: border-box; }
        body { margin: 0; padding: 24px 32px 48px; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, \
        "Helvetica Neue", Arial, sans-serif; color: #1d2433; background: #f6f7f9; }
        h1 { font-size: 22px; margin: 0 0 4px; }
        h2 { font-size: 18px; margin: 32px 0 10px; padding-bottom: 4px; border-bottom: 1px solid #d9dde3; }
        h3 { font-size: 15px; margin: 18px 0 6px; }
        .subtitle { color: #5b6475; margin: 0 0 16px; }
        .card { background: #fff; border: 1px solid #e1e4e9; border-radius: 8px; padding: 14px 16px; margin: 12px 0; \
        overflow-x: auto; }
        table { border-collapse: collapse; font-variant-numeric: tabular-nums; }
        th, td { padding: 4px 10px; border-bottom: 1px solid #eceef2; text-align: right; white-space: nowrap; }
        th { font-weight: 600; color: #3a4254; background: #fafbfc; }
        th:first-child, td:first-child, td.text, th.text { text-align: left; }
        td.detail { text-align: left; white-space: normal; max-width: 520px; color: #5b6475; }
        .swatch { display: inline-block; width: 10px; height: 10px; border-radius: 2px; margin-right: 6px; }
        .charts { display: grid; grid-template-columns: repeat(auto-fill, minmax(500px, 1fr)); gap: 12px; }
        .chart-card { background: #fff; border: 1px solid #e1e4e9; border-radius: 8px; padding: 10px 12px; }
        .chart-card h3 { margin: 2px 0 2px; }
        .note { color: #6b7385; font-size: 12px; margin: 2px 0 6px; }
        svg.chart { display: block; width: 100%; max-width: 1100px; height: auto; font-size: 11px; fill: #3a4254; }
        svg.chart .grid line { stroke: #eceef2; stroke-width: 1; }
        svg.chart .axis { stroke: #8a93a5; stroke-width: 1; }
        svg.chart .axis-label { font-size: 12px; fill: #3a4254; }
        svg.chart .guide { stroke: #b0b6c2; stroke-dasharray: 4 3; }
        svg.chart .guide-label { font-size: 10px; fill: #6b7385; }
        svg.chart .error-bar { fill: none; stroke-width: 1; opacity: 0.7; }
        svg.chart .row-label { font-size: 10px; fill: #6b7385; }
        svg.chart .segment-label { fill: #fff; paint-order: stroke; stroke: rgba(0, 0, 0, 0.45); stroke-width: 2px; }
        svg.chart .legend-side { font-weight: 600; }
        .verdict-better { color: #1b7f3b; font-weight: 600; }
        .verdict-worse { color: #c62828; font-weight: 600; }
        .verdict-same { color: #8a93a5; }
        .warning { color: #8a5a00; background: #fff7e0; border: 1px solid #f0d890; border-radius: 6px; \
        padding: 6px 10px; margin: 6px 0; }
        .bar { display: inline-block; height: 10px; background: #c62828; border-radius: 2px; vertical-align: middle; }
        pre { background: #fbfbfc; border: 1px solid #e1e4e9; border-radius: 6px; padding: 10px 12px; \
        overflow-x: auto; font: 12px/1.4 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; white-space: pre; }
        details > summary { cursor: pointer; font-weight: 600; margin: 8px 0; }
        code { font: 12px ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
        dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: 2px 14px; margin: 6px 0; }
        dl.facts dt { color: #6b7385; }
        dl.facts dd { margin: 0; overflow-wrap: anywhere; }
        footer { margin-top: 36px; color: #8a93a5; font-size: 12px; }
        """
}
