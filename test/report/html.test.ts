import { beforeAll, describe, expect, it } from 'vitest';
import type { EvaluationResult } from '../../src/eval/result.js';
import { formatNumber } from '../../src/report/format.js';
import { describeSource, escapeHtml, renderHtmlReport, scopeSvgIds } from '../../src/report/html.js';
import { renderCharts, type ChartSet } from '../../src/report/svg.js';
import { measuredResult, syntheticResult } from './fixture.js';

/** All values of an attribute in the document. */
function attributes(html: string, name: string): string[] {
  return [...html.matchAll(new RegExp(`\\s${name}\\s*=\\s*"([^"]*)"`, 'g'))].map((m) => m[1]!);
}

describe('renderHtmlReport', () => {
  let result: EvaluationResult;
  let charts: ChartSet;
  let html: string;

  beforeAll(async () => {
    result = syntheticResult({ modelId: 'evil<script>alert("x")</script>&co' });
    charts = await renderCharts(result);
    html = renderHtmlReport(result, charts);
  });

  it('is one HTML document with the metrics, timing, source, backend and model', () => {
    expect(html.startsWith('<!DOCTYPE html>')).toBe(true);
    expect(html.trimEnd().endsWith('</html>')).toBe(true);
    const m = result.metrics;
    for (const value of [m.mse, m.mae, m.r2, m.normalized!.mse, m.normalized!.mae, m.normalized!.r2, m.chi2, m.nrRelativeError!.median, m.nrRelativeError!.max]) {
      expect(html).toContain(`>${formatNumber(value)}<`);
    }
    expect(html).toContain('>0.9873<'); // R², physical
    expect(html).toContain('>0.9861<'); // R², normalised
    expect(html).toContain('>0.004321<'); // χ²
    expect(html).toContain('>150<'); // curves
    expect(html).toContain('42.1 ms');
    expect(html).toContain('315 ms');
    expect(html).toContain('400 ms');
    expect(html).toContain('<code>wasm</code>');
    expect(html).toContain('row 1234 of the dataset');
    expect(html).toContain('Per curve (3)');
  });

  it('escapes the strings of the result', () => {
    expect(html).not.toMatch(/<script/i);
    expect(html).toContain('evil&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;co');
    expect(html).toContain('<title>Evaluation report — evil&lt;script&gt;');
    const measured = measuredResult();
    measured.source = { ...measured.source, label: 'A&B <"1">.ort' } as EvaluationResult['source'];
    measured.backend = '<b>tensorflow</b>';
    measured.timing = { '<i>load</i>': 1.5, total: 2 };
    const page = renderHtmlReport(measured, { nr: '<svg></svg>', sld: '<svg></svg>', loss: null, parity: null }, { title: 'T <1>' });
    expect(page).toContain('A&amp;B &lt;&quot;1&quot;&gt;.ort');
    expect(page).toContain('&lt;b&gt;tensorflow&lt;/b&gt;');
    expect(page).toContain('&lt;i&gt;load&lt;/i&gt;');
    expect(page).toContain('<h1>T &lt;1&gt;</h1>');
    expect(page).not.toMatch(/<[bi]>/);
  });

  it('loads nothing from elsewhere: no scripts, no external src/href, no stylesheet links', () => {
    for (const name of ['src', 'href', 'xlink:href', 'action']) {
      for (const value of attributes(html, name)) expect(value).not.toMatch(/^\s*(https?:|\/\/)/i);
    }
    expect(html).not.toMatch(/url\(\s*['"]?\s*(https?:|\/\/)/i);
    expect(html).not.toMatch(/<link\b|@import/i);
  });

  it('inlines the four charts with ids unique across the page', () => {
    expect(html.match(/<svg\b/g)).toHaveLength(4);
    for (const id of ['chart-nr', 'chart-sld', 'chart-loss', 'chart-parity']) expect(html).toContain(`<figure id="${id}">`);
    expect(html).toContain('Q (Å⁻¹)');
    expect(html).toContain('SLD (10⁻⁶ Å⁻²)');
    const ids = attributes(html, 'id');
    expect(new Set(ids).size).toBe(ids.length);
    const references = [...html.matchAll(/url\(#([^)]+)\)/g)].map((m) => m[1]!);
    expect(references.length).toBeGreaterThan(0);
    for (const ref of references) expect(ids).toContain(ref);
  });

  it('leaves out the charts and metrics a measured result lacks', async () => {
    const measured = measuredResult();
    const page = renderHtmlReport(measured, await renderCharts(measured));
    expect(page.match(/<svg\b/g)).toHaveLength(2);
    expect(page).not.toContain('chart-loss');
    expect(page).not.toContain('chart-parity');
    expect(page).toContain('No SLD error metrics');
    expect(page).toContain('weighted by dR');
    expect(page).toContain('>1.87<');
    expect(page).toContain('sample_A.ort');
    expect(page).toContain('12.5 % of the model');
  });
});

describe('helpers', () => {
  it('escapeHtml escapes the five characters', () => {
    expect(escapeHtml(`<a href="x">'&'</a>`)).toBe('&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;');
  });

  it('scopeSvgIds prefixes ids and their references only', () => {
    const svg = '<?xml version="1.0"?><svg><defs><clipPath id="clip1"><rect/></clipPath></defs><g clip-path="url(#clip1)"><use href="#clip1"/><a href="#other"/></g></svg>';
    expect(scopeSvgIds(svg, 'p')).toBe('<svg><defs><clipPath id="p-clip1"><rect/></clipPath></defs><g clip-path="url(#p-clip1)"><use href="#p-clip1"/><a href="#other"/></g></svg>');
  });

  it('describeSource describes both kinds', () => {
    expect(describeSource({ kind: 'test-split', datasetIndex: 3, testCurves: 1 })).toContain('holds 1 curve.');
    expect(describeSource({ kind: 'measured', label: 'x', outsideFraction: 0, pointsBelow: 1, pointsAbove: 0 })).toContain('(1 point below, 0 above');
  });
});
