/**
 * reflectkit/report: charts (Vega-Lite specs, SVG rendered without a browser) and a one-file HTML report
 * of an evaluation result. Runs anywhere; Vega and Vega-Lite load on the first render. PNG files and report
 * folders are in `reflectkit/node` (`svgToPng`, `writeReport`).
 *
 * @packageDocumentation
 */
export {
  CHART_COLORS,
  CHART_FONT,
  LOSS_LABELS,
  NR_LABELS,
  SLD_LABELS,
  chartSpecs,
  lossSpec,
  nrSpec,
  paritySpec,
  sldSpec,
} from './report/specs.js';
export type { ChartOptions, ChartSpecs, NrChartOptions } from './report/specs.js';
export { renderCharts, renderSvg } from './report/svg.js';
export type { ChartSet } from './report/svg.js';
export { describeSource, escapeHtml, renderHtmlReport, scopeSvgIds } from './report/html.js';
export type { HtmlReportOptions } from './report/html.js';
export { formatNumber, formatSeconds, logAxis } from './report/format.js';
export type { LogAxis } from './report/format.js';
