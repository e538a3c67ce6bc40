/**
 * Rendering of the chart specs to SVG with Vega's headless renderer (no canvas, no browser). Vega and
 * Vega-Lite are imported inside the functions, so importing reflectkit loads neither.
 */
import type { TopLevelSpec } from 'vega-lite';
import type { EvaluationResult } from '../eval/result.js';
import { chartSpecs, type ChartOptions, type NrChartOptions } from './specs.js';
import { textWidth } from './text-width.js';

/** The SVG text of each chart; `loss` is null without a training history, `parity` without `chi` points. */
export interface ChartSet {
  /** SVG of the reflectivity chart, R against Q (Å⁻¹). */
  nr: string;
  /** SVG of the SLD chart, SLD (10⁻⁶ Å⁻²) against z (Å). */
  sld: string;
  /** SVG of the loss chart; null without a training history. */
  loss: string | null;
  /** SVG of the predicted-against-true SLD parity chart; null without `chi` points. */
  parity: string | null;
}

/** The part of vega-scenegraph's `textMetrics` (re-exported by vega, not in its typings) used here. */
interface TextMetrics {
  width: (item: { fontSize?: number; fontWeight?: string | number }, text?: unknown) => number;
  estimateWidth: TextMetrics['width'];
}

/** Renders run one at a time, so that one cannot restore Vega's text measure while another lays out. */
let queue: Promise<unknown> = Promise.resolve();

function measure(item: { fontSize?: number; fontWeight?: string | number; text?: unknown }, text?: unknown): number {
  const value = String(text ?? '').trim();
  const size = item.fontSize != null ? Number(item.fontSize) || 0 : 11;
  const bold = item.fontWeight === 'bold' || Number(item.fontWeight) >= 600;
  return textWidth(value, size, bold);
}

/**
 * Compiles a Vega-Lite spec and renders it to a standalone SVG document (`<svg …>…</svg>`). Without a
 * canvas, Vega estimates text widths at 0.8 em a character; while it renders, this function gives it
 * per-character widths instead (and puts Vega's own measure back afterwards), which sizes legends and
 * margins to the text.
 */
export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const [vega, vegaLite] = await Promise.all([import('vega'), import('vega-lite')]);
  const compiled = vegaLite.compile(spec, { logger: quietLogger(vega) }).spec;
  const run = async (): Promise<string> => {
    const metrics = (vega as unknown as { textMetrics?: TextMetrics }).textMetrics;
    const replace = metrics !== undefined && metrics.width === metrics.estimateWidth;
    const previous = metrics?.width;
    if (replace) metrics.width = measure;
    const view = new vega.View(vega.parse(compiled), { renderer: 'none', logLevel: vega.Error });
    try {
      return await view.toSVG();
    } finally {
      view.finalize();
      if (replace) metrics.width = previous!;
    }
  };
  const result = queue.then(run, run);
  queue = result.catch(() => undefined);
  return result;
}

/** A Vega logger that keeps errors and drops Vega-Lite's warnings (e.g. merged legends), which would go to the console. */
function quietLogger(vega: typeof import('vega')) {
  return vega.logger(vega.Error);
}

/** Renders the four charts of an evaluation result to SVG. */
export async function renderCharts(result: EvaluationResult, options: ChartOptions & Pick<NrChartOptions, 'qScale'> = {}): Promise<ChartSet> {
  const specs = chartSpecs(result, options);
  const [nr, sld, loss, parity] = await Promise.all([
    renderSvg(specs.nr),
    renderSvg(specs.sld),
    specs.loss ? renderSvg(specs.loss) : null,
    specs.parity ? renderSvg(specs.parity) : null,
  ]);
  return { nr, sld, loss, parity };
}
