import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { svgToPng, writeReport } from '../../src/report/png.node.js';
import { renderCharts, type ChartSet } from '../../src/report/svg.js';
import { rejection } from '../helpers/errors.js';
import { measuredResult, syntheticResult } from './fixture.js';
import { PNG_SIGNATURE, decodePng, inkedPixels, pngHeader } from './png-decode.js';

/** The PNGs are also left here to be looked at. */
const LOOK = '/tmp/report-look';

function svgSize(svg: string): { width: number; height: number } {
  const m = /<svg[^>]*\swidth="([\d.]+)"[^>]*\sheight="([\d.]+)"/.exec(svg);
  if (!m) throw new Error('no svg size');
  return { width: Number(m[1]), height: Number(m[2]) };
}

describe('svgToPng', () => {
  let charts: ChartSet;
  beforeAll(async () => {
    charts = await renderCharts(syntheticResult());
  });

  it('writes a PNG at twice the SVG size by default, on white', async () => {
    const png = await svgToPng(charts.nr);
    expect([...png.subarray(0, 8)]).toEqual(PNG_SIGNATURE);
    const { width, height } = svgSize(charts.nr);
    const header = pngHeader(png);
    expect(header.width).toBe(Math.ceil(2 * width));
    expect(header.height).toBe(Math.ceil(2 * height));
    const image = decodePng(png);
    // Corners are opaque white, the plot has ink.
    expect(inkedPixels(image, { x0: 0, y0: 0, x1: 4, y1: 4 })).toBe(0);
    expect(inkedPixels(image)).toBeGreaterThan(0.01 * header.width * header.height);
  });

  it('scales, and keeps a transparent background when asked', async () => {
    const { width } = svgSize(charts.sld);
    expect(pngHeader(await svgToPng(charts.sld, { scale: 1 })).width).toBe(Math.ceil(width));
    expect(pngHeader(await svgToPng(charts.sld, { scale: 3 })).width).toBe(Math.ceil(3 * width));
    // Vega paints its own white background; an SVG without one stays transparent when asked.
    const bare = decodePng(await svgToPng('<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>', { background: 'transparent' }));
    expect(bare.rgba[3]).toBe(0);
    expect(decodePng(await svgToPng('<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>')).rgba[3]).toBe(255);
  });

  it('draws text with the system fonts', async () => {
    const text = (s: string): string =>
      `<svg xmlns="http://www.w3.org/2000/svg" width="300" height="40"><text x="10" y="28" font-family="Helvetica, Arial, 'DejaVu Sans', sans-serif" font-size="20">${s}</text></svg>`;
    const inked = inkedPixels(decodePng(await svgToPng(text('Q (Å⁻¹) SLD 10⁻⁶ Å⁻²'))));
    const blank = inkedPixels(decodePng(await svgToPng(text(''))));
    expect(blank).toBe(0);
    expect(inked).toBeGreaterThan(1000);
    // The axis title region of the NR chart (left of the plot) has ink: the rotated "Reflectivity R".
    const nr = decodePng(await svgToPng(charts.nr));
    expect(inkedPixels(nr, { x0: 0, y0: Math.floor(nr.height * 0.3), x1: 40, y1: Math.floor(nr.height * 0.7) })).toBeGreaterThan(100);
  });

  it('rejects a bad scale', async () => {
    expect((await rejection(svgToPng(charts.nr, { scale: 0 }))).code).toBe('INVALID_OPTION');
    expect((await rejection(svgToPng(charts.nr, { scale: Number.NaN }))).code).toBe('INVALID_OPTION');
  });
});

describe('writeReport', () => {
  beforeAll(() => {
    rmSync(LOOK, { recursive: true, force: true });
    mkdirSync(LOOK, { recursive: true });
  });

  it('writes result.json, every chart as SVG and PNG, and report.html', async () => {
    const result = syntheticResult();
    const dir = join(LOOK, 'synthetic');
    const paths = await writeReport(dir, result);
    const names = ['result.json', 'nr.svg', 'nr.png', 'sld.svg', 'sld.png', 'loss.svg', 'loss.png', 'parity.svg', 'parity.png', 'report.html'];
    expect(paths).toEqual(names.map((n) => join(dir, n)));
    expect(readdirSync(dir).sort()).toEqual([...names].sort());
    expect(JSON.parse(readFileSync(join(dir, 'result.json'), 'utf8'))).toEqual(result);
    for (const name of names.filter((n) => n.endsWith('.png'))) {
      expect([...readFileSync(join(dir, name)).subarray(0, 8)]).toEqual(PNG_SIGNATURE);
    }
    const html = readFileSync(join(dir, 'report.html'), 'utf8');
    expect(html.match(/<svg\b/g)).toHaveLength(4);
  });

  it('writes only the charts a measured result has, and SVG only when asked', async () => {
    const dir = join(LOOK, 'measured');
    const paths = await writeReport(dir, measuredResult(), { title: 'Measured sample A' });
    expect(paths.map((p) => p.slice(dir.length + 1))).toEqual(['result.json', 'nr.svg', 'nr.png', 'sld.svg', 'sld.png', 'report.html']);
    expect(readFileSync(join(dir, 'report.html'), 'utf8')).toContain('<h1>Measured sample A</h1>');
    const svgOnly = join(LOOK, 'svg-only');
    const written = await writeReport(svgOnly, measuredResult(), { png: false });
    expect(written.some((p) => p.endsWith('.png'))).toBe(false);
    expect(existsSync(join(svgOnly, 'nr.svg'))).toBe(true);
  });
});
