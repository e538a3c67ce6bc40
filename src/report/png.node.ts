/**
 * Node additions of the report: SVG → PNG with resvg (a prebuilt native binary, loaded on first use) and
 * writing a whole report folder.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { EvaluationResult } from '../eval/result.js';
import { ReflectkitError } from '../errors.js';
import { ioError, writeFileAtomic } from '../io/atomic-file.node.js';
import { renderHtmlReport, type HtmlReportOptions } from './html.js';
import type { ChartOptions, NrChartOptions } from './specs.js';
import { renderCharts, type ChartSet } from './svg.js';

/** Options of {@link svgToPng}. */
export interface PngOptions {
  /** Pixels per SVG unit (default 2: a 480 × 320 plot becomes about 1 100 × 760 px). */
  scale?: number;
  /** Background colour (default white; `transparent` for none). */
  background?: string;
}

interface ResvgModule {
  Resvg: new (
    svg: string,
    options: {
      fitTo?: { mode: 'zoom'; value: number };
      background?: string;
      font?: { loadSystemFonts?: boolean; defaultFontFamily?: string; sansSerifFamily?: string };
    },
  ) => { render(): { asPng(): Uint8Array; width: number; height: number } };
}

let resvg: Promise<ResvgModule> | undefined;

function loadResvg(): Promise<ResvgModule> {
  resvg ??= import('@resvg/resvg-js').then((m) => {
    const mod = ((m as { Resvg?: unknown }).Resvg ? m : (m as { default: unknown }).default) as ResvgModule;
    return mod;
  });
  return resvg;
}

/**
 * Renders an SVG document to PNG bytes with resvg, using the system's fonts (the charts ask for
 * Helvetica, Arial, Liberation Sans or DejaVu Sans; text in a family that is not installed falls back to
 * DejaVu Sans, and is not drawn when no font at all is installed).
 */
export async function svgToPng(svg: string, options: PngOptions = {}): Promise<Uint8Array> {
  const scale = options.scale ?? 2;
  if (!(scale > 0) || !Number.isFinite(scale)) {
    throw new ReflectkitError('INVALID_OPTION', `scale must be a finite number > 0, got ${String(scale)}`, {
      path: 'scale',
      expected: 'a finite number > 0',
      received: scale,
    });
  }
  const { Resvg } = await loadResvg();
  const background = options.background ?? 'white';
  const renderer = new Resvg(svg, {
    fitTo: { mode: 'zoom', value: scale },
    ...(background === 'transparent' ? {} : { background }),
    font: { loadSystemFonts: true, defaultFontFamily: 'DejaVu Sans', sansSerifFamily: 'DejaVu Sans' },
  });
  const png = renderer.render().asPng();
  return new Uint8Array(png.buffer, png.byteOffset, png.byteLength);
}

/** Options of {@link writeReport}. */
export interface WriteReportOptions extends HtmlReportOptions, PngOptions {
  /** Also write a PNG of each chart (default true). */
  png?: boolean;
  /** Size, chart titles and Q scale of the charts. */
  chartOptions?: ChartOptions & Pick<NrChartOptions, 'qScale'>;
  /** Charts already rendered by `renderCharts` (rendered here otherwise; `chartOptions` is then unused). */
  charts?: ChartSet;
}

/** The charts a report draws, each written as `<name>.svg` and `<name>.png`. */
const CHART_NAMES = ['nr', 'sld', 'loss', 'parity'] as const;

/** Every file name {@link writeReport} may write into its folder. */
export const REPORT_FILE_NAMES: readonly string[] = ['result.json', ...CHART_NAMES.flatMap((name) => [`${name}.svg`, `${name}.png`]), 'report.html'];

/**
 * Writes a report folder (created if missing): `result.json`, each chart as `.svg` and `.png` (`nr`,
 * `sld`, and `loss` / `parity` when there is something to draw) and the one-file `report.html`. Each file
 * is written atomically (temporary name, then rename). Returns the paths written, in that order.
 */
export async function writeReport(dir: string, result: EvaluationResult, options: WriteReportOptions = {}): Promise<string[]> {
  try {
    await mkdir(dir, { recursive: true });
  } catch (error) {
    throw ioError('create folder', dir, error);
  }
  const { png = true, scale, background, title } = options;
  const charts = options.charts ?? (await renderCharts(result, options.chartOptions));
  const written: string[] = [];
  const write = async (name: string, content: string | Uint8Array): Promise<void> => {
    const path = join(dir, name);
    await writeFileAtomic(path, content);
    written.push(path);
  };
  await write('result.json', `${JSON.stringify(result, null, 2)}\n`);
  for (const name of CHART_NAMES) {
    const svg = charts[name];
    if (!svg) continue;
    await write(`${name}.svg`, svg);
    if (png) {
      await write(
        `${name}.png`,
        await svgToPng(svg, { ...(scale !== undefined ? { scale } : {}), ...(background !== undefined ? { background } : {}) }),
      );
    }
  }
  await write('report.html', renderHtmlReport(result, charts, title !== undefined ? { title } : {}));
  return written;
}
