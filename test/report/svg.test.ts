import { describe, expect, it } from 'vitest';
import { renderCharts, renderSvg } from '../../src/report/svg.js';
import { nrSpec } from '../../src/report/specs.js';
import { EPOCHS, measuredResult, syntheticResult } from './fixture.js';

/** The inner SVG of each mark group of a kind (`symbol`, `line`, `rule`, `text`) with a role. */
function markGroups(svg: string, kind: string, role = 'mark'): string[] {
  return [...svg.matchAll(new RegExp(`<g class="mark-${kind} role-${role}[^"]*"[^>]*>(.*?)</g>`, 'gs'))].map((m) => m[1]!);
}

/** How many elements of a tag a fragment holds. */
const count = (fragment: string, tag: string): number => fragment.match(new RegExp(`<${tag}\\b`, 'g'))?.length ?? 0;

/** The text of the axis titles, the legend labels and the chart title. */
function texts(svg: string, role: string): string[] {
  return markGroups(svg, 'text', role).flatMap((g) => [...g.matchAll(/<text[^>]*>([^<]*)<\/text>/g)].map((m) => m[1]!));
}

describe('renderSvg / renderCharts', () => {
  it('renders the synthetic result: axis titles with units, two NR lines, the legend', async () => {
    const charts = await renderCharts(syntheticResult());
    expect(charts.nr.startsWith('<svg')).toBe(true);
    expect(texts(charts.nr, 'axis-title')).toEqual(expect.arrayContaining(['Q (Å⁻¹)', 'Reflectivity R']));
    expect(texts(charts.nr, 'legend-label')).toEqual(['Ground truth', 'Computed from predicted SLD']);
    expect(texts(charts.nr, 'title-text')).toEqual(['Neutron reflectivity']);
    expect(markGroups(charts.nr, 'line')).toHaveLength(2);
    // Log axis: decade labels in 10ⁿ form.
    const yLabels = texts(charts.nr, 'axis-label');
    expect(yLabels).toContain('10⁻²');
    expect(yLabels).toContain('10⁰');

    expect(texts(charts.sld, 'axis-title')).toEqual(expect.arrayContaining(['z (Å)', 'SLD (10⁻⁶ Å⁻²)']));
    expect(texts(charts.sld, 'legend-label')).toEqual(['Ground truth', 'Predicted']);
    expect(markGroups(charts.sld, 'line')).toHaveLength(2);

    expect(charts.loss).not.toBeNull();
    expect(texts(charts.loss!, 'axis-title')).toEqual(expect.arrayContaining(['Epoch', 'Loss (normalised MSE)']));
    // Two lines and a point at every epoch of each.
    expect(markGroups(charts.loss!, 'line')).toHaveLength(2);
    expect(markGroups(charts.loss!, 'symbol').reduce((n, g) => n + count(g, 'path'), 0)).toBe(2 * EPOCHS);

    expect(charts.parity).not.toBeNull();
    expect(texts(charts.parity!, 'axis-title')).toEqual(expect.arrayContaining(['True SLD (10⁻⁶ Å⁻²)', 'Predicted SLD (10⁻⁶ Å⁻²)']));
    expect(texts(charts.parity!, 'title-text')).toEqual(['Predicted vs true SLD (R² = 0.9873)']);
    const symbols = markGroups(charts.parity!, 'symbol');
    expect(symbols).toHaveLength(1);
    expect(count(symbols[0]!, 'path')).toBe(50);
  });

  it('renders measured data as 116 points with 116 error bars, and skips loss and parity', async () => {
    const charts = await renderCharts(measuredResult());
    expect(charts.loss).toBeNull();
    expect(charts.parity).toBeNull();
    const points = markGroups(charts.nr, 'symbol');
    expect(points).toHaveLength(1);
    expect(count(points[0]!, 'path')).toBe(116);
    const bars = markGroups(charts.nr, 'rule');
    expect(bars).toHaveLength(1);
    expect(count(bars[0]!, 'line')).toBe(116);
    expect(texts(charts.nr, 'legend-label')).toEqual(['Measured data (±1σ)', 'Computed from predicted SLD']);
    expect(texts(charts.nr, 'title-subtitle')).toEqual(['3 points with R ≤ 0 not shown']);
    expect(texts(charts.sld, 'legend-label')).toEqual(['Predicted']);
  });

  it('renders a result full of non-finite values without throwing', async () => {
    const result = syntheticResult();
    result.nr.groundTruth = result.nr.groundTruth.map((r, i) => (i % 3 === 0 ? Number.NaN : i % 3 === 1 ? Number.POSITIVE_INFINITY : r));
    result.nr.computed = result.nr.computed.map(() => Number.NaN);
    result.sld.predicted[0] = Number.NEGATIVE_INFINITY;
    result.training.validationLoss = result.training.validationLoss.map(() => Number.NaN);
    const charts = await renderCharts(result);
    expect(charts.nr).not.toMatch(/NaN|Infinity/);
    expect(charts.sld).not.toMatch(/NaN|Infinity/);
    expect(markGroups(charts.loss!, 'line')).toHaveLength(1);
  });

  it('renders an empty result to empty axes', async () => {
    const svg = await renderSvg(nrSpec({ nr: { q: [], groundTruth: [], computed: [] } }));
    expect(svg).not.toMatch(/NaN/);
    expect(texts(svg, 'axis-title')).toEqual(expect.arrayContaining(['Q (Å⁻¹)']));
    expect(texts(svg, 'axis-label')).toContain('0.25');
    expect(texts(svg, 'title-subtitle')).toEqual(['No reflectivity to show']);
  });
});
