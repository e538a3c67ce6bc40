import { ReflectkitError } from '../errors.js';

/**
 * FWHM of a Gaussian divided by its standard deviation: 2·√(2·ln 2) = 2.3548200450309493. A resolution given
 * as a full width at half maximum is divided by this to give the 1-σ width that refl1d's resolution uses.
 * (pyreflect's own `qResolution` uses the rounded 2.355, see `FWHM_TO_SIGMA_DIVISOR`; measured files use this.)
 */
export const GAUSSIAN_FWHM_PER_SIGMA = 2.3548200450309493;

/** How a file gives its Q resolution column: a Gaussian full width at half maximum, or one standard deviation. */
export type DqConvention = 'fwhm' | 'sigma';

/**
 * A measured reflectivity curve, sorted by Q ascending (stable: rows with equal Q keep their file order).
 * Q may repeat: reduced data stitched from several angles (e.g. `*_noQb.txt`) holds overlapping points;
 * {@link parseColumnText} keeps them unless told otherwise, and `interpolateOntoGrid` merges them.
 */
export interface MeasuredCurve {
  /** Momentum transfer Qz, Å⁻¹, > 0, non-decreasing. */
  q: Float64Array;
  /** Reflectivity R (dimensionless); may be ≤ 0 where background subtraction overshoots. */
  r: Float64Array;
  /** 1-σ uncertainty of R (dimensionless, ≥ 0), or `null` when the file has none. */
  dr: Float64Array | null;
  /**
   * 1-σ Q resolution, Å⁻¹ (≥ 0), or `null` when the file has none. A FWHM column has been divided by
   * {@link GAUSSIAN_FWHM_PER_SIGMA}.
   */
  dqSigma: Float64Array | null;
  /** A name for the curve: the `label` option, or the ORSO data set identifier; `readMeasuredFile` uses the file name. */
  label: string;
  /** How the file's dQ column was given (before conversion to σ); `null` when there is no dQ column. */
  dqConvention: DqConvention | null;
}

/** Options of {@link parseColumnText}. */
export interface ColumnTextOptions {
  /**
   * How the 4th (dQ) column is given. Default: what the `#` header says (a header mentioning `FWHM`, or
   * `sigma`/`σ`, on the line that names dQ), else `'fwhm'` (the convention of ORNL's reduced files).
   * An explicit value wins over the header.
   */
  dqIs?: DqConvention;
  /** {@link MeasuredCurve.label}; default `''`. */
  label?: string;
  /**
   * Rows with the same Q: `'keep'` (default: stitched data has overlapping points; they stay in file order)
   * or `'error'` (a `MEASURED_FORMAT` error naming both lines).
   */
  duplicateQ?: 'keep' | 'error';
  /** Where the text came from (a file path), used as the error `path`. */
  source?: string;
}

/** Options of {@link parseOrso}. */
export interface OrsoOptions {
  /** Which data set: a 0-based position in the file, or a `data_set` identifier. Default: the first. */
  dataset?: number | string;
  /** {@link MeasuredCurve.label}; default: the data set's identifier, or `''` when it has none. */
  label?: string;
  /** Overrides the `value_is` of the sQz column (for files that declare it wrongly). */
  dqIs?: DqConvention;
  /** Rows with the same Q: as in {@link ColumnTextOptions.duplicateQ}. */
  duplicateQ?: 'keep' | 'error';
  /** Where the text came from (a file path), used as the error `path`. */
  source?: string;
}

/** Options of {@link parseMeasured}: those of both formats, plus the format. */
export interface MeasuredOptions extends ColumnTextOptions, OrsoOptions {
  /** `'auto'` (default): ORSO when the first line is ORSO's magic line, else column text. */
  format?: 'auto' | 'text' | 'orso';
}

/** One data row of a file: its 1-based line number and the numbers on it. */
interface Row {
  line: number;
  values: number[];
}

// One way to match each number (no `\d+\.?\d*`, which backtracks quadratically over a long run of digits).
const NUMBER = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;
const NON_FINITE = /^[+-]?(?:nan|inf|infinity)$/i;
const ORSO_MAGIC = /^#\s*#\s*ORSO reflectivity data file\b/i;

function formatError(source: string | undefined, message: string, expected?: string, received?: unknown): ReflectkitError {
  return new ReflectkitError('MEASURED_FORMAT', message, {
    path: source ?? '',
    ...(expected === undefined ? {} : { expected }),
    ...(received === undefined ? {} : { received }),
  });
}

/** A number token (also `nan`, `inf`, which the checks below reject by column); `undefined` when not a number. */
function parseNumber(token: string): number | undefined {
  if (NUMBER.test(token)) return Number(token);
  if (NON_FINITE.test(token)) {
    const t = token.toLowerCase();
    return t.includes('nan') ? Number.NaN : t.startsWith('-') ? Number.NEGATIVE_INFINITY : Number.POSITIVE_INFINITY;
  }
  return undefined;
}

function splitLines(text: string): string[] {
  return text.replace(/^\uFEFF/, '').split(/\r\n|\r|\n/);
}

function show(token: string): string {
  return JSON.stringify(token.length > 40 ? `${token.slice(0, 40)}…` : token);
}

/** Column data gathered from the rows, before validation. */
interface RawColumns {
  rows: Row[];
  q: number;
  r: number;
  dr: number | undefined;
  dq: number | undefined;
  /** Factor that converts the Q column to Å⁻¹. */
  qScale: number;
  /** Divisor that turns the dR column into 1 σ (1, or the FWHM/σ ratio). */
  drDivisor: number;
  /** Factor that converts the dQ column's unit to Å⁻¹. */
  dqScale: number;
  /** Divisor that turns the dQ column into 1 σ (1, or the FWHM/σ ratio). */
  dqDivisor: number;
  dqConvention: DqConvention | null;
  label: string;
  duplicateQ: 'keep' | 'error';
  source: string | undefined;
}

/** Reads an uncertainty column: `null` when every row is `nan` (unknown), else each value must be finite and ≥ 0. */
function errorColumn(cols: RawColumns, index: number | undefined, name: string, scale: number, divisor: number): Float64Array | null {
  if (index === undefined) return null;
  const { rows, source } = cols;
  if (rows.every((row) => Number.isNaN(row.values[index]!))) return null;
  const out = new Float64Array(rows.length);
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i]!;
    const v = row.values[index]!;
    if (!Number.isFinite(v)) {
      throw formatError(source, `line ${row.line}: ${name} is ${v} (not finite)`, `a finite ${name} ≥ 0, or nan in every row when unknown`, v);
    }
    if (v < 0) throw formatError(source, `line ${row.line}: negative ${name} ${v}`, `${name} ≥ 0`, v);
    out[i] = (scale === 1 ? v : v * scale) / divisor;
  }
  return out;
}

/** Validates the columns, converts units and conventions, and sorts by Q (stably). */
function finishCurve(cols: RawColumns): MeasuredCurve {
  const { rows, source } = cols;
  const n = rows.length;
  const q = new Float64Array(n);
  const r = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const row = rows[i]!;
    const qi = row.values[cols.q]!;
    const ri = row.values[cols.r]!;
    if (!Number.isFinite(qi)) throw formatError(source, `line ${row.line}: Q is ${qi} (not finite)`, 'a finite Q > 0', qi);
    if (qi <= 0) throw formatError(source, `line ${row.line}: Q = ${qi} is not positive`, 'Q > 0 (Å⁻¹)', qi);
    if (!Number.isFinite(ri)) throw formatError(source, `line ${row.line}: R is ${ri} (not finite)`, 'a finite R', ri);
    q[i] = cols.qScale === 1 ? qi : qi * cols.qScale;
    r[i] = ri;
  }
  const dr = errorColumn(cols, cols.dr, 'dR', 1, cols.drDivisor);
  const dqSigma = errorColumn(cols, cols.dq, 'dQ', cols.dqScale, cols.dqDivisor);

  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => q[a]! - q[b]!); // Array#sort is stable
  for (let k = 1; k < n; k++) {
    const a = order[k - 1]!;
    const b = order[k]!;
    if (cols.duplicateQ === 'error' && q[a] === q[b]) {
      const [first, second] = rows[a]!.line < rows[b]!.line ? [rows[a]!, rows[b]!] : [rows[b]!, rows[a]!];
      throw formatError(source, `line ${second.line}: duplicate Q ${second.values[cols.q]} (also on line ${first.line})`, 'each Q once', q[b]);
    }
  }
  const pick = (src: Float64Array): Float64Array => Float64Array.from(order, (i) => src[i]!);
  return {
    q: pick(q),
    r: pick(r),
    dr: dr && pick(dr),
    dqSigma: dqSigma && pick(dqSigma),
    label: cols.label,
    dqConvention: dqSigma ? cols.dqConvention : null,
  };
}

/** What a text header says the dQ column is: the lines naming dQ decide first, then any header line. */
function headerConvention(header: HeaderLine[], source: string | undefined): DqConvention | undefined {
  const FWHM = /fwhm/i;
  const SIGMA = /\bsigma\b|σ|\bstd\b|standard deviation/i;
  const find = (lines: HeaderLine[]): DqConvention | HeaderLine[] | undefined => {
    const fwhm = lines.filter((l) => FWHM.test(l.text));
    const sigma = lines.filter((l) => SIGMA.test(l.text));
    return fwhm.length > 0 && sigma.length > 0 ? [...new Set([...fwhm, ...sigma])] : fwhm.length > 0 ? 'fwhm' : sigma.length > 0 ? 'sigma' : undefined;
  };
  const dqLines = header.filter((l) => /\bd\s*q|\bsq(z)?\b|resolution/i.test(l.text));
  const found = find(dqLines) ?? find(header);
  if (Array.isArray(found)) {
    const where = found.map((l) => l.line).sort((a, b) => a - b);
    throw formatError(
      source,
      `line${where.length > 1 ? 's' : ''} ${where.join(', ')}: the header says both FWHM and sigma for the Q resolution`,
      "an explicit dqIs option ('fwhm' or 'sigma')",
    );
  }
  return found;
}

/**
 * Parses column text: Q (Å⁻¹), R, dR (1 σ), dQ, one row per line, separated by whitespace or commas.
 * Two or three columns are accepted too (dR and dQ are then `null`). Blank lines and lines starting with `#`
 * are skipped, as are leading non-numeric lines (a header without `#`).
 *
 * dQ is read as a Gaussian **FWHM** by default and divided by {@link GAUSSIAN_FWHM_PER_SIGMA}
 * (2·√(2·ln 2)) to give the 1-σ `dqSigma`; a header that says `FWHM` or `sigma` (e.g. ORNL's
 * `# Q [1/Angstrom] R dR dQ [FWHM]`) decides when `options.dqIs` is not given. An uncertainty column that is
 * `nan` in every row is read as absent. The rows are sorted by Q, stably.
 *
 * @throws ReflectkitError `MEASURED_FORMAT`, with the line number in the message, for: no data rows; a
 *   non-numeric or non-finite value; a row with another number of columns than the first; one column only
 *   (R missing) or more than four; Q ≤ 0; negative dR or dQ; duplicate Q with `duplicateQ: 'error'`; a header
 *   that says both FWHM and sigma.
 */
export function parseColumnText(text: string, options: ColumnTextOptions = {}): MeasuredCurve {
  const { source } = options;
  const header: HeaderLine[] = [];
  const rows: Row[] = [];
  let width = 0;
  const lines = splitLines(text);
  for (let i = 0; i < lines.length; i++) {
    const line = i + 1;
    const s = lines[i]!.trim();
    if (s === '') continue;
    if (s.startsWith('#')) {
      header.push({ text: s.slice(1), line });
      continue;
    }
    const tokens = s.split(/\s*,\s*|\s+/);
    if (rows.length === 0 && parseNumber(tokens[0]!) === undefined) {
      header.push({ text: s, line }); // a leading header line without '#'
      continue;
    }
    const values = tokens.map((token, k) => {
      const v = parseNumber(token);
      if (v === undefined) {
        throw formatError(source, `line ${line}: ${token === '' ? 'empty field' : show(token)} in column ${k + 1} is not a number`, 'numbers: Q R [dR [dQ]]', token);
      }
      return v;
    });
    if (rows.length === 0) {
      if (values.length < 2) throw formatError(source, `line ${line}: expected Q and R, got 1 number (the R column is missing)`, 'Q R [dR [dQ]]');
      if (values.length > 4) throw formatError(source, `line ${line}: expected 2 to 4 numbers, got ${values.length}`, 'Q R [dR [dQ]]');
      width = values.length;
    } else if (values.length !== width) {
      throw formatError(
        source,
        `line ${line}: expected ${width} numbers, got ${values.length}`,
        `${width} columns on every row, as on line ${rows[0]!.line}`,
        values.length,
      );
    }
    rows.push({ line, values });
  }
  if (rows.length === 0) throw formatError(source, 'no data rows', 'lines of 2 to 4 numbers: Q R [dR [dQ]]');
  const hasDq = width >= 4;
  const convention = hasDq ? (options.dqIs ?? headerConvention(header, source) ?? 'fwhm') : null;
  return finishCurve({
    rows,
    q: 0,
    r: 1,
    dr: width >= 3 ? 2 : undefined,
    dq: hasDq ? 3 : undefined,
    qScale: 1,
    drDivisor: 1,
    dqScale: 1,
    dqDivisor: convention === 'fwhm' ? GAUSSIAN_FWHM_PER_SIGMA : 1,
    dqConvention: convention,
    label: options.label ?? '',
    duplicateQ: options.duplicateQ ?? 'keep',
    source,
  });
}

// ---------------------------------------------------------------------------------------------------------
// ORSO

/** A header line without its `#` (in ORSO also one space after it), and its 1-based line number. */
interface HeaderLine {
  text: string;
  line: number;
}

/** The fields of an ORSO `columns:` entry that locating and converting the columns needs. */
interface OrsoColumn {
  name?: string;
  unit?: string;
  physical_quantity?: string;
  error_of?: string;
  error_type?: string;
  value_is?: string;
  distribution?: string;
  line: number;
}

interface OrsoDataSet {
  id: string | undefined;
  /** Line of its `# data_set:` line (or 1 for the first without one). */
  line: number;
  header: HeaderLine[];
  rows: { line: number; tokens: string[] }[];
}

/** A quote at `i` opens a quoted scalar only at the start of a token (not in `Bob's`). */
const opensQuote = (text: string, i: number): boolean => i === 0 || /[\s,[{:]/.test(text[i - 1]!);

/** Strips a trailing YAML comment (outside quotes), blanks and matching quotes; `null`/`~` become undefined. */
function scalar(raw: string): string | undefined {
  let quote = '';
  let end = raw.length;
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i]!;
    if (quote) {
      if (c === quote) quote = '';
    } else if ((c === '"' || c === "'") && opensQuote(raw, i)) quote = c;
    else if (c === '#' && (i === 0 || /\s/.test(raw[i - 1]!))) {
      end = i;
      break;
    }
  }
  let s = raw.slice(0, end).trim();
  if (s.length >= 2 && (s[0] === '"' || s[0] === "'") && s[s.length - 1] === s[0]) s = s.slice(1, -1);
  return s === '' || s === 'null' || s === '~' ? undefined : s;
}

/** Splits `text` at commas outside brackets, braces and quotes. */
function splitFlow(text: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let quote = '';
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quote) {
      if (c === quote) quote = '';
    } else if ((c === '"' || c === "'") && opensQuote(text, i)) quote = c;
    else if (c === '[' || c === '{') depth++;
    else if (c === ']' || c === '}') depth--;
    else if (c === ',' && depth === 0) {
      parts.push(text.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(text.slice(start));
  return parts.map((p) => p.trim()).filter((p) => p !== '');
}

/** Splits `key: value` at the first colon followed by a blank or the end; `undefined` when there is none. */
function keyValue(text: string): [string, string] | undefined {
  // By hand: the regex /^([^:]*?)\s*:(?:\s+|$)(.*)$/ backtracks quadratically over a long run of blanks.
  const colon = text.indexOf(':');
  if (colon < 0 || (colon + 1 < text.length && !/\s/.test(text[colon + 1]!))) return undefined;
  return [text.slice(0, colon).trim().replace(/^(['"])(.*)\1$/, '$2'), text.slice(colon + 1).trimStart()];
}

function setField(column: OrsoColumn, key: string, value: string | undefined): void {
  if (value === undefined) return;
  if (['name', 'unit', 'physical_quantity', 'error_of', 'error_type', 'value_is', 'distribution'].includes(key)) {
    (column as unknown as Record<string, string>)[key] = value;
  }
}

/** A YAML flow mapping `{a: 1, b: x}` (without nested structure that matters here). */
function flowMapping(text: string, line: number, source: string | undefined): OrsoColumn {
  const inner = text.trim();
  if (!inner.startsWith('{') || !inner.endsWith('}')) {
    throw formatError(source, `line ${line}: cannot read column entry ${show(inner)}`, 'a mapping such as {name: Qz, unit: 1/angstrom}');
  }
  const column: OrsoColumn = { line };
  for (const part of splitFlow(inner.slice(1, -1))) {
    const kv = keyValue(part);
    if (kv) setField(column, kv[0], scalar(kv[1]));
  }
  return column;
}

/** Text from `start` (a line's rest) on, joined over lines until brackets and braces balance. */
function balanced(first: string, lines: HeaderLine[], from: number): { text: string; next: number } {
  const depth = (s: string): number => [...s].reduce((d, c) => d + (c === '[' || c === '{' ? 1 : c === ']' || c === '}' ? -1 : 0), 0);
  const parts = [first];
  let open = depth(first); // counted line by line: re-counting the joined text made this quadratic
  let next = from;
  while (open > 0 && next < lines.length) {
    const line = lines[next++]!.text.trim();
    parts.push(line);
    open += depth(line);
  }
  return { text: scalar(parts.join(' ')) ?? '', next };
}

const indentOf = (s: string): number => s.length - s.trimStart().length;

/**
 * The top-level `columns:` list of a header (block or flow style), or `undefined` when the header has none.
 * This reads the subset of YAML that ORSO writers produce; other header entries are not interpreted.
 */
function headerColumns(header: HeaderLine[], source: string | undefined): OrsoColumn[] | undefined {
  const at = header.findIndex((h) => /^columns\s*:/.test(h.text));
  if (at < 0) return undefined;
  const rest = header[at]!.text.replace(/^columns\s*:/, '');
  const columns: OrsoColumn[] = [];
  if (scalar(rest) !== undefined) {
    const { text } = balanced(rest.trim(), header, at + 1);
    if (!text.startsWith('[') || !text.endsWith(']')) {
      throw formatError(source, `line ${header[at]!.line}: cannot read columns: ${show(text)}`, 'a list of column entries');
    }
    for (const entry of splitFlow(text.slice(1, -1))) columns.push(flowMapping(entry, header[at]!.line, source));
    return columns;
  }
  let current: { column: OrsoColumn; keyIndent: number; dashIndent: number } | undefined;
  for (let i = at + 1; i < header.length; i++) {
    const { text, line } = header[i]!;
    const trimmed = text.trim();
    if (trimmed === '' || trimmed.startsWith('#')) continue;
    const indent = indentOf(text);
    if (indent === 0 && !trimmed.startsWith('-')) break; // the next top-level key
    if (trimmed === '-' || trimmed.startsWith('- ')) {
      if (current && indent > current.dashIndent) continue; // a list nested inside an entry
      const content = trimmed.slice(1).trimStart();
      if (content.startsWith('{')) {
        const { text: flow, next } = balanced(content, header, i + 1);
        columns.push(flowMapping(flow, line, source));
        i = next - 1;
        current = undefined;
        continue;
      }
      const column: OrsoColumn = { line };
      columns.push(column);
      current = { column, keyIndent: indent + (trimmed.length - content.length), dashIndent: indent };
      const kv = content === '' ? undefined : keyValue(content);
      if (kv) setField(column, kv[0], scalar(kv[1]));
      if (content === '') current.keyIndent = -1; // set by the first key line
      continue;
    }
    if (!current) continue;
    if (current.keyIndent < 0 && indent > current.dashIndent) current.keyIndent = indent;
    if (indent !== current.keyIndent) continue; // nested mapping inside an entry
    const kv = keyValue(trimmed);
    if (kv) setField(current.column, kv[0], scalar(kv[1]));
  }
  return columns;
}

/** Splits an ORSO text into its data sets, as orsopy does: a `# data_set:` line starts a new one once rows were read. */
function orsoDataSets(lines: string[]): OrsoDataSet[] {
  const sets: OrsoDataSet[] = [{ id: undefined, line: 1, header: [], rows: [] }];
  let seenId = false;
  for (let i = 0; i < lines.length; i++) {
    const line = i + 1;
    const raw = lines[i]!;
    let current = sets[sets.length - 1]!;
    if (raw.startsWith('#')) {
      const m = /^# ?data_set\s*:(.*)$/.exec(raw);
      if (m) {
        if (current.rows.length > 0 || seenId) {
          current = { id: undefined, line, header: [], rows: [] };
          sets.push(current);
        }
        seenId = true;
        current.id = scalar(m[1]!);
        current.line = line;
      }
      current.header.push({ text: raw.slice(1).replace(/^ /, ''), line });
      continue;
    }
    const s = raw.trim();
    if (s !== '') current.rows.push({ line, tokens: s.split(/\s+/) });
  }
  return sets;
}

const FWHM_DIVISORS: Record<string, number> = {
  gaussian: GAUSSIAN_FWHM_PER_SIGMA,
  triangular: Math.sqrt(6),
  uniform: Math.sqrt(12),
  rectangular: Math.sqrt(12),
};

/** The divisor that turns an error column into 1 σ, from its `value_is` (or `error_type: FWHM`) and `distribution`. */
function sigmaDivisor(column: OrsoColumn | undefined, override: DqConvention | undefined, source: string | undefined): { divisor: number; convention: DqConvention } {
  const declared = column?.value_is ?? (column?.error_type?.toLowerCase() === 'fwhm' ? 'FWHM' : undefined);
  const convention: DqConvention = override ?? (declared?.toLowerCase() === 'fwhm' ? 'fwhm' : 'sigma');
  if (convention === 'sigma') return { divisor: 1, convention };
  const distribution = (column?.distribution ?? 'gaussian').toLowerCase();
  const divisor = FWHM_DIVISORS[distribution];
  if (divisor === undefined) {
    throw formatError(source, `line ${column?.line ?? 1}: a FWHM of a ${distribution} distribution has no standard deviation`, 'a gaussian, triangular or uniform distribution');
  }
  return { divisor, convention };
}

/** Factor to Å⁻¹ for an ORSO Q unit. */
function qUnitScale(unit: string | undefined, line: number, source: string | undefined): number {
  if (unit === undefined) return 1;
  const u = unit.replace(/\s+/g, '').toLowerCase();
  if (u === '1/angstrom' || u === 'angstrom^-1' || u === 'angstrom**-1' || u === '1/å' || u === 'å^-1') return 1;
  if (u === '1/nm' || u === 'nm^-1' || u === 'nm**-1') return 0.1;
  throw formatError(source, `line ${line}: unsupported Q unit ${show(unit)}`, "'1/angstrom' or '1/nm'", unit);
}

const isName = (c: OrsoColumn, ...names: string[]): boolean => c.name !== undefined && names.includes(c.name.toLowerCase());

/**
 * Parses the ORSO text format (`.ort`, https://www.reflectometry.org/): a first line
 * `# # ORSO reflectivity data file | 1.x standard | YAML encoding | …`, a YAML header in `# ` lines, and columns
 * Qz, R, sR, sQz (and any further ones). Data sets after the first start at a `# data_set: <id>` line and take
 * their `columns:` from the first unless they declare their own.
 *
 * The header's `columns:` entries locate the columns: Qz by `name: Qz` (or `physical_quantity:
 * normal_wavevector_transfer`), R by `name: R` (or `physical_quantity: reflectivity`), sR and sQz by `error_of`
 * (or `name: sR` / `sQz`); without a `columns:` entry the standard order Qz, R, sR, sQz is used. ORSO error
 * columns are 1 σ unless an entry says `value_is: FWHM` (or `error_type: FWHM`); a FWHM is divided by
 * {@link GAUSSIAN_FWHM_PER_SIGMA} (by √6 or √12 for a `triangular` or `uniform` distribution). Q in `1/nm` is
 * converted to Å⁻¹. An error column that is `nan` in every row (the standard's "unknown") is read as absent.
 * Only the parts of the YAML header named here are interpreted (no YAML library is used).
 *
 * @throws ReflectkitError `MEASURED_FORMAT` (with line numbers) for: a missing ORSO first line; an unknown
 *   data set (the message lists those available); the R or Qz column missing; an unsupported Q unit; and the
 *   row errors of {@link parseColumnText}.
 */
export function parseOrso(text: string, options: OrsoOptions = {}): MeasuredCurve {
  const { source } = options;
  const lines = splitLines(text);
  if (!ORSO_MAGIC.test(lines[0] ?? '')) {
    throw formatError(source, `line 1: not an ORSO file: ${show(lines[0] ?? '')}`, "a first line '# # ORSO reflectivity data file | … standard | YAML encoding | …'");
  }
  const sets = orsoDataSets(lines);
  const list = (): string =>
    sets.slice(0, 20).map((s, i) => (s.id === undefined ? `${i}` : `${i} (${JSON.stringify(s.id)})`)).join(', ') + (sets.length > 20 ? ', …' : '');
  const wanted = options.dataset ?? 0;
  const index =
    typeof wanted === 'number' ? (Number.isInteger(wanted) && wanted >= 0 && wanted < sets.length ? wanted : -1) : sets.findIndex((s) => s.id === wanted);
  if (index < 0) {
    throw formatError(source, `unknown ORSO data set ${JSON.stringify(wanted)}; the file has ${sets.length}: ${list()}`, 'a 0-based index or a data_set identifier', wanted);
  }
  const set = sets[index]!;
  // later data sets inherit the first one's header (orsopy: each updates a copy of data set 0's)
  const columns = headerColumns(set.header, source) ?? (index > 0 ? headerColumns(sets[0]!.header, source) : undefined);

  if (set.rows.length === 0) {
    const name = `data set ${index}${set.id === undefined ? '' : ` (${JSON.stringify(set.id)})`}`;
    throw formatError(source, `line ${set.line}: ${name} has no data rows`, 'rows of numbers: Qz R sR sQz');
  }
  const rows: Row[] = set.rows.map(({ line, tokens }) => ({
    line,
    values: tokens.map((token) => {
      const v = parseNumber(token);
      if (v === undefined) throw formatError(source, `line ${line}: ${show(token)} is not a number`, 'numbers: Qz R sR sQz', token);
      return v;
    }),
  }));
  const width = rows[0]!.values.length;
  for (const row of rows) {
    if (row.values.length !== width) {
      throw formatError(source, `line ${row.line}: expected ${width} numbers, got ${row.values.length}`, `${width} columns on every row, as on line ${rows[0]!.line}`, row.values.length);
    }
  }

  // Without a columns list, the standard's order: Qz, R, sR, sQz.
  let qIndex = 0;
  let rIndex = 1;
  let drIndex: number | undefined = 2;
  let dqIndex: number | undefined = 3;
  let qColumn: OrsoColumn | undefined;
  let drColumn: OrsoColumn | undefined;
  let dqColumn: OrsoColumn | undefined;
  if (columns && columns.length > 0) {
    const find = (test: (c: OrsoColumn) => boolean): number | undefined => {
      const i = columns.findIndex(test);
      return i < 0 ? undefined : i;
    };
    const at = columns[0]!.line;
    const qi = find((c) => c.error_of === undefined && (isName(c, 'qz', 'q') || /^normal_(wavevector|momentum)_transfer$/.test(c.physical_quantity ?? '')));
    const ri = find((c) => c.error_of === undefined && (isName(c, 'r') || c.physical_quantity === 'reflectivity'));
    if (qi === undefined) throw formatError(source, `line ${at}: the columns list has no Qz column`, 'a column {name: Qz}');
    if (ri === undefined) throw formatError(source, `line ${at}: the columns list has no R column (the R column is missing)`, 'a column {name: R}');
    const qName = columns[qi]!.name ?? 'Qz';
    const rName = columns[ri]!.name ?? 'R';
    qIndex = qi;
    rIndex = ri;
    drIndex = find((c) => c.error_of === rName || c.error_of === 'R' || (c.error_of === undefined && isName(c, 'sr')));
    dqIndex = find((c) => c.error_of === qName || c.error_of === 'Qz' || (c.error_of === undefined && isName(c, 'sqz', 'sq')));
    qColumn = columns[qi];
    drColumn = drIndex === undefined ? undefined : columns[drIndex];
    dqColumn = dqIndex === undefined ? undefined : columns[dqIndex];
  }
  if (rIndex >= width || qIndex >= width) {
    const which = rIndex >= width ? 'R' : 'Qz';
    throw formatError(source, `line ${rows[0]!.line}: the ${which} column is missing (${width} number${width === 1 ? '' : 's'} per row)`, `column ${Math.max(qIndex, rIndex) + 1} holding ${which}`);
  }
  // error columns beyond the data are absent (a file that lists sR/sQz but carries only Qz, R)
  if (drIndex !== undefined && drIndex >= width) drIndex = undefined;
  if (dqIndex !== undefined && dqIndex >= width) dqIndex = undefined;
  const qScale = qUnitScale(qColumn?.unit, qColumn?.line ?? 1, source);
  const dqScale = dqColumn?.unit === undefined ? qScale : qUnitScale(dqColumn.unit, dqColumn.line, source);
  const dr = sigmaDivisor(drColumn, undefined, source);
  const dq = sigmaDivisor(dqColumn, options.dqIs, source);
  return finishCurve({
    rows,
    q: qIndex,
    r: rIndex,
    dr: drIndex,
    dq: dqIndex,
    qScale,
    drDivisor: dr.divisor,
    dqScale,
    dqDivisor: dq.divisor,
    dqConvention: dqIndex === undefined ? null : dq.convention,
    label: options.label ?? set.id ?? '',
    duplicateQ: options.duplicateQ ?? 'keep',
    source,
  });
}

/** True when `text` starts with ORSO's first line (`# # ORSO reflectivity data file | …`). */
export function isOrsoText(text: string): boolean {
  return ORSO_MAGIC.test(splitLines(text.slice(0, 400))[0] ?? '');
}

/**
 * Parses measured reflectivity in either format: ORSO `.ort` text ({@link parseOrso}) or 2–4 column text
 * ({@link parseColumnText}). `format: 'auto'` (the default) picks ORSO when the first line is ORSO's.
 *
 * @throws ReflectkitError `MEASURED_FORMAT`.
 */
export function parseMeasured(text: string, options: MeasuredOptions = {}): MeasuredCurve {
  const format = options.format ?? 'auto';
  const orso = format === 'orso' || (format === 'auto' && isOrsoText(text));
  return orso ? parseOrso(text, options) : parseColumnText(text, options);
}
