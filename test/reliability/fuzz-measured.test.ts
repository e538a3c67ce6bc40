import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { GAUSSIAN_FWHM_PER_SIGMA, parseColumnText, parseMeasured, parseOrso, type MeasuredCurve } from '../../src/io/measured.js';
import { readMeasuredFile } from '../../src/io/measured-file.node.js';
import { pythonPath } from '../helpers/python.js';
import { corrupt, corruptionArb, outcome, outcomeAsync, runCounted, runCountedAsync, scratch, SEED } from './fuzz-helpers.js';

/**
 * Fuzzing the measured-data readers (4-column text and ORSO `.ort`): every input gives the right curve or
 * MEASURED_FORMAT naming the line, never another exception or a hang (including inputs built to make
 * regular expressions backtrack).
 */

const REAL = join(import.meta.dirname, '..', 'fixtures', 'REFL_212592_reduced_noQb.txt');
const FORMAT = ['MEASURED_FORMAT'] as const;

/** What every curve must be: sorted finite Q > 0, finite R, errors null or finite ≥ 0, all the same length. */
function expectValidCurve(c: MeasuredCurve): void {
  const n = c.q.length;
  expect(n).toBeGreaterThan(0);
  expect(c.r.length).toBe(n);
  for (let i = 0; i < n; i++) {
    expect(Number.isFinite(c.q[i]!) && c.q[i]! > 0 && Number.isFinite(c.r[i]!)).toBe(true);
    if (i > 0) expect(c.q[i]!).toBeGreaterThanOrEqual(c.q[i - 1]!);
  }
  for (const e of [c.dr, c.dqSigma]) {
    if (e === null) continue;
    expect(e.length).toBe(n);
    expect(e.every((v) => Number.isFinite(v) && v >= 0)).toBe(true);
  }
  expect(c.dqConvention === null).toBe(c.dqSigma === null);
}

// ---------------------------------------------------------------------------------------------------------
// Column text built from a spec, with its expected result derived here from the documented rules

interface Cell {
  text: string;
  /** The number it stands for; `undefined` for a token that is no number. */
  value: number | undefined;
}

const BAD_TOKENS = ['abc', '1.2.3', '--1', '0x10', '1e', '.', '+', 'e5', 'nan%', '1d-3'];
const NON_FINITE: Array<[string, number]> = [['nan', NaN], ['NaN', NaN], ['-nan', NaN], ['inf', Infinity], ['-Infinity', -Infinity], ['+INF', Infinity], ['1e400', Infinity]];

/** A double written the ways files write numbers: plain, exponent (e/E, signs), fixed, `.5`, `5.`. */
const numberText = (v: number): fc.Arbitrary<Cell> =>
  fc.tuple(fc.integer({ min: 0, max: 6 }), fc.integer({ min: 1, max: 17 }), fc.boolean()).map(([style, digits, plus]) => {
    let text = String(v);
    if (style === 1) text = v.toExponential(Math.min(digits, 16));
    if (style === 2) text = v.toExponential(Math.min(digits, 16)).toUpperCase();
    if (style === 3) text = v.toPrecision(digits);
    if (style === 4 && Math.abs(v) < 1 && /^-?0\.\d+$/.test(String(v))) text = String(v).replace('0.', '.');
    if (style === 5 && Number.isInteger(v) && Math.abs(v) < 1e15) text = `${v}.`;
    if (plus && v >= 0 && !text.startsWith('+')) text = `+${text}`;
    return { text, value: Number(text) };
  });

const cellArb = (valid: fc.Arbitrary<number>): fc.Arbitrary<Cell> =>
  fc.oneof(
    { weight: 60, arbitrary: valid.chain(numberText) },
    fc.constantFrom(...BAD_TOKENS).map((text) => ({ text, value: undefined })),
    fc.constantFrom(...NON_FINITE).map(([text, value]) => ({ text, value })),
    fc.constantFrom({ text: '0', value: 0 }, { text: '-1.5e-3', value: -1.5e-3 }),
  );

const positive = fc.double({ min: 1e-4, max: 0.5, noNaN: true });
const anyFinite = fc.double({ min: -1e3, max: 1e3, noNaN: true, noDefaultInfinity: true });
const nonNegative = fc.double({ min: 0, max: 1, noNaN: true });

interface TextSpec {
  width: number;
  rows: Array<{ cells: Cell[]; blankBefore: boolean }>;
  /** Per error column: every row `nan` (read as absent). */
  allNan: [boolean, boolean];
  sep: string;
  eol: string;
  bom: boolean;
  header: Array<'# Q R dR dQ' | '# dQ [FWHM]' | '# dQ is sigma (1 std)' | 'Q R dR dQ'>;
}

const textSpecArb: fc.Arbitrary<TextSpec> = fc
  .record({
    width: fc.oneof({ weight: 12, arbitrary: fc.constantFrom(2, 3, 4) }, fc.constantFrom(1, 5)),
    rows: fc.array(
      fc.record({
        cells: fc.tuple(cellArb(positive), cellArb(anyFinite), cellArb(nonNegative), cellArb(nonNegative), cellArb(anyFinite)),
        drop: fc.oneof({ weight: 40, arbitrary: fc.constant(false) }, fc.constant(true)),
        blankBefore: fc.oneof({ weight: 8, arbitrary: fc.constant(false) }, fc.constant(true)),
      }),
      { minLength: 0, maxLength: 25 },
    ),
    allNan: fc.tuple(fc.oneof({ weight: 8, arbitrary: fc.constant(false) }, fc.constant(true)), fc.oneof({ weight: 8, arbitrary: fc.constant(false) }, fc.constant(true))),
    sep: fc.constantFrom(' ', '\t', ',', ', ', '   ', ' \t'),
    eol: fc.constantFrom('\n', '\r\n', '\r'),
    bom: fc.boolean(),
    header: fc.subarray<TextSpec['header'][number]>(['# Q R dR dQ', '# dQ [FWHM]', '# dQ is sigma (1 std)', 'Q R dR dQ']),
  })
  .map(({ width, rows, allNan, ...rest }) => ({
    ...rest,
    width,
    allNan,
    // a dropped cell: one row one number short
    rows: rows.map(({ cells, drop, blankBefore }) => {
      let row = cells.slice(0, width);
      if (allNan[0] && width >= 3) row[2] = { text: 'nan', value: NaN };
      if (allNan[1] && width >= 4) row[3] = { text: 'nan', value: NaN };
      if (drop && row.length > 1) row = row.slice(0, -1);
      return { cells: row, blankBefore };
    }),
  }));

function textOf(s: TextSpec): string {
  const lines: string[] = [...s.header];
  for (const row of s.rows) {
    if (row.blankBefore) lines.push('   ');
    lines.push(row.cells.map((c) => c.text).join(s.sep));
  }
  return (s.bom ? '\uFEFF' : '') + lines.join(s.eol) + s.eol;
}

type Expected = { ok: true; curve: Omit<MeasuredCurve, 'label'> } | { ok: false; line: number | null };

/** The documented rules of parseColumnText, applied to the spec's numbers. */
function expectedOf(s: TextSpec): Expected {
  const headerLines = s.header.length;
  const rows: Array<{ line: number; values: number[] }> = [];
  let line = headerLines;
  let width = 0;
  for (const row of s.rows) {
    if (row.blankBefore) line++;
    line++;
    if (rows.length === 0 && row.cells[0]!.value === undefined) continue; // a leading header line without '#'
    if (row.cells.some((c) => c.value === undefined)) return { ok: false, line };
    if (rows.length === 0) {
      if (row.cells.length < 2 || row.cells.length > 4) return { ok: false, line };
      width = row.cells.length;
    } else if (row.cells.length !== width) return { ok: false, line };
    rows.push({ line, values: row.cells.map((c) => c.value!) });
  }
  if (rows.length === 0) return { ok: false, line: null };
  const fwhm = s.header.includes('# dQ [FWHM]');
  const sigma = s.header.includes('# dQ is sigma (1 std)');
  if (width === 4 && fwhm && sigma) return { ok: false, line: s.header.indexOf('# dQ [FWHM]') + 1 }; // "lines F, S: … both FWHM and sigma"
  for (const { line: l, values } of rows) {
    if (!Number.isFinite(values[0]!) || values[0]! <= 0 || !Number.isFinite(values[1]!)) return { ok: false, line: l };
  }
  const column = (k: number, divisor: number): Float64Array | null | { line: number } => {
    if (width <= k || rows.every((r) => Number.isNaN(r.values[k]!))) return null;
    const bad = rows.find((r) => !Number.isFinite(r.values[k]!) || r.values[k]! < 0);
    return bad ? { line: bad.line } : Float64Array.from(rows, (r) => r.values[k]! / divisor);
  };
  const dr = column(2, 1);
  if (dr !== null && !(dr instanceof Float64Array)) return { ok: false, line: dr.line };
  const dq = column(3, sigma ? 1 : GAUSSIAN_FWHM_PER_SIGMA);
  if (dq !== null && !(dq instanceof Float64Array)) return { ok: false, line: dq.line };
  const order = rows.map((_, i) => i).sort((a, b) => rows[a]!.values[0]! - rows[b]!.values[0]!);
  const pick = (f: (i: number) => number) => Float64Array.from(order, f);
  return {
    ok: true,
    curve: {
      q: pick((i) => rows[i]!.values[0]!),
      r: pick((i) => rows[i]!.values[1]!),
      dr: dr && pick((i) => dr[i]!),
      dqSigma: dq && pick((i) => dq[i]!),
      dqConvention: dq ? (sigma ? 'sigma' : 'fwhm') : null,
    },
  };
}

describe('fuzzing column text', () => {
  it('structured tables (number styles, separators, line ends, headers, nan/inf, bad tokens): exactly the documented curve, or MEASURED_FORMAT at the offending line', () => {
    let curves = 0;
    runCounted('measured column text (structured)', textSpecArb, 4000, (spec) => {
      const text = textOf(spec);
      const expected = expectedOf(spec);
      const result = outcome(() => parseColumnText(text, { source: 'fuzz.txt', label: 'x' }), FORMAT);
      expect(result.ok, `${JSON.stringify(text)} → ${result.ok ? 'a curve' : result.error.message}`).toBe(expected.ok);
      if (result.ok && expected.ok) {
        curves++;
        expect({ ...result.value, label: undefined }).toEqual({ ...expected.curve, label: undefined });
        expectValidCurve(result.value);
      } else if (!result.ok && !expected.ok) {
        expect(result.error.path).toBe('fuzz.txt');
        if (expected.line !== null) expect(result.error.message, text).toMatch(new RegExp(`^MEASURED_FORMAT at fuzz\\.txt: lines? ${expected.line}\\b`));
      }
    });
    expect(curves).toBeGreaterThan(500);
  });

  it('random lines of number-like and header-like tokens (text and ORSO): a valid curve or MEASURED_FORMAT', () => {
    const token = fc.constantFrom('0.1', '1e-3', '-2', '0', 'nan', 'inf', '#', 'abc', 'Q', 'FWHM', 'sigma', ',', ':', '[', '{', '}', ']', '-', "'", '"', 'name: Qz', 'error_of: R', 'value_is: FWHM', 'unit: 1/nm', 'distribution: lorentzian');
    const lineArb = fc.oneof(
      { weight: 6, arbitrary: fc.array(token, { maxLength: 6 }).map((t) => t.join(' ')) },
      fc.constantFrom('# # ORSO reflectivity data file | 1.0 standard | YAML encoding', '# columns:', '# - {name: Qz, unit: 1/angstrom}', '# - {name: R}', '# - {error_of: Qz, value_is: FWHM}', '# data_set: a', '# columns: [{name: R}, {name: Qz}]', '#   - name: Qz', '# - error_of: R'),
      fc.string({ maxLength: 20 }),
    );
    const arb = fc.tuple(fc.array(lineArb, { maxLength: 20 }), fc.constantFrom('auto' as const, 'text' as const, 'orso' as const), fc.option(fc.oneof(fc.nat(3), fc.constantFrom('a', 'b'))));
    runCounted('measured random lines (parseMeasured)', arb, 4000, ([lines, format, dataset]) => {
      const result = outcome(() => parseMeasured(lines.join('\n'), { format, ...(dataset === null ? {} : { dataset }) }), FORMAT);
      if (result.ok) expectValidCurve(result.value);
    });
  });

  it('the real REFL_212592 file with lines deleted, doubled, swapped, cut and cells replaced: what numpy.loadtxt reads, under the same rules', () => {
    const text = readFileSync(REAL, 'utf8');
    const lines = text.split('\n');
    const data = lines.map((l, i) => [l, i] as const).filter(([l]) => l.trim() !== '' && !l.startsWith('#')).map(([, i]) => i);
    const mutation = fc.oneof(
      fc.record({ kind: fc.constant('delete' as const), at: fc.constantFrom(...data) }),
      fc.record({ kind: fc.constant('double' as const), at: fc.constantFrom(...data) }),
      fc.record({ kind: fc.constant('swap' as const), at: fc.constantFrom(...data), with: fc.constantFrom(...data) }),
      { weight: 3, arbitrary: fc.record({ kind: fc.constant('cell' as const), at: fc.constantFrom(...data), column: fc.nat(3), token: fc.constantFrom('nan', 'inf', '-inf', '-1', '0', '1e400', '-0.0', 'abc', '') }) },
      fc.record({ kind: fc.constant('cut' as const), at: fc.nat(text.length - 1) }),
    );
    const cases = fc.sample(fc.array(mutation, { minLength: 1, maxLength: 3 }), { seed: SEED, numRuns: 300 });
    const texts = cases.map((ms) => {
      let out = [...lines];
      for (const m of ms) {
        if (m.kind === 'cut') out = out.join('\n').slice(0, m.at).split('\n');
        else if (m.at >= out.length) continue;
        else if (m.kind === 'delete') out.splice(m.at, 1);
        else if (m.kind === 'double') out.splice(m.at, 0, out[m.at]!);
        else if (m.kind === 'swap' && m.with < out.length) [out[m.at], out[m.with]] = [out[m.with]!, out[m.at]!];
        else if (m.kind === 'cell') {
          const cells = out[m.at]!.trim().split(/\s+/);
          cells[m.column] = m.token;
          out[m.at] = cells.filter((c) => c !== '').join(' ');
        }
      }
      return out.join('\n');
    });
    const code = `
import io, json, sys, warnings, numpy as np
out = []
for t in json.load(sys.stdin):
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            a = np.loadtxt(io.StringIO(t), comments="#", ndmin=2)
        out.append([[repr(float(v)) for v in row] for row in a] if a.size else None)
    except Exception:
        out.append(None)
print(json.dumps(out))`;
    const numpy = JSON.parse(execFileSync(pythonPath(), ['-c', code], { input: JSON.stringify(texts), maxBuffer: 1 << 28 }).toString()) as Array<string[][] | null>;
    let curves = 0;
    texts.forEach((t, k) => {
      const result = outcome(() => parseColumnText(t), FORMAT);
      const matrix = numpy[k]?.map((row) => row.map((v) => Number(v === 'nan' ? NaN : v === 'inf' ? Infinity : v === '-inf' ? -Infinity : v)));
      // The same rules as expectedOf, on numpy's numbers.
      const valid = matrix !== undefined && matrix[0]!.length === 4 && matrix.every(([q, r]) => Number.isFinite(q!) && q! > 0 && Number.isFinite(r!)) &&
        [2, 3].every((c) => matrix.every((row) => Number.isNaN(row[c]!)) || matrix.every((row) => Number.isFinite(row[c]!) && row[c]! >= 0));
      expect(result.ok, `case ${k}: ${JSON.stringify(cases[k])}`).toBe(valid);
      if (!result.ok || matrix === undefined) return;
      curves++;
      const order = matrix.map((_, i) => i).sort((a, b) => matrix[a]![0]! - matrix[b]![0]!);
      expect(Array.from(result.value.q)).toEqual(order.map((i) => matrix[i]![0]));
      expect(Array.from(result.value.r)).toEqual(order.map((i) => matrix[i]![1]));
      expectValidCurve(result.value);
    });
    console.log(`[fuzz] measured REFL_212592 mutations vs numpy.loadtxt: ${texts.length} cases, ${curves} curves`);
    expect(curves).toBeGreaterThan(50);
  });

  it('bit flips, truncations and garbage in the real file, in memory and on disk: a valid curve or MEASURED_FORMAT, the same both ways', async () => {
    const bytes = Uint8Array.from(readFileSync(REAL));
    runCounted('measured corruptions of the real file (parseMeasured)', corruptionArb(bytes.length), 3000, (c) => {
      const result = outcome(() => parseMeasured(Buffer.from(corrupt(bytes, c)).toString('utf8')), FORMAT);
      if (result.ok) expectValidCurve(result.value);
    });
    const dir = scratch('measured');
    let k = 0;
    await runCountedAsync('measured damaged files (readMeasuredFile)', corruptionArb(bytes.length), 200, async (c) => {
      const broken = corrupt(bytes, c);
      const path = join(dir, `case-${k++}.txt`);
      writeFileSync(path, broken);
      const file = await outcomeAsync(() => readMeasuredFile(path), FORMAT);
      const memory = outcome(() => parseMeasured(Buffer.from(broken).toString('utf8'), { source: path, label: basename(path) }), FORMAT);
      expect(file.ok).toBe(memory.ok);
      if (file.ok && memory.ok) expect(file.value).toEqual(memory.value);
      if (!file.ok && !memory.ok) expect(file.error.message).toBe(memory.error.message);
    });
    mkdirSync(join(dir, 'folder.txt'));
    expect((await outcomeAsync(() => readMeasuredFile(join(dir, 'folder.txt')), ['IO_ERROR'])).ok).toBe(false);
  });
});

// ---------------------------------------------------------------------------------------------------------
// ORSO

interface OrsoSpec {
  /** Column order: a permutation of Qz, R, sR?, sQz?, alpha_i?. */
  columns: string[];
  qUnit: '1/angstrom' | '1/nm' | null;
  sR: { valueIs: 'sigma' | 'FWHM' | null; distribution: string | null };
  sQz: { valueIs: 'sigma' | 'FWHM' | null; distribution: string | null };
  sets: Array<{ id: string; rows: number[][]; nanR: boolean; nanQ: boolean }>;
  pick: number | string | null;
}

const errorSpec = fc.record({
  valueIs: fc.constantFrom('sigma' as const, 'FWHM' as const, null),
  distribution: fc.oneof({ weight: 6, arbitrary: fc.constantFrom('gaussian', 'triangular', 'uniform', null) }, fc.constant('lorentzian')),
});
const orsoSpecArb: fc.Arbitrary<OrsoSpec> = fc
  .record({
    columns: fc.tuple(fc.boolean(), fc.boolean(), fc.boolean()).chain(([sR, sQz, alpha]) =>
      fc.shuffledSubarray(['Qz', 'R', ...(sR ? ['sR'] : []), ...(sQz ? ['sQz'] : []), ...(alpha ? ['alpha_i'] : [])], { minLength: 2 + Number(sR) + Number(sQz) + Number(alpha) })),
    qUnit: fc.constantFrom('1/angstrom' as const, '1/nm' as const, null),
    sR: errorSpec,
    sQz: errorSpec,
    sets: fc.array(
      fc.record({
        id: fc.constantFrom('up', 'down', 'spin_up', 'x1'),
        rows: fc.array(fc.tuple(positive, anyFinite, nonNegative, nonNegative, anyFinite), { minLength: 1, maxLength: 12 }),
        nanR: fc.oneof({ weight: 6, arbitrary: fc.constant(false) }, fc.constant(true)),
        nanQ: fc.oneof({ weight: 6, arbitrary: fc.constant(false) }, fc.constant(true)),
      }),
      { minLength: 1, maxLength: 3 },
    ),
    pick: fc.oneof(fc.constant(null), fc.nat(3), fc.constantFrom('up0', 'down1', 'spin_up2', 'x10', 'up1', 'nope')),
  })
  // −0 becomes 0: the spec travels to Python as JSON, which has no −0.
  .map((s) => ({ ...s, sets: s.sets.map((set, i) => ({ ...set, id: `${set.id}${i}`, rows: set.rows.map((row) => row.map((v) => v + 0)) })) }));

const FWHM_DIVISOR: Record<string, number> = { gaussian: GAUSSIAN_FWHM_PER_SIGMA, triangular: Math.sqrt(6), uniform: Math.sqrt(12) };

/** What parseOrso must give for a file orsopy wrote from the spec (null: MEASURED_FORMAT). */
function expectedOrso(s: OrsoSpec): Omit<MeasuredCurve, 'label'> & { label: string } | null {
  const index = s.pick === null ? 0 : typeof s.pick === 'number' ? s.pick : s.sets.findIndex((set) => set.id === s.pick);
  const set = s.sets[index];
  if (index < 0 || set === undefined) return null;
  const scale = s.qUnit === '1/nm' ? 0.1 : 1;
  const divisor = (e: OrsoSpec['sR']): number | null => (e.valueIs !== 'FWHM' ? 1 : FWHM_DIVISOR[e.distribution ?? 'gaussian'] ?? null);
  const rows = set.rows.map(([q, r, sr, sq]) => ({ q: q! * scale, r: r!, sr: set.nanR ? NaN : sr!, sq: set.nanQ ? NaN : sq! * scale }));
  const hasR = s.columns.includes('sR') && !set.nanR;
  const hasQ = s.columns.includes('sQz') && !set.nanQ;
  const drDivisor = divisor(s.sR);
  const dqDivisor = divisor(s.sQz);
  if ((s.columns.includes('sR') && drDivisor === null) || (s.columns.includes('sQz') && dqDivisor === null)) return null;
  const order = rows.map((_, i) => i).sort((a, b) => rows[a]!.q - rows[b]!.q);
  return {
    q: Float64Array.from(order, (i) => rows[i]!.q),
    r: Float64Array.from(order, (i) => rows[i]!.r),
    dr: hasR ? Float64Array.from(order, (i) => set.rows[i]![2]! / drDivisor!) : null,
    dqSigma: hasQ ? Float64Array.from(order, (i) => (scale === 1 ? set.rows[i]![3]! : set.rows[i]![3]! * scale) / dqDivisor!) : null,
    dqConvention: hasQ ? (s.sQz.valueIs === 'FWHM' ? 'fwhm' : 'sigma') : null,
    label: set.id,
  };
}

describe('fuzzing ORSO', () => {
  it('files orsopy writes (column orders, units, FWHM/sigma, distributions, data sets, all-nan errors): exactly the expected curve or MEASURED_FORMAT', () => {
    const specs = fc.sample(orsoSpecArb, { seed: SEED, numRuns: 400 });
    const code = `
import io, json, sys, warnings, numpy as np
from orsopy.fileio import Orso, OrsoDataset, Column, ErrorColumn, save_orso
out = []
for s in json.load(sys.stdin):
    cols = []
    for name in s["columns"]:
        if name == "Qz": cols.append(Column("Qz", s["qUnit"]))
        elif name == "R": cols.append(Column("R"))
        elif name == "alpha_i": cols.append(Column("alpha_i", "deg"))
        else:
            e = s[name]
            cols.append(ErrorColumn("R" if name == "sR" else "Qz", value_is=e["valueIs"], distribution=e["distribution"]))
    where = {"Qz": 0, "R": 1, "sR": 2, "sQz": 3, "alpha_i": 4}
    datasets = []
    for k, d in enumerate(s["sets"]):
        h = Orso.empty()
        h.columns = cols
        h.data_set = d["id"]
        rows = np.array([[float("nan") if (c == "sR" and d["nanR"]) or (c == "sQz" and d["nanQ"]) else r[where[c]] for c in s["columns"]] for r in d["rows"]])
        datasets.append(OrsoDataset(h, rows))
    b = io.StringIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        save_orso(datasets, b)
    out.append(b.getvalue())
print(json.dumps(out))`;
    const texts = JSON.parse(execFileSync(pythonPath(), ['-c', code], { input: JSON.stringify(specs), maxBuffer: 1 << 28 }).toString()) as string[];
    let curves = 0;
    texts.forEach((text, k) => {
      const spec = specs[k]!;
      const expected = expectedOrso(spec);
      const result = outcome(() => parseOrso(text, spec.pick === null ? {} : { dataset: spec.pick }), FORMAT);
      expect(result.ok, `${JSON.stringify(spec)}\n${text}`).toBe(expected !== null);
      if (!result.ok) return;
      curves++;
      expect(result.value).toEqual(expected);
      expect(parseMeasured(text, spec.pick === null ? {} : { dataset: spec.pick })).toEqual(result.value); // detected as ORSO
    });
    console.log(`[fuzz] ORSO files written by orsopy: ${texts.length} cases, ${curves} curves`);
    expect(curves).toBeGreaterThan(150);

    // Corruptions of such files: a valid curve or MEASURED_FORMAT.
    const bytes = texts.slice(0, 8).map((t) => Uint8Array.from(Buffer.from(t, 'utf8')));
    const arb = fc.nat(bytes.length - 1).chain((i) => fc.tuple(fc.constant(i), corruptionArb(bytes[i]!.length)));
    runCounted('ORSO corruptions (parseOrso, parseMeasured)', arb, 3000, ([i, c]) => {
      const text = Buffer.from(corrupt(bytes[i]!, c)).toString('utf8');
      for (const parse of [() => parseOrso(text), () => parseMeasured(text), () => parseOrso(text, { dataset: 1 })]) {
        const result = outcome(parse, FORMAT);
        if (result.ok) expectValidCurve(result.value);
      }
    });
  });
});

describe('inputs built to make the parsers backtrack or rescan (once quadratic: minutes for these sizes)', () => {
  it('a megabyte of digits, a long run of blanks in a YAML key, and 200 000 lines of brackets are refused promptly', () => {
    const orso = '# # ORSO reflectivity data file | 1.0 standard | YAML encoding\n';
    const cases: Array<[string, () => unknown, RegExp]> = [
      // NUMBER's `\d+\.?\d*` backtracked over every split of the digits.
      ['1 000 000 digits', () => parseColumnText(`0.1 ${'1'.repeat(1_000_000)}x\n`), /line 1: "1{40}…" in column 2 is not a number/],
      // keyValue's /^([^:]*?)\s*:/ tried every blank as the key's end.
      ['1 000 000 blanks in a column entry', () => parseOrso(`${orso}# columns:\n# - a${' '.repeat(1_000_000)}b\n0.1 1\n`), /the columns list has no Qz column/],
      // balanced() re-counted the joined text after every line.
      ['200 000 lines of [', () => parseOrso(`${orso}# columns: [\n${'# [\n'.repeat(200_000)}0.1 1\n`), /cannot read columns/],
      // 100 000 data sets: the error lists 20, not all.
      ['100 000 data sets', () => parseOrso(`${orso}${'# data_set: x\n0.1 1\n'.repeat(100_000)}`, { dataset: 'none' }), /the file has 100000: 0 \("x"\), 1 \("x"\), .*, 19 \("x"\), … \(expected/],
    ];
    for (const [what, parse, message] of cases) {
      const result = outcome(parse, FORMAT);
      expect(result.ok, what).toBe(false);
      if (!result.ok) expect(result.error.message, what).toMatch(message);
    }
  });
});
