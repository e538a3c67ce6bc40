import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { GAUSSIAN_FWHM_PER_SIGMA, isOrsoText, parseColumnText, parseMeasured, parseOrso } from '../../src/io/measured.js';
import { thrown } from '../helpers/errors.js';

const REAL = join(import.meta.dirname, '..', 'fixtures', 'REFL_212592_reduced_noQb.txt');

/** Expects `fn` to throw MEASURED_FORMAT whose message matches `pattern`; returns the error. */
function formatError(fn: () => unknown, pattern: RegExp) {
  const error = thrown(fn);
  expect(error.code).toBe('MEASURED_FORMAT');
  expect(error.message).toMatch(pattern);
  return error;
}

describe('parseColumnText on the real REFL_212592 file', () => {
  const text = readFileSync(REAL, 'utf8');
  const curve = parseColumnText(text);

  it('reads all 416 rows, header skipped, first and last Q exact', () => {
    expect(curve.q.length).toBe(416);
    expect(curve.r.length).toBe(416);
    expect(curve.dr!.length).toBe(416);
    expect(curve.dqSigma!.length).toBe(416);
    expect(curve.q[0]).toBe(0.0083469176538132);
    expect(curve.r[0]).toBe(0.9350638820680347);
    expect(curve.dr![0]).toBe(0.0277800865883856);
    expect(curve.q[415]).toBe(0.2689586889716802);
    expect(curve.r[415]).toBe(0.0000014617783682);
    expect(curve.label).toBe('');
  });

  it('reads dQ as FWHM from the header and converts it to 1 σ with 2·√(2·ln 2)', () => {
    expect(GAUSSIAN_FWHM_PER_SIGMA).toBe(2 * Math.sqrt(2 * Math.log(2)));
    expect(curve.dqConvention).toBe('fwhm');
    expect(curve.dqSigma![0]).toBe(0.0002323386967239 / 2.3548200450309493);
    expect(curve.dqSigma![415]).toBe(0.0073969143099397 / 2.3548200450309493);
    // an explicit option wins over the header
    const sigma = parseColumnText(text, { dqIs: 'sigma' });
    expect(sigma.dqConvention).toBe('sigma');
    expect(sigma.dqSigma![0]).toBe(0.0002323386967239);
  });

  it('is sorted by Q, keeps the 66 overlapping Q of the stitched angles in file order, and keeps R ≤ 0', () => {
    let repeats = 0;
    for (let i = 1; i < curve.q.length; i++) {
      expect(curve.q[i]!).toBeGreaterThanOrEqual(curve.q[i - 1]!);
      if (curve.q[i] === curve.q[i - 1]) repeats++;
    }
    expect(repeats).toBe(66);
    // lines 116 and 117 share Q; file order kept
    const at = curve.q.indexOf(0.0228026268861073);
    expect(Array.from(curve.r.subarray(at, at + 2))).toEqual([0.0155034139118791, 0.0170144473095651]);
    expect(Array.from(curve.r).filter((r) => r <= 0)).toEqual([-0.0000001300663553, -0.0000003354068909]);
  });

  it("rejects the repeated Q with duplicateQ: 'error', naming both lines", () => {
    const error = formatError(() => parseColumnText(text, { duplicateQ: 'error', source: 'REFL.txt' }), /line 117: duplicate Q 0\.0228026268861073 \(also on line 116\)/);
    expect(error.path).toBe('REFL.txt');
  });
});

describe('parseColumnText', () => {
  it('reads 2 columns (no dR, no dQ), comma separated, with a header line without #', () => {
    const c = parseColumnText('Q,R\n0.02, 0.5\n0.01 ,1.0\n\n0.03,0.25\n', { label: 'two' });
    expect(Array.from(c.q)).toEqual([0.01, 0.02, 0.03]);
    expect(Array.from(c.r)).toEqual([1.0, 0.5, 0.25]);
    expect(c.dr).toBeNull();
    expect(c.dqSigma).toBeNull();
    expect(c.dqConvention).toBeNull();
    expect(c.label).toBe('two');
  });

  it('reads 3 columns (dR, no dQ) with CRLF line ends, sorting the rows together', () => {
    const c = parseColumnText('# Q R dR\r\n0.03 0.25 0.01\r\n0.01 1 0.05\r\n0.02 0.5 0.02\r\n');
    expect(Array.from(c.q)).toEqual([0.01, 0.02, 0.03]);
    expect(Array.from(c.r)).toEqual([1, 0.5, 0.25]);
    expect(Array.from(c.dr!)).toEqual([0.05, 0.02, 0.01]);
    expect(c.dqSigma).toBeNull();
  });

  it('sorts stably: equal Q keep file order', () => {
    const c = parseColumnText('0.02 3\n0.01 1\n0.02 4\n0.01 2\n');
    expect(Array.from(c.q)).toEqual([0.01, 0.01, 0.02, 0.02]);
    expect(Array.from(c.r)).toEqual([1, 2, 3, 4]);
  });

  it('takes the dQ convention from the header: sigma, or FWHM by default when it says nothing', () => {
    const sigma = parseColumnText('# Q R dR dQ (1 sigma)\n0.01 1 0.1 0.0004\n');
    expect(sigma.dqConvention).toBe('sigma');
    expect(sigma.dqSigma![0]).toBe(0.0004);
    const silent = parseColumnText('# Q R dR dQ\n0.01 1 0.1 0.0004\n');
    expect(silent.dqConvention).toBe('fwhm');
    expect(silent.dqSigma![0]).toBe(0.0004 / GAUSSIAN_FWHM_PER_SIGMA);
    formatError(() => parseColumnText('# Q R dR dQ\n# dQ: FWHM or sigma?\n0.01 1 0.1 0.0004\n'), /line 2: the header says both FWHM and sigma/);
    expect(parseColumnText('# dQ: FWHM or sigma?\n0.01 1 0.1 0.0004\n', { dqIs: 'sigma' }).dqSigma![0]).toBe(0.0004);
  });

  it('reads an uncertainty column that is nan in every row as absent', () => {
    const c = parseColumnText('0.01 1 nan 0.001\n0.02 0.5 nan 0.002\n');
    expect(c.dr).toBeNull();
    expect(c.dqSigma![1]).toBe(0.002 / GAUSSIAN_FWHM_PER_SIGMA);
  });

  describe('rejects malformed text with MEASURED_FORMAT and the line number', () => {
    const good = '# Q R dR dQ\n0.01 1.0 0.1 0.001\n';
    it('no data rows', () => formatError(() => parseColumnText('# just a header\n\n# Q R dR dQ\n'), /no data rows/));
    it('a non-numeric value', () => formatError(() => parseColumnText(`${good}0.02 abc 0.1 0.001\n`), /line 3: "abc" in column 2 is not a number/));
    it('an empty field', () => formatError(() => parseColumnText(`${good}0.02,,0.1,0.001\n`), /line 3: empty field in column 2/));
    it('a non-finite R', () => formatError(() => parseColumnText(`${good}0.02 0.5 0.1 0.001\n0.03 inf 0.1 0.001\n`), /line 4: R is Infinity/));
    it('a non-finite Q', () => formatError(() => parseColumnText(`${good}nan 0.5 0.1 0.001\n`), /line 3: Q is NaN/));
    it('Q = 0', () => formatError(() => parseColumnText(`${good}0 0.5 0.1 0.001\n`), /line 3: Q = 0 is not positive/));
    it('Q < 0', () => formatError(() => parseColumnText(`0.01 1\n0.02 1\n-0.03 1\n`), /line 3: Q = -0.03 is not positive/));
    it('the R column missing', () => formatError(() => parseColumnText('# Q\n0.01\n0.02\n'), /line 2: .*R column is missing/));
    it('too many columns', () => formatError(() => parseColumnText('0.01 1 0.1 0.001 7\n'), /line 1: expected 2 to 4 numbers, got 5/));
    it('negative dR', () => formatError(() => parseColumnText(`${good}0.02 0.5 -0.1 0.001\n`), /line 3: negative dR -0.1/));
    it('negative dQ', () => formatError(() => parseColumnText(`${good}0.02 0.5 0.1 -0.001\n`), /line 3: negative dQ -0.001/));
    it('a dR that is nan in some rows only', () => formatError(() => parseColumnText(`${good}0.02 0.5 nan 0.001\n`), /line 3: dR is NaN/));
    it('inconsistent columns', () => {
      const error = formatError(() => parseColumnText(`${good}0.02 0.5 0.1 0.001\n\n0.03 0.4 0.1\n`), /line 5: expected 4 numbers, got 3/);
      expect(error.expected).toMatch(/as on line 2/);
      expect(error.received).toBe(3);
    });
    it('a non-numeric line after the data started', () => formatError(() => parseColumnText(`${good}Q R dR dQ\n`), /line 3: "Q" in column 1 is not a number/));
    it('duplicate Q when asked to', () =>
      formatError(() => parseColumnText('0.02 1\n0.01 1\n0.02 2\n', { duplicateQ: 'error' }), /line 3: duplicate Q 0.02 \(also on line 1\)/));
  });
});

const ORSO_TWO_SETS = `# # ORSO reflectivity data file | 1.1 standard | YAML encoding | https://www.reflectometry.org/
# # hand-written test file | 2025-01-01 | sample X | R(q_z)
# data_source:
#   owner: {name: A. Person, affiliation: null}
#   experiment:
#     title: "two spin states: up, down"
#     instrument: test
# reduction:
#   software: {name: by hand}
# data_set: spin_up
# columns:
# - {name: Qz, unit: 1/angstrom, physical_quantity: normal_wavevector_transfer}
# - {name: R, physical_quantity: reflectivity}
# - {error_of: R, error_type: uncertainty, value_is: sigma}
# - {error_of: Qz, error_type: resolution, value_is: sigma}
# # Qz (1/angstrom)          R                      sR                     sQz
3.0e-02                    1.0e-01                5.0e-03                6.0e-04
1.0e-02                    9.0e-01                1.0e-02                2.0e-04
2.0e-02                    5.0e-01                2.0e-02                4.0e-04

# data_set: spin_down
# data_source:
#   measurement:
#     instrument_settings: {polarization: mo}
# # Qz (1/angstrom)          R                      sR                     sQz
1.5e-02                    8.0e-01                1.0e-02                3.0e-04
2.5e-02                    4.0e-01                1.0e-02                5.0e-04
`;

describe('parseOrso', () => {
  it('reads the first data set by default, sQz as 1 σ', () => {
    const c = parseOrso(ORSO_TWO_SETS);
    expect(Array.from(c.q)).toEqual([0.01, 0.02, 0.03]);
    expect(Array.from(c.r)).toEqual([0.9, 0.5, 0.1]);
    expect(Array.from(c.dr!)).toEqual([0.01, 0.02, 0.005]);
    expect(Array.from(c.dqSigma!)).toEqual([0.0002, 0.0004, 0.0006]);
    expect(c.dqConvention).toBe('sigma');
    expect(c.label).toBe('spin_up');
  });

  it('chooses a data set by index or by name, and the second inherits the columns', () => {
    const byIndex = parseOrso(ORSO_TWO_SETS, { dataset: 1 });
    const byName = parseOrso(ORSO_TWO_SETS, { dataset: 'spin_down' });
    for (const c of [byIndex, byName]) {
      expect(Array.from(c.q)).toEqual([0.015, 0.025]);
      expect(Array.from(c.r)).toEqual([0.8, 0.4]);
      expect(Array.from(c.dqSigma!)).toEqual([0.0003, 0.0005]);
      expect(c.label).toBe('spin_down');
    }
    expect(parseOrso(ORSO_TWO_SETS, { dataset: 'spin_up', label: 'mine' }).label).toBe('mine');
  });

  it('reports an unknown data set with the list of those available', () => {
    const error = formatError(() => parseOrso(ORSO_TWO_SETS, { dataset: 'spin_left' }), /unknown ORSO data set "spin_left"; the file has 2: 0 \("spin_up"\), 1 \("spin_down"\)/);
    expect(error.received).toBe('spin_left');
    formatError(() => parseOrso(ORSO_TWO_SETS, { dataset: 2 }), /unknown ORSO data set 2; the file has 2/);
  });

  it('locates columns by name in block-style YAML, honours value_is: FWHM and converts 1/nm', () => {
    const text = `# # ORSO reflectivity data file | 1.0 standard | YAML encoding | https://www.reflectometry.org/
# data_source:
#   experiment: {title: t}
# columns:
#     - name: R
#       physical_quantity: reflectivity
#     - name: Qz
#       unit: 1/nm   # nanometres
#       physical_quantity: normal_wavevector_transfer
#     - error_of: Qz
#       error_type: resolution
#       value_is: FWHM
#     - error_of: R
#       error_type: uncertainty
#       value_is: sigma
#     - name: lambda
#       unit: angstrom
0.9 0.1 0.004 0.05 4.0
0.5 0.2 0.008 0.02 5.0
`;
    const c = parseOrso(text);
    expect(Array.from(c.q)).toEqual([0.1 * 0.1, 0.2 * 0.1]);
    expect(Array.from(c.r)).toEqual([0.9, 0.5]);
    expect(Array.from(c.dr!)).toEqual([0.05, 0.02]);
    expect(c.dqConvention).toBe('fwhm');
    expect(c.dqSigma![0]).toBeCloseTo((0.004 * 0.1) / GAUSSIAN_FWHM_PER_SIGMA, 18);
    expect(c.dqSigma![1]).toBeCloseTo((0.008 * 0.1) / GAUSSIAN_FWHM_PER_SIGMA, 18);
    expect(c.label).toBe('');
  });

  it('also honours error_type: FWHM, and reads columns without a columns list in the standard order', () => {
    const head = '# # ORSO reflectivity data file | 1.0 standard | YAML encoding | https://www.reflectometry.org/\n';
    const fwhm = parseOrso(`${head}# columns: [{name: Qz}, {name: R}, {error_of: R}, {error_of: Qz, error_type: FWHM}]\n0.01 1 0.1 0.0002\n`);
    expect(fwhm.dqSigma![0]).toBe(0.0002 / GAUSSIAN_FWHM_PER_SIGMA);
    const bare = parseOrso(`${head}0.02 0.5 0.05 0.0003\n0.01 1 0.1 0.0002\n`);
    expect(Array.from(bare.q)).toEqual([0.01, 0.02]);
    expect(Array.from(bare.dr!)).toEqual([0.1, 0.05]);
    expect(Array.from(bare.dqSigma!)).toEqual([0.0002, 0.0003]);
    expect(bare.dqConvention).toBe('sigma');
  });

  it('reads sR and sQz that are nan in every row (the standard\'s "unknown") as absent', () => {
    const c = parseOrso(ORSO_TWO_SETS.replace(/^(\d\S*\s+\S+)\s+\S+\s+\S+$/gm, '$1 nan nan'));
    expect(c.dr).toBeNull();
    expect(c.dqSigma).toBeNull();
    expect(c.dqConvention).toBeNull();
    expect(Array.from(c.r)).toEqual([0.9, 0.5, 0.1]);
  });

  describe('errors', () => {
    it('a text that is not ORSO', () => formatError(() => parseOrso('0.01 1 0.1 0.001\n'), /line 1: not an ORSO file/));
    it('a columns list without R', () =>
      formatError(
        () => parseOrso(ORSO_TWO_SETS.replace('# - {name: R, physical_quantity: reflectivity}', '# - {name: I, physical_quantity: intensity}')),
        /line 12: the columns list has no R column/,
      ));
    it('rows with too few columns for R', () =>
      formatError(() => parseOrso('# # ORSO reflectivity data file | 1.0 standard | YAML encoding | x\n0.01\n'), /line 2: the R column is missing/));
    it('a non-number in the data, by line', () => formatError(() => parseOrso(ORSO_TWO_SETS.replace('5.0e-01', '5.0e-01x')), /line 19: "5.0e-01x" is not a number/));
    it('inconsistent columns, by line', () =>
      formatError(() => parseOrso(ORSO_TWO_SETS.replace(/^(2\.5e-02\s+\S+\s+\S+)\s+\S+$/m, '$1'), { dataset: 1 }), /line 27: expected 4 numbers, got 3/));
    it('an unsupported Q unit', () => formatError(() => parseOrso(ORSO_TWO_SETS.replace('unit: 1/angstrom', 'unit: 1/m')), /line 12: unsupported Q unit "1\/m"/));
    it('Q ≤ 0 in the chosen data set, by line', () => formatError(() => parseOrso(ORSO_TWO_SETS.replace('1.5e-02', '-1.5e-02'), { dataset: 'spin_down' }), /line 26: Q = -0.015 is not positive/));
  });
});

describe('parseMeasured', () => {
  it('detects ORSO by its first line and otherwise reads column text', () => {
    expect(isOrsoText(ORSO_TWO_SETS)).toBe(true);
    expect(isOrsoText('# Q R dR dQ\n0.01 1 0.1 0.001\n')).toBe(false);
    expect(parseMeasured(ORSO_TWO_SETS, { dataset: 'spin_down' }).q.length).toBe(2);
    expect(parseMeasured('# Q R dR dQ [FWHM]\n0.01 1 0.1 0.001\n').dqSigma![0]).toBe(0.001 / GAUSSIAN_FWHM_PER_SIGMA);
  });

  it('follows an explicit format', () => {
    // forced to text, both data sets' rows read as one 4-column table; the header line on the
    // resolution column says sigma
    const asText = parseMeasured(ORSO_TWO_SETS, { format: 'text' });
    expect(Array.from(asText.q)).toEqual([0.01, 0.015, 0.02, 0.025, 0.03]);
    expect(asText.dqConvention).toBe('sigma');
    formatError(() => parseMeasured('0.01 1\n', { format: 'orso' }), /not an ORSO file/);
  });
});
