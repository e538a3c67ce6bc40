/**
 * A one-file HTML report of an evaluation: metrics, source, backend, model, timing and the charts as
 * inline SVG. Pure: returns a string. The page loads nothing (no scripts, fonts, styles or images from
 * elsewhere) and every string taken from the result is HTML-escaped.
 */
import type { EvaluationResult } from '../eval/result.js';
import { formatNumber, formatSeconds } from './format.js';
import type { ChartSet } from './svg.js';

/** Options of {@link renderHtmlReport}. */
export interface HtmlReportOptions {
  /** Page title and heading (default `Evaluation report` with the model id). */
  title?: string;
}

/** Escapes `& < > " '` for HTML text and attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/**
 * Makes the ids of an SVG unique within a page by prefixing them (and the `url(#…)` / `href="#…"`
 * references to them): Vega numbers its clip paths from 1 in every SVG, so two inline charts would
 * otherwise share `clip1` and clip each other. Drops an XML declaration or doctype.
 */
export function scopeSvgIds(svg: string, prefix: string): string {
  const ids = new Set<string>();
  for (const m of svg.matchAll(/\sid="([^"]+)"/g)) ids.add(m[1]!);
  let out = svg.replace(/<\?xml[^>]*\?>\s*/g, '').replace(/<!DOCTYPE[^>]*>\s*/gi, '');
  if (ids.size === 0) return out;
  const scoped = (id: string): string => (ids.has(id) ? `${prefix}-${id}` : id);
  out = out.replace(/(\sid=")([^"]+)"/g, (_m, head: string, id: string) => `${head}${scoped(id)}"`);
  out = out.replace(/url\(\s*(['"]?)#([^)'"]+)\1\s*\)/g, (_m, q: string, id: string) => `url(${q}#${scoped(id)}${q})`);
  out = out.replace(/((?:xlink:)?href=")#([^"]+)"/g, (_m, head: string, id: string) => `${head}#${scoped(id)}"`);
  return out;
}

/** A sentence describing where the example curve came from. */
export function describeSource(source: EvaluationResult['source']): string {
  if (source.kind === 'test-split') {
    return `Synthetic test split: example curve is row ${source.datasetIndex} of the dataset; the split holds ${source.testCurves} curve${source.testCurves === 1 ? '' : 's'}.`;
  }
  const pct = formatNumber(100 * source.outsideFraction, 3);
  return (
    `Measured data “${source.label}”. ${pct} % of the model's Q grid lies outside the measured Q range ` +
    `(${source.pointsBelow} point${source.pointsBelow === 1 ? '' : 's'} below, ${source.pointsAbove} above, filled by clamping).`
  );
}

const STYLE = `
:root { color-scheme: light; }
body { font-family: -apple-system, "Segoe UI", Helvetica, Arial, "Liberation Sans", "DejaVu Sans", sans-serif; color: #1a1a1a; background: #fff; margin: 0; line-height: 1.45; }
main { max-width: 1100px; margin: 0 auto; padding: 24px 28px 48px; }
h1 { font-size: 1.6rem; margin: 0 0 4px; font-weight: 600; }
h2 { font-size: 1.15rem; margin: 28px 0 10px; font-weight: 600; border-bottom: 1px solid #ddd; padding-bottom: 4px; }
p.lead { margin: 0 0 12px; color: #444; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: 4px 16px; margin: 0; }
dl.facts dt { color: #555; }
dl.facts dd { margin: 0; }
table { border-collapse: collapse; font-variant-numeric: tabular-nums; }
th, td { padding: 4px 14px 4px 0; text-align: left; vertical-align: top; }
thead th { border-bottom: 1px solid #999; font-weight: 600; }
tbody tr + tr td, tbody tr + tr th { border-top: 1px solid #eee; }
tbody th { font-weight: normal; }
td.num { text-align: right; }
.unit, .note { color: #666; font-size: 0.9em; }
.tables { display: flex; flex-wrap: wrap; gap: 12px 48px; align-items: flex-start; }
.charts { display: grid; grid-template-columns: repeat(auto-fit, minmax(440px, 1fr)); gap: 24px; }
figure { margin: 0; }
figure svg { max-width: 100%; height: auto; display: block; }
figcaption { font-size: 0.9rem; color: #444; margin-top: 4px; }
code { font-family: ui-monospace, "DejaVu Sans Mono", Menlo, Consolas, monospace; font-size: 0.92em; }
@media print { main { padding: 0; } .charts { grid-template-columns: 1fr 1fr; } figure { break-inside: avoid; } }
`;

function row(label: string, ...cells: string[]): string {
  return `<tr><th scope="row">${label}</th>${cells.map((c) => `<td class="num">${c}</td>`).join('')}</tr>`;
}

/** `text` escaped, with the number formatter's output (already safe) passed through. */
const num = (x: number | null | undefined, digits = 4): string => escapeHtml(formatNumber(x, digits));

function metricsTable(result: EvaluationResult): string {
  const m = result.metrics;
  const n = m.normalized;
  const sld = m.mse === null && m.mae === null && m.r2 === null
    ? `<p class="note">No SLD error metrics: measured data have no true SLD.</p>`
    : `<table class="metrics">
<thead><tr><th scope="col">SLD metric</th><th scope="col">physical</th><th scope="col">normalised</th></tr></thead>
<tbody>
${row('MSE <span class="unit">(10⁻⁶ Å⁻²)²</span>', num(m.mse), num(n?.mse))}
${row('MAE <span class="unit">10⁻⁶ Å⁻²</span>', num(m.mae), num(n?.mae))}
${row('R²', num(m.r2), num(n?.r2))}
${row('curves', escapeHtml(String(m.curves)), '')}
</tbody></table>`;
  const nrRows = [
    row(`χ² <span class="unit">${m.chi2Weighted ? 'weighted by dR' : 'unweighted, mean (Δlog₁₀R)²'}</span>`, num(m.chi2)),
    row('NR relative error, median <span class="unit">|ΔR|/R</span>', m.nrRelativeError ? num(m.nrRelativeError.median) : '–'),
    row('NR relative error, max <span class="unit">|ΔR|/R</span>', m.nrRelativeError ? num(m.nrRelativeError.max) : '–'),
  ];
  const perCurve = perCurveRows(m.perCurve);
  return `<div class="tables">
<div>${sld}</div>
<div><table class="metrics">
<thead><tr><th scope="col">Reflectivity of the example</th><th scope="col">value</th></tr></thead>
<tbody>
${nrRows.join('\n')}
</tbody></table></div>
${perCurve}
</div>`;
}

function perCurveRows(perCurve: EvaluationResult['metrics']['perCurve']): string {
  const stats = (values: number[]): [number, number, number] | null => {
    const v = values.filter(Number.isFinite).sort((a, b) => a - b);
    if (v.length === 0) return null;
    const median = v.length % 2 ? v[(v.length - 1) / 2]! : (v[v.length / 2 - 1]! + v[v.length / 2]!) / 2;
    return [v[0]!, median, v[v.length - 1]!];
  };
  const rows: string[] = [];
  for (const [name, values] of [
    ['MSE', perCurve.mse],
    ['MAE', perCurve.mae],
    ['R²', perCurve.r2],
  ] as const) {
    const s = stats(values);
    if (s) rows.push(row(name, num(s[0]), num(s[1]), num(s[2])));
  }
  if (rows.length === 0) return '';
  return `<div><table class="metrics">
<thead><tr><th scope="col">Per curve (${perCurve.r2.length || perCurve.mse.length})</th><th scope="col">min</th><th scope="col">median</th><th scope="col">max</th></tr></thead>
<tbody>
${rows.join('\n')}
</tbody></table></div>`;
}

function timingTable(timing: Record<string, number>): string {
  const entries = Object.entries(timing).filter(([, s]) => typeof s === 'number');
  if (entries.length === 0) return '<p class="note">No timing recorded.</p>';
  // Keep the result's order, with the total last.
  entries.sort(([a], [b]) => Number(a === 'total') - Number(b === 'total'));
  return `<table class="timing">
<thead><tr><th scope="col">phase</th><th scope="col">time</th></tr></thead>
<tbody>
${entries.map(([phase, s]) => row(phase === 'total' ? '<strong>total</strong>' : escapeHtml(phase), escapeHtml(formatSeconds(s)))).join('\n')}
</tbody></table>`;
}

function figure(svg: string | null, id: string, caption: string): string {
  if (!svg) return '';
  return `<figure id="${id}">
${scopeSvgIds(svg, id)}
<figcaption>${caption}</figcaption>
</figure>`;
}

/**
 * The report as one self-contained HTML document: a facts list (model, backend, source), the metric and
 * timing tables and the charts (`charts`, from `renderCharts`, inlined as they are: pass only SVG that
 * reflectkit rendered). Every string from `result` is escaped.
 */
export function renderHtmlReport(result: EvaluationResult, charts: ChartSet, options: HtmlReportOptions = {}): string {
  const title = options.title ?? `Evaluation report${result.modelId ? ` — ${result.modelId}` : ''}`;
  const measured = result.source.kind === 'measured';
  const nrCaption = measured
    ? 'Measured reflectivity (points, ±1σ error bars) and the reflectivity computed from the predicted SLD profile (dashed).'
    : 'Ground-truth reflectivity of the example curve (solid) and the reflectivity computed from the predicted SLD profile (dashed).';
  const sldCaption = result.sld.groundTruth
    ? 'True (solid) and predicted (dashed) SLD profile of the example against depth z.'
    : 'Predicted SLD profile against depth z (measured data: no true profile).';
  const epochs = result.training.epochs.length;
  const facts: Array<[string, string]> = [
    ['Model', result.modelId ? `<code>${escapeHtml(result.modelId)}</code>` : '<span class="note">unknown</span>'],
    ['Backend', `<code>${escapeHtml(result.backend)}</code>`],
    ['Source', escapeHtml(describeSource(result.source))],
    ['Q points', escapeHtml(String(result.nr.q.length))],
    ['Profile points', escapeHtml(String(result.sld.z.length))],
  ];
  if (epochs > 0) facts.push(['Epochs', escapeHtml(String(epochs))]);
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="reflectkit">
<title>${escapeHtml(title)}</title>
<style>${STYLE}</style>
</head>
<body>
<main>
<h1>${escapeHtml(title)}</h1>
<p class="lead">Neutron reflectometry: SLD profile predicted from the reflectivity curve by the CNN, and the reflectivity recomputed from that profile.</p>
<dl class="facts">
${facts.map(([k, v]) => `<dt>${k}</dt><dd>${v}</dd>`).join('\n')}
</dl>
<h2>Metrics</h2>
${metricsTable(result)}
<h2>Timing</h2>
${timingTable(result.timing)}
<h2>Charts</h2>
<div class="charts">
${figure(charts.nr, 'chart-nr', nrCaption)}
${figure(charts.sld, 'chart-sld', sldCaption)}
${figure(charts.loss, 'chart-loss', `Training and validation loss (normalised MSE) per epoch.`)}
${figure(charts.parity, 'chart-parity', `Predicted against true SLD at ${result.chi.length} points of the example profile; dashed: y = x.`)}
</div>
</main>
</body>
</html>
`;
}
