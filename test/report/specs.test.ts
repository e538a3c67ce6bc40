import { describe, expect, it } from 'vitest';
import { formatNumber, formatSeconds, labelExpression, logAxis, superscript } from '../../src/report/format.js';
import { CHART_COLORS, LOSS_LABELS, NR_LABELS, SLD_LABELS, chartSpecs, lossSpec, nrSpec, paritySpec, sldSpec } from '../../src/report/specs.js';
import { EPOCHS, PROFILE_POINTS, Q_POINTS, measuredResult, syntheticResult } from './fixture.js';

type Json = Record<string, any>;

/** Every number anywhere in a spec. */
function numbers(value: unknown, out: number[] = []): number[] {
  if (typeof value === 'number') out.push(value);
  else if (Array.isArray(value)) for (const v of value) numbers(v, out);
  else if (value && typeof value === 'object') for (const v of Object.values(value)) numbers(v, out);
  return out;
}

describe('format', () => {
  it('writes superscripts and numbers', () => {
    expect(superscript(-10)).toBe('⁻¹⁰');
    expect(formatNumber(0.98731)).toBe('0.9873');
    expect(formatNumber(100)).toBe('100');
    expect(formatNumber(1.25e-5, 3)).toBe('1.25×10⁻⁵');
    expect(formatNumber(1e-7)).toBe('10⁻⁷');
    expect(formatNumber(-2.5)).toBe('−2.5');
    expect(formatNumber(null)).toBe('–');
    expect(formatNumber(Number.NaN)).toBe('–');
    expect(formatSeconds(0.0421)).toBe('42.1 ms');
    expect(formatSeconds(3.14159)).toBe('3.14 s');
    expect(formatSeconds(185)).toBe('3 min 05 s');
  });

  it('gives decade ticks for long log spans and 1-2-5 ticks for short ones', () => {
    const nr = logAxis(3.2e-9, 1);
    expect(nr.domain).toEqual([1e-9, 1]);
    expect(nr.values).toEqual([1e-9, 1e-8, 1e-7, 1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1, 1]);
    expect(nr.labels[0]).toBe('10⁻⁹');
    expect(nr.labels.at(-1)).toBe('10⁰');
    const long = logAxis(1e-14, 2);
    expect(long.values.length).toBeLessThanOrEqual(10);
    expect(long.values.every((v) => Math.round(Math.log10(v)) % 2 === 0)).toBe(true);
    const loss = logAxis(0.0021, 0.05);
    expect(loss.domain).toEqual([0.002, 0.05]);
    expect(loss.values).toEqual([0.002, 0.005, 0.01, 0.02, 0.05]);
    expect(loss.labels).toEqual(['0.002', '0.005', '0.01', '0.02', '0.05']);
    const narrow = logAxis(0.0031, 0.0042);
    expect(narrow.values.length).toBeGreaterThanOrEqual(2);
    expect(narrow.values.every((v) => v >= narrow.domain[0] && v <= narrow.domain[1])).toBe(true);
    // Degenerate input still gives a usable axis.
    expect(logAxis(Number.NaN, Number.POSITIVE_INFINITY).values.length).toBeGreaterThan(2);
  });

  it('builds a label expression that maps tick values to labels', () => {
    const expr = labelExpression([1e-3, 1e-2], ['10⁻³', '10⁻²']);
    expect(expr).toContain('"10⁻³"');
    expect(expr.endsWith('datum.label')).toBe(true);
  });
});

describe('nrSpec', () => {
  it('draws ground truth (solid) and computed (dashed) lines on a log R axis with unit titles', () => {
    const spec = nrSpec(syntheticResult()) as Json;
    expect(spec.width).toBe(480);
    expect(spec.height).toBe(320);
    expect(spec.layer).toHaveLength(2);
    const [ref, model] = spec.layer;
    expect(ref.data.values).toHaveLength(Q_POINTS);
    expect(model.data.values).toHaveLength(Q_POINTS);
    expect(ref.data.values[0].series).toBe(NR_LABELS.groundTruth);
    expect(ref.encoding.x.title).toBe('Q (Å⁻¹)');
    expect(ref.encoding.y.title).toBe('Reflectivity R');
    expect(ref.encoding.y.scale.type).toBe('log');
    expect(ref.encoding.color.scale.range).toEqual([CHART_COLORS.reference, CHART_COLORS.model]);
    expect(ref.encoding.strokeDash.scale.range).toEqual([[1, 0], [7, 4]]);
    const [lo, hi] = ref.encoding.y.scale.domain as [number, number];
    for (const row of [...ref.data.values, ...model.data.values]) {
      expect(row.r).toBeGreaterThanOrEqual(lo);
      expect(row.r).toBeLessThanOrEqual(hi);
    }
    expect(spec.title.text).toBe('Neutron reflectivity');
    expect(spec.title.subtitle).toBeUndefined();
  });

  it('filters NaN, ±Infinity and R ≤ 0 and says how many points it left out', () => {
    const result = syntheticResult();
    result.nr.groundTruth[3] = Number.NaN;
    result.nr.groundTruth[4] = Number.POSITIVE_INFINITY;
    result.nr.groundTruth[5] = -1e-7;
    result.nr.computed[6] = 0;
    result.nr.q[7] = Number.NEGATIVE_INFINITY;
    const spec = nrSpec(result) as Json;
    expect(spec.layer[0].data.values).toHaveLength(Q_POINTS - 4);
    expect(spec.layer[1].data.values).toHaveLength(Q_POINTS - 2);
    expect(numbers(spec).every(Number.isFinite)).toBe(true);
    expect(JSON.stringify(spec.layer.map((l: Json) => l.data))).not.toMatch(/null|NaN|Infinity/);
    expect(spec.title.subtitle).toBe('2 points with R ≤ 0 not shown');
  });

  it('draws measured data as points with dR error bars clipped to the axis', () => {
    const spec = nrSpec(measuredResult()) as Json;
    expect(spec.layer.map((l: Json) => l.mark.type)).toEqual(['rule', 'point', 'line']);
    const [bars, points, line] = spec.layer;
    // 120 points: one NaN and three R ≤ 0 are left out.
    expect(points.data.values).toHaveLength(116);
    expect(bars.data.values).toHaveLength(116);
    expect(points.data.values[0].series).toBe(NR_LABELS.measured);
    const [lo, hi] = points.encoding.y.scale.domain as [number, number];
    for (const b of bars.data.values) {
      expect(b.lo).toBeGreaterThanOrEqual(lo);
      expect(b.hi).toBeLessThanOrEqual(hi);
      expect(b.hi).toBeGreaterThan(b.lo);
    }
    expect(line.mark.strokeDash).toEqual([7, 4]);
    expect(points.encoding.fill.scale.range).toEqual([CHART_COLORS.data]);
    expect(line.encoding.stroke.scale.range).toEqual([CHART_COLORS.model]);
    expect(spec.title.subtitle).toBe('3 points with R ≤ 0 not shown');
  });

  it('can use a log Q axis and leave the title out', () => {
    const spec = nrSpec(syntheticResult(), { qScale: 'log', title: false, width: 600 }) as Json;
    expect(spec.layer[0].encoding.x.scale.type).toBe('log');
    expect(spec.title).toBeUndefined();
    expect(spec.width).toBe(600);
  });
});

describe('sldSpec', () => {
  it('draws ground truth and prediction against z with unit titles', () => {
    const spec = sldSpec(syntheticResult()) as Json;
    expect(spec.data.values).toHaveLength(2 * PROFILE_POINTS);
    expect(spec.encoding.x.title).toBe('z (Å)');
    expect(spec.encoding.y.title).toBe('SLD (10⁻⁶ Å⁻²)');
    expect(spec.encoding.color.scale.domain).toEqual([SLD_LABELS.groundTruth, SLD_LABELS.predicted]);
  });

  it("draws the prediction on the model's own depth axis, or on z when that does not fit", () => {
    const result = syntheticResult();
    const rows = (sldSpec(result) as Json).data.values as Array<{ z: number; series: string }>;
    expect(rows.filter((r) => r.series === SLD_LABELS.predicted).map((r) => r.z)).toEqual(result.sld.predictedZ);
    expect(rows.filter((r) => r.series === SLD_LABELS.groundTruth).map((r) => r.z)).toEqual(result.sld.z);
    result.sld.predictedZ = [];
    const fallback = (sldSpec(result) as Json).data.values as Array<{ z: number; series: string }>;
    expect(fallback.filter((r) => r.series === SLD_LABELS.predicted).map((r) => r.z)).toEqual(result.sld.z);
  });

  it('draws only the prediction when there is no ground truth, and drops non-finite values', () => {
    const result = measuredResult();
    result.sld.predicted[10] = Number.NaN;
    const spec = sldSpec(result) as Json;
    expect(spec.data.values).toHaveLength(PROFILE_POINTS - 1);
    expect(spec.encoding.color.scale.domain).toEqual([SLD_LABELS.predicted]);
    expect(spec.encoding.color.scale.range).toEqual([CHART_COLORS.model]);
    expect(JSON.stringify(spec.data)).not.toMatch(/null|NaN/);
  });
});

describe('lossSpec', () => {
  it('draws both losses against epoch on a log axis', () => {
    const spec = lossSpec(syntheticResult()) as Json;
    expect(spec.data.values).toHaveLength(2 * EPOCHS);
    expect(spec.encoding.x.title).toBe('Epoch');
    expect(spec.encoding.x.scale.domain).toEqual([1, EPOCHS]);
    expect(spec.encoding.y.scale.type).toBe('log');
    expect(spec.encoding.color.scale.domain).toEqual([LOSS_LABELS.training, LOSS_LABELS.validation]);
    expect(spec.mark.point).toBeTruthy();
  });

  it('is null without a history and skips non-finite losses', () => {
    expect(lossSpec(measuredResult())).toBeNull();
    const result = syntheticResult();
    result.training.validationLoss[2] = Number.NaN;
    result.training.trainingLoss[3] = Number.POSITIVE_INFINITY;
    expect((lossSpec(result) as Json).data.values).toHaveLength(2 * EPOCHS - 2);
  });
});

describe('paritySpec', () => {
  it('draws the chi points, y = x on equal axes and R² in the title', () => {
    const spec = paritySpec(syntheticResult()) as Json;
    const [diagonal, points] = spec.layer;
    expect(points.data.values).toHaveLength(50);
    expect(spec.title.text).toBe('Predicted vs true SLD (R² = 0.9873)');
    expect(spec.title.subtitle).toContain('150 test curves');
    expect(points.encoding.x.title).toBe('True SLD (10⁻⁶ Å⁻²)');
    expect(points.encoding.y.title).toBe('Predicted SLD (10⁻⁶ Å⁻²)');
    expect(points.encoding.x.scale.domain).toEqual(points.encoding.y.scale.domain);
    expect(diagonal.data.values.map((v: Json) => v.actual)).toEqual(diagonal.data.values.map((v: Json) => v.predicted));
    expect(spec.width).toBe(spec.height);
  });

  it('is null without points and has no R² when metrics have none', () => {
    expect(paritySpec(measuredResult())).toBeNull();
    const result = syntheticResult();
    result.metrics.r2 = null;
    result.chi[0]!.predicted = Number.NaN;
    const spec = paritySpec(result) as Json;
    expect(spec.title.text).toBe('Predicted vs true SLD');
    expect(spec.layer[1].data.values).toHaveLength(49);
  });
});

describe('chartSpecs', () => {
  it('gives all four, with null loss and parity for measured data', () => {
    const all = chartSpecs(syntheticResult());
    expect(Object.values(all).every((s) => s !== null)).toBe(true);
    const measured = chartSpecs(measuredResult());
    expect(measured.loss).toBeNull();
    expect(measured.parity).toBeNull();
  });
});
