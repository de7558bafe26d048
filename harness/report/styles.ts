// The one stylesheet of the run page and the index, inlined into each. System fonts only: a
// web font would be a network request, and the page must open from disk with none.

export const css = `
:root {
  --fg: #1f2328; --muted: #59636e; --faint: #818b98; --line: #d1d9e0; --soft: #eaeef2;
  --bg: #f6f8fa; --card: #fff;
  --pass: #1a7f37; --pass-bg: #dafbe1; --fail: #cf222e; --fail-bg: #ffebe9;
  --unknown: #9a6700; --unknown-bg: #fff8c5; --accent: #0969da;
  --mono: ui-monospace, SFMono-Regular, "SF Mono", Menlo, Consolas, "Liberation Mono", "DejaVu Sans Mono", monospace;
}
* { box-sizing: border-box; }
html { -webkit-text-size-adjust: 100%; }
body {
  margin: 0; background: var(--bg); color: var(--fg);
  font: 14px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", "Noto Sans", "Liberation Sans", Arial, sans-serif;
  font-variant-numeric: tabular-nums;
}
.wrap { max-width: 1180px; margin: 0 auto; padding: 0 24px; }
h1, h2, h3, h4 { line-height: 1.25; margin: 0; }
h2 { font-size: 17px; font-weight: 600; margin-bottom: 12px; display: flex; align-items: baseline; gap: 10px; }
h2 .count { font-size: 13px; font-weight: 400; color: var(--muted); }
h4 { font-size: 13px; font-weight: 600; margin: 18px 0 8px; }
p { margin: 0 0 8px; }
code, pre { font-family: var(--mono); font-size: 12.5px; }
a { color: var(--accent); text-decoration: none; }
a:hover { text-decoration: underline; }
.muted { color: var(--muted); }
.num { text-align: right; white-space: nowrap; }

/* Verdict banner */
.verdict { border-bottom: 1px solid var(--line); background: var(--card); }
.verdict .wrap { display: flex; gap: 20px; align-items: center; padding-top: 22px; padding-bottom: 22px; }
.verdict .badge {
  font-size: 22px; font-weight: 700; letter-spacing: .06em; padding: 10px 18px; border-radius: 8px;
  color: #fff; min-width: 128px; text-align: center;
}
.v-PASS .badge { background: var(--pass); } .v-FAIL .badge { background: var(--fail); }
.v-UNKNOWN .badge, .v-INCOMPLETE .badge { background: var(--unknown); }
.verdict { border-top: 5px solid var(--unknown); }
.v-PASS.verdict { border-top-color: var(--pass); } .v-FAIL.verdict { border-top-color: var(--fail); }
.verdict h1 { font-size: 22px; font-weight: 600; }
.verdict .reason { font-size: 15px; margin: 4px 0 6px; }
.v-FAIL .reason { color: var(--fail); } .v-PASS .reason { color: var(--pass); } .v-UNKNOWN .reason { color: var(--unknown); }
.verdict .meta { color: var(--muted); font-size: 13px; margin: 0; }
.verdict .meta span + span::before { content: "·"; margin: 0 8px; color: var(--faint); }

nav.toc { background: var(--card); border-bottom: 1px solid var(--line); position: sticky; top: 0; z-index: 2; }
nav.toc .wrap { display: flex; gap: 18px; padding-top: 8px; padding-bottom: 8px; font-size: 13px; overflow-x: auto; }
nav.toc a { color: var(--muted); white-space: nowrap; }
nav.toc a:hover { color: var(--fg); }

main.wrap { padding-top: 20px; padding-bottom: 40px; }
section.card, details.card {
  background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 18px 20px; margin-bottom: 18px;
}
.notice { border: 1px solid #d4a72c; background: var(--unknown-bg); border-radius: 8px; padding: 10px 14px; margin-bottom: 18px; }
.notice ul { margin: 4px 0 0; padding-left: 20px; }

/* Summary tiles */
.tiles { display: grid; grid-template-columns: repeat(auto-fit, minmax(170px, 1fr)); gap: 12px; margin-bottom: 18px; }
.tile { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 12px 14px; }
.tile .k { font-size: 12px; color: var(--muted); }
.tile .v { font-size: 22px; font-weight: 600; margin-top: 2px; }
.tile .v small { font-size: 13px; font-weight: 400; color: var(--muted); }
.tile .sub { font-size: 12px; color: var(--muted); margin-top: 2px; }
.tile.bad .v { color: var(--fail); } .tile.warn .v { color: var(--unknown); } .tile.good .v { color: var(--pass); }

/* Tables */
table.data { width: 100%; border-collapse: collapse; }
table.data th { text-align: left; font-weight: 600; font-size: 12px; color: var(--muted); border-bottom: 1px solid var(--line); padding: 6px 10px; white-space: nowrap; }
table.data td { border-bottom: 1px solid var(--soft); padding: 7px 10px; vertical-align: top; }
table.data th.num, table.data td.num { text-align: right; }
table.data tr:last-child > td { border-bottom: 0; }
table.data tr.row-fail > td { background: #fff5f5; }
table.data tr.row-unknown > td { background: #fffbea; }
table.compact td, table.compact th { padding: 3px 8px; font-size: 12.5px; }
.desc { color: var(--muted); font-size: 13px; }
td.detail { padding: 0 10px 12px 10px !important; }
td.ids code { font-size: 11.5px; }
td.ids .id { white-space: nowrap; margin-right: 8px; }
table.ops td:nth-child(3) { white-space: nowrap; }
table.ops th:nth-child(6) { width: 50%; }
table.counts { width: auto; min-width: 480px; }

.pill { display: inline-block; font-size: 11.5px; font-weight: 700; letter-spacing: .04em; padding: 1px 8px; border-radius: 999px; white-space: nowrap; }
.pill.PASS { color: var(--pass); background: var(--pass-bg); }
.pill.FAIL { color: var(--fail); background: var(--fail-bg); }
.pill.UNKNOWN, .pill.INCOMPLETE { color: var(--unknown); background: var(--unknown-bg); }
.phase { font-size: 12px; color: var(--muted); border: 1px solid var(--line); border-radius: 4px; padding: 0 6px; white-space: nowrap; }

.examples { margin: 2px 0 0 0; border: 1px solid var(--line); border-radius: 6px; overflow: hidden; background: #fff; }
.examples table { width: 100%; border-collapse: collapse; font-size: 12.5px; }
.examples th { background: var(--bg); text-align: left; font-weight: 600; color: var(--muted); padding: 4px 8px; border-bottom: 1px solid var(--line); font-size: 11.5px; }
.examples td { padding: 4px 8px; border-bottom: 1px solid var(--soft); font-family: var(--mono); font-size: 12px; overflow-wrap: anywhere; }
.examples tr:last-child td { border-bottom: 0; }
.examples .more { padding: 4px 8px; font-size: 12px; color: var(--muted); background: var(--bg); }
.why { font-size: 12.5px; color: var(--unknown); margin: 2px 0 6px; }

/* Charts */
.faults-legend { margin-bottom: 10px; }
.faults-legend .mark { font-size: 15px; }
.panel { margin: 0; padding: 10px 0 6px; border-top: 1px solid var(--soft); break-inside: avoid; page-break-inside: avoid; }
.panel:first-of-type { border-top: 0; }
/* 6.25% = the chart's left margin (60 of 960 units), so captions line up with the plot. */
.panel figcaption { display: flex; flex-wrap: wrap; align-items: baseline; gap: 4px 16px; font-size: 13px; padding-left: 6.25%; }
.panel .title { font-weight: 600; }
.panel .unit { color: var(--muted); font-weight: 400; }
.panel .note { color: var(--faint); font-size: 12px; }
.legend { display: flex; flex-wrap: wrap; gap: 4px 14px; margin-left: auto; font-size: 12px; color: var(--muted); }
.legend .sw { display: inline-block; width: 14px; height: 3px; border-radius: 2px; vertical-align: middle; margin-right: 5px; position: relative; top: -1px; }
.legend b { color: var(--fg); font-weight: 500; }
svg.chart { display: block; width: 100%; height: auto; overflow: visible; }
svg.chart text { font-family: inherit; font-size: 11px; fill: var(--muted); }
svg.chart .tick { font-variant-numeric: tabular-nums; }
svg.chart .fault-label { font-size: 11px; font-weight: 600; }
svg.chart .axis-title { fill: var(--faint); font-size: 11px; }
svg.chart .grid { stroke: var(--soft); stroke-width: 1; }
svg.chart .axis { stroke: #8c959f; stroke-width: 1; }
.not-recorded { color: var(--faint); font-size: 12.5px; padding: 2px 0 4px 6.25%; }

/* Grids of figures */
.grid-kv { display: grid; grid-template-columns: repeat(auto-fill, minmax(190px, 1fr)); gap: 8px; }
.kv { border: 1px solid var(--soft); border-radius: 6px; padding: 8px 10px; }
.kv .k { font-size: 12px; color: var(--muted); overflow-wrap: anywhere; }
.kv .v { font-size: 16px; font-weight: 600; overflow-wrap: anywhere; }
.kv.zero { background: var(--bg); }
.kv.zero .v { color: var(--faint); }
.kv.zero .v::after { content: "not exercised"; margin-left: 8px; font-size: 12px; font-weight: 500; color: var(--unknown); }
table.env td:first-child { color: var(--muted); width: 220px; }
.chips { display: flex; flex-wrap: wrap; gap: 6px; }
.chip { font-family: var(--mono); font-size: 12px; border: 1px solid #d4a72c; background: var(--unknown-bg); color: #7d4e00; border-radius: 999px; padding: 1px 9px; }
pre.replay { background: #0d1117; color: #e6edf3; padding: 12px 14px; border-radius: 6px; overflow-x: auto; margin: 6px 0 0; user-select: all; -webkit-user-select: all; white-space: pre-wrap; word-break: break-all; }
.two-col { display: grid; grid-template-columns: 1fr 1fr; gap: 18px; }
@media (max-width: 860px) { .two-col { grid-template-columns: 1fr; } }

details.card > summary { cursor: pointer; font-size: 17px; font-weight: 600; }
details.card[open] > summary { margin-bottom: 12px; }
details .ops { margin-bottom: 6px; }
.t { font-family: var(--mono); font-size: 11.5px; }
.t-ok { color: var(--pass); } .t-fail { color: var(--fail); } .t-info { color: var(--unknown); font-weight: 600; } .t-invoke { color: var(--muted); }
td.t-fail { color: var(--fail); font-weight: 600; } td.t-info { color: var(--unknown); font-weight: 600; }
footer { color: var(--faint); font-size: 12px; padding: 6px 0 30px; }

@media print {
  @page { margin: 14mm; }
  body { background: #fff; font-size: 11.5px; }
  * { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
  nav.toc { display: none; }
  .wrap { max-width: none; padding: 0; }
  section.card, details.card, .tile { border-color: #ccc; break-inside: avoid-page; }
  section.card.charts { break-inside: auto; }
  pre.replay { background: #f6f8fa; color: #000; border: 1px solid #ccc; }
  /* A page is narrower than a screen and the charts scale down with it: keep their text legible. */
  svg.chart text { font-size: 13px; }
  a { color: inherit; }
}
`;
