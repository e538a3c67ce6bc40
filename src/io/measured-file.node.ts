import { readFile } from 'node:fs/promises';
import { basename, extname } from 'node:path';
import { ioError } from './atomic-file.node.js';
import { isOrsoText, parseColumnText, parseOrso, type MeasuredCurve, type MeasuredOptions } from './measured.js';

/**
 * Reads a measured reflectivity file: ORSO `.ort` text (chosen by the `.ort` extension or by ORSO's first line)
 * or 2–4 column text Q (Å⁻¹), R, dR, dQ (FWHM by default; see `parseColumnText`). The curve's `label` is the
 * file's base name unless `options.label` is given; errors carry the file path.
 *
 * @param path the file (UTF-8 text).
 * @param options as for `parseMeasured`; `format: 'auto'` (default) looks at the extension, then the content.
 * @throws ReflectkitError `IO_ERROR` (with the path) when the file cannot be read, `MEASURED_FORMAT` when it is
 *   malformed.
 */
export async function readMeasuredFile(path: string, options: MeasuredOptions = {}): Promise<MeasuredCurve> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw ioError('read', path, error);
  }
  const format = options.format ?? 'auto';
  const orso = format === 'orso' || (format === 'auto' && (extname(path).toLowerCase() === '.ort' || isOrsoText(text)));
  const parseOptions = { ...options, source: options.source ?? path, label: options.label ?? basename(path) };
  return orso ? parseOrso(text, parseOptions) : parseColumnText(text, parseOptions);
}
