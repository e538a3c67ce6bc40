/**
 * Vega-Lite specifications of the four charts of an evaluation: reflectivity, SLD profile, losses and
 * the SLD parity plot. Pure: builds plain objects; rendering is in `svg.ts`.
 *
 * Style: Okabe–Ito colours (colour-blind safe), the reference/true/training series in blue and solid, the
 * model's series (computed, predicted, validation) in vermillion and dashed, so that the pairs differ in
 * colour and in dash; 12–14 px text; light grid; white background.
 */
import type { TopLevelSpec } from 'vega-lite';
import type { EvaluationResult } from '../eval/result.js';
import { formatNumber, labelExpression, logAxis } from './format.js';

/** Okabe–Ito colours used by the charts. */
export const CHART_COLORS = {
  /** Reference, ground truth, training loss, parity points. */
  reference: '#0072B2',
  /** Computed NR, predicted SLD, validation loss. */
  model: '#D55E00',
  /** Measured data points. */
  data: '#000000',
  /** Error bars, the y = x line. */
  neutral: '#7A7A7A',
} as const;

/**
 * The font list of the charts: common sans-serif faces first, then DejaVu Sans / Liberation Sans, which
 * most Linux systems have (resvg takes the first one installed).
 */
export const CHART_FONT = "Helvetica, Arial, 'Liberation Sans', 'DejaVu Sans', sans-serif";

/** Options of every chart spec. */
export interface ChartOptions {
  /** Plot width in px (the data rectangle; axes and legend add to it). Default 480 (parity: 340). */
  width?: number;
  /** Plot height in px. Default 320 (parity: the width). */
  height?: number;
  /** Draw the chart's title (default true; a paper figure usually has a caption instead). */
  title?: boolean;
}

/** Options of the reflectivity chart. */
export interface NrChartOptions extends ChartOptions {
  /** Scale of the Q axis: `linear` (default, as reflectometry papers plot it) or `log` (as pyreflect's interface did). */
  qScale?: 'linear' | 'log';
}

const CONFIG = {
  font: CHART_FONT,
  background: 'white',
  padding: 10,
  view: { stroke: null },
  axis: {
    labelFontSize: 12,
    titleFontSize: 13,
    titleFontWeight: 'normal',
    labelColor: '#222222',
    titleColor: '#111111',
    domain: true,
    domainColor: '#444444',
    domainWidth: 1,
    tickColor: '#444444',
    tickSize: 5,
    gridColor: '#E8E8E8',
    titlePadding: 8,
  },
  legend: {
    labelFontSize: 12,
    titleFontSize: 12,
    symbolStrokeWidth: 2,
    // A stroke symbol is √size px long: 18 px shows two whole dashes of the 7-4 pattern.
    symbolSize: 324,
    labelLimit: 320,
  },
  title: {
    fontSize: 14,
    fontWeight: 'normal',
    anchor: 'start',
    color: '#111111',
    subtitleFontSize: 12,
    subtitleColor: '#555555',
    offset: 10,
  },
  line: { strokeWidth: 2 },
} as const;

/**
 * The legend of every chart: one row above the plot, no title, so it never hides data and the charts look
 * alike. (Two legends, as on the measured-data chart, sit side by side.)
 */
function topLegend() {
  return { orient: 'top', direction: 'horizontal', title: null, offset: 6, symbolType: 'stroke', columnPadding: 16 } as const;
}

function titleOf(options: ChartOptions, text: string, subtitle?: string) {
  if (options.title === false) return undefined;
  return subtitle ? { text, subtitle } : { text };
}

const finite = (x: unknown): x is number => typeof x === 'number' && Number.isFinite(x);

/** [min, max] of values (no spread: arrays can be long). */
function extent(values: readonly number[]): [number, number] {
  let min = Infinity;
  let max = -Infinity;
  for (const v of values) {
    if (v < min) min = v;
    if (v > max) max = v;
  }
  return [min, max];
}

/** Rows (x[i], y[i]) with both finite (and y > 0 when `positive`); the shorter array sets the length. */
function pairs(x: readonly number[], y: readonly number[], positive = false): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  const n = Math.min(x.length, y.length);
  for (let i = 0; i < n; i++) {
    const a = x[i];
    const b = y[i];
    if (finite(a) && finite(b) && (!positive || b > 0)) out.push([a, b]);
  }
  return out;
}

/** The legend labels of the reflectivity chart. */
export const NR_LABELS = {
  /** The reference curve of a synthetic (test-split) example. */
  groundTruth: 'Ground truth',
  /** The reference curve of measured data, drawn as points with ±1σ error bars. */
  measured: 'Measured data (±1σ)',
  /** R(Q) computed back from the predicted SLD profile. */
  computed: 'Computed from predicted SLD',
} as const;

/**
 * Reflectivity R against Q on a log R axis (decade ticks, 10ⁿ labels): the reference (ground truth as a
 * solid line, or measured data as points with ±dR error bars when `nr.groundTruthError` is present) and
 * the NR computed from the predicted SLD (dashed line). Points with R ≤ 0, which a log axis cannot show, are
 * left out and counted in the subtitle; non-finite values are dropped.
 */
export function nrSpec(result: Pick<EvaluationResult, 'nr'>, options: NrChartOptions = {}): TopLevelSpec {
  const { q, groundTruth, computed, groundTruthError } = result.nr;
  const measured = Array.isArray(groundTruthError) && groundTruthError.length > 0;
  const refLabel = measured ? NR_LABELS.measured : NR_LABELS.groundTruth;
  const qLog = options.qScale === 'log';
  const keepQ = (p: [number, number]): boolean => !qLog || p[0] > 0;
  const reference = pairs(q, groundTruth, true).filter(keepQ);
  const model = pairs(q, computed, true).filter(keepQ);
  const hidden = pairs(q, groundTruth).length - reference.length + (pairs(q, computed).length - model.length);

  const positives = [...reference, ...model].map((p) => p[1]);
  const errorRows: Array<{ q: number; lo: number; hi: number }> = [];
  if (measured) {
    for (let i = 0; i < Math.min(q.length, groundTruth.length, groundTruthError.length); i++) {
      const [qi, r, dr] = [q[i]!, groundTruth[i]!, groundTruthError[i]!];
      if (!finite(qi) || !finite(r) || !finite(dr) || r <= 0 || dr <= 0 || (qLog && qi <= 0)) continue;
      errorRows.push({ q: qi, lo: r - dr, hi: r + dr });
      positives.push(r + dr);
    }
  }
  const axis = logAxis(...extent(positives), 11);
  // Error bars reaching R ≤ 0 (or below the axis) are drawn to the bottom of the plot.
  const errorBars = errorRows.map((e) => ({ q: e.q, lo: Math.max(e.lo, axis.domain[0]), hi: Math.min(e.hi, axis.domain[1]) }));

  const series = [refLabel, NR_LABELS.computed];
  const empty = reference.length === 0 && model.length === 0;
  const qShown = [...reference, ...model].map((p) => p[0]);
  const qAxis = qLog ? (empty ? logAxis(0.005, 0.25) : logAxis(...extent(qShown), 8)) : undefined;
  const x = {
    field: 'q',
    type: 'quantitative',
    title: 'Q (Å⁻¹)',
    // With nothing to draw, a typical Q range keeps the axis labelled.
    scale: qLog ? { type: 'log', domain: qAxis!.domain, nice: false } : { zero: false, nice: true, ...(empty ? { domain: [0, 0.25] } : {}) },
    axis: qLog ? { grid: false, values: qAxis!.values, labelExpr: labelExpression(qAxis!.values, qAxis!.labels) } : { grid: false, tickCount: 6 },
  } as const;
  const y = {
    field: 'r',
    type: 'quantitative',
    title: 'Reflectivity R',
    scale: { type: 'log', domain: axis.domain, nice: false },
    axis: { values: axis.values, labelExpr: labelExpression(axis.values, axis.labels), grid: true },
  } as const;

  const referenceRows = reference.map(([qq, r]) => ({ q: qq, r, series: refLabel }));
  const modelRows = model.map(([qq, r]) => ({ q: qq, r, series: NR_LABELS.computed }));
  const layers: unknown[] = [];
  if (measured) {
    // Points and line have different legend symbols, so they get two legends (fill and stroke) stacked in the corner.
    layers.push({
      data: { values: errorBars },
      mark: { type: 'rule', color: CHART_COLORS.neutral, strokeWidth: 1, opacity: 0.8, clip: true },
      encoding: { x, y: { ...y, field: 'lo' }, y2: { field: 'hi' } },
    });
    layers.push({
      data: { values: referenceRows },
      mark: { type: 'point', filled: true, size: 16, opacity: 1, clip: true },
      encoding: {
        x,
        y,
        fill: {
          field: 'series',
          type: 'nominal',
          scale: { domain: [refLabel], range: [CHART_COLORS.data] },
          // A dot drawn as a custom path inside the same 18 px square as the line symbols, so both legends align.
          legend: { ...topLegend(), symbolType: 'M-0.36,0A0.36,0.36,0,1,1,0.36,0A0.36,0.36,0,1,1,-0.36,0Z' },
        },
      },
    });
    layers.push({
      data: { values: modelRows },
      mark: { type: 'line', clip: true, strokeDash: [7, 4] },
      encoding: {
        x,
        y,
        stroke: {
          field: 'series',
          type: 'nominal',
          scale: { domain: [NR_LABELS.computed], range: [CHART_COLORS.model] },
          legend: { ...topLegend(), symbolDash: [7, 4] },
        },
      },
    });
  } else {
    const color = {
      field: 'series',
      type: 'nominal',
      scale: { domain: series, range: [CHART_COLORS.reference, CHART_COLORS.model] },
      legend: topLegend(),
    } as const;
    for (const values of [referenceRows, modelRows]) {
      layers.push({ data: { values }, mark: { type: 'line', clip: true }, encoding: { x, y, color, strokeDash: dash(series) } });
    }
  }

  const subtitle = empty
    ? 'No reflectivity to show'
    : hidden > 0
      ? `${hidden} point${hidden === 1 ? '' : 's'} with R ≤ 0 not shown`
      : undefined;
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    width: options.width ?? 480,
    height: options.height ?? 320,
    ...optionalTitle(titleOf(options, 'Neutron reflectivity', subtitle)),
    config: CONFIG,
    layer: layers,
  } as TopLevelSpec;
}

/** Solid for the first series, dashed for the second; merged with the colour legend (same field, no title). */
function dash(series: readonly string[], dashes: number[][] = [[1, 0], [7, 4]]) {
  return { field: 'series', type: 'nominal', scale: { domain: series, range: dashes }, legend: { title: null } } as const;
}

function optionalTitle(title: ReturnType<typeof titleOf>): { title?: { text: string; subtitle?: string } } {
  return title ? { title } : {};
}

/** The legend labels of the SLD chart. */
export const SLD_LABELS = {
  /** The true profile (synthetic data only). */
  groundTruth: 'Ground truth',
  /** The model's predicted profile. */
  predicted: 'Predicted',
} as const;

/**
 * SLD (10⁻⁶ Å⁻²) against depth z (Å): ground truth (solid) on `sld.z` and the prediction (dashed) on the
 * model's own depth axis `sld.predictedZ` (on `sld.z` when that is missing or of another length); only the
 * prediction when there is no ground truth.
 */
export function sldSpec(result: Pick<EvaluationResult, 'sld'>, options: ChartOptions = {}): TopLevelSpec {
  const { z, groundTruth, predicted } = result.sld;
  const predictedZ = Array.isArray(result.sld.predictedZ) && result.sld.predictedZ.length === predicted.length ? result.sld.predictedZ : z;
  const rows: Array<{ z: number; sld: number; series: string }> = [];
  const series: string[] = [];
  if (groundTruth) {
    series.push(SLD_LABELS.groundTruth);
    for (const [zz, s] of pairs(z, groundTruth)) rows.push({ z: zz, sld: s, series: SLD_LABELS.groundTruth });
  }
  series.push(SLD_LABELS.predicted);
  for (const [zz, s] of pairs(predictedZ, predicted)) rows.push({ z: zz, sld: s, series: SLD_LABELS.predicted });
  const colors = groundTruth ? [CHART_COLORS.reference, CHART_COLORS.model] : [CHART_COLORS.model];
  const dashes = groundTruth ? [[1, 0], [7, 4]] : [[1, 0]];
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    width: options.width ?? 480,
    height: options.height ?? 320,
    ...optionalTitle(titleOf(options, 'SLD profile')),
    config: CONFIG,
    data: { values: rows },
    mark: { type: 'line', clip: true },
    encoding: {
      x: { field: 'z', type: 'quantitative', title: 'z (Å)', scale: { zero: false, nice: true }, axis: { grid: false } },
      y: { field: 'sld', type: 'quantitative', title: 'SLD (10⁻⁶ Å⁻²)', scale: { zero: false, nice: true }, axis: { grid: true } },
      color: {
        field: 'series',
        type: 'nominal',
        scale: { domain: series, range: colors },
        legend: topLegend(),
      },
      strokeDash: dash(series, dashes),
      order: { field: 'z', type: 'quantitative' },
    },
  } as TopLevelSpec;
}

/** The legend labels of the loss chart. */
export const LOSS_LABELS = {
  /** Mean training batch loss per epoch. */
  training: 'Training',
  /** Validation loss per epoch. */
  validation: 'Validation',
} as const;

/**
 * Training and validation loss (normalised MSE) against epoch, on a log axis. Null when there is no
 * finite, positive loss to draw.
 */
export function lossSpec(result: Pick<EvaluationResult, 'training'>, options: ChartOptions = {}): TopLevelSpec | null {
  const { epochs, trainingLoss, validationLoss } = result.training;
  const train = pairs(epochs, trainingLoss, true);
  const valid = pairs(epochs, validationLoss, true);
  if (train.length === 0 && valid.length === 0) return null;
  const rows = [
    ...train.map(([epoch, loss]) => ({ epoch, loss, series: LOSS_LABELS.training })),
    ...valid.map(([epoch, loss]) => ({ epoch, loss, series: LOSS_LABELS.validation })),
  ];
  const axis = logAxis(...extent(rows.map((r) => r.loss)), 8);
  const [first, last] = extent(rows.map((r) => r.epoch));
  const series = [LOSS_LABELS.training, LOSS_LABELS.validation];
  const showPoints = Math.max(train.length, valid.length) <= 30;
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    width: options.width ?? 480,
    height: options.height ?? 320,
    ...optionalTitle(titleOf(options, 'Training history')),
    config: CONFIG,
    data: { values: rows },
    mark: { type: 'line', clip: true, ...(showPoints ? { point: { filled: true, size: 28 } } : {}) },
    encoding: {
      x: {
        field: 'epoch',
        type: 'quantitative',
        title: 'Epoch',
        scale: { domain: last > first ? [first, last] : [first - 1, first + 1], nice: false, zero: false },
        axis: { grid: false, tickMinStep: 1, tickCount: 6, format: 'd' },
      },
      y: {
        field: 'loss',
        type: 'quantitative',
        title: 'Loss (normalised MSE)',
        scale: { type: 'log', domain: axis.domain, nice: false },
        axis: { values: axis.values, labelExpr: labelExpression(axis.values, axis.labels), grid: true },
      },
      color: {
        field: 'series',
        type: 'nominal',
        scale: { domain: series, range: [CHART_COLORS.reference, CHART_COLORS.model] },
        legend: topLegend(),
      },
      strokeDash: dash(series),
      order: { field: 'epoch', type: 'quantitative' },
    },
  } as TopLevelSpec;
}

/**
 * Predicted against true SLD at the sampled `chi` points, with the y = x line, on equal axes; the title
 * gives R² of the SLD over the evaluated set (`metrics.r2`). Null when there are no finite points.
 */
export function paritySpec(result: Pick<EvaluationResult, 'chi' | 'metrics'>, options: ChartOptions = {}): TopLevelSpec | null {
  const points = result.chi
    .filter((c) => finite(c.actual) && finite(c.predicted))
    .map((c) => ({ actual: c.actual, predicted: c.predicted, z: finite(c.z) ? c.z : null }));
  if (points.length === 0) return null;
  let lo = Infinity;
  let hi = -Infinity;
  for (const p of points) {
    lo = Math.min(lo, p.actual, p.predicted);
    hi = Math.max(hi, p.actual, p.predicted);
  }
  const pad = hi > lo ? 0.06 * (hi - lo) : Math.max(Math.abs(hi) * 0.1, 0.1);
  const domain = [lo - pad, hi + pad];
  const size = options.width ?? 340;
  const { r2, curves } = result.metrics;
  const title = finite(r2) ? `Predicted vs true SLD (R² = ${formatNumber(r2, 4)})` : 'Predicted vs true SLD';
  const subtitle = finite(r2) ? `R² over ${curves} test curve${curves === 1 ? '' : 's'}; ${points.length} points of the example` : undefined;
  const x = { field: 'actual', type: 'quantitative', title: 'True SLD (10⁻⁶ Å⁻²)', scale: { domain, nice: false, zero: false }, axis: { grid: true, tickCount: 6 } } as const;
  const y = { field: 'predicted', type: 'quantitative', title: 'Predicted SLD (10⁻⁶ Å⁻²)', scale: { domain, nice: false, zero: false }, axis: { grid: true, tickCount: 6 } } as const;
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    width: size,
    height: options.height ?? size,
    ...optionalTitle(titleOf(options, title, subtitle)),
    config: CONFIG,
    layer: [
      {
        data: { values: [{ actual: domain[0], predicted: domain[0] }, { actual: domain[1], predicted: domain[1] }] },
        mark: { type: 'line', color: CHART_COLORS.neutral, strokeWidth: 1.25, strokeDash: [5, 4], clip: true },
        encoding: { x, y },
      },
      {
        data: { values: points },
        mark: { type: 'point', filled: true, size: 42, opacity: 0.8, color: CHART_COLORS.reference, stroke: 'white', strokeWidth: 0.5 },
        encoding: { x, y },
      },
    ],
  } as TopLevelSpec;
}

/** The four chart specs of a result; `loss` and `parity` are null when there is nothing to draw. */
export interface ChartSpecs {
  /** Reflectivity R against Q (Å⁻¹), log R axis: reference and computed curves. */
  nr: TopLevelSpec;
  /** SLD (10⁻⁶ Å⁻²) against depth z (Å): ground truth and prediction. */
  sld: TopLevelSpec;
  /** Training and validation loss (normalised MSE) against epoch; null without a finite, positive loss. */
  loss: TopLevelSpec | null;
  /** Predicted against true SLD (10⁻⁶ Å⁻²) at the sampled `chi` points; null without them. */
  parity: TopLevelSpec | null;
}

/** All four specs of an evaluation result. */
export function chartSpecs(result: EvaluationResult, options: ChartOptions & Pick<NrChartOptions, 'qScale'> = {}): ChartSpecs {
  const { qScale, ...common } = options;
  return {
    nr: nrSpec(result, { ...common, ...(qScale ? { qScale } : {}) }),
    sld: sldSpec(result, common),
    loss: lossSpec(result, common),
    parity: paritySpec(result, { title: common.title }),
  };
}
