import { closeSync, ftruncateSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeNpy, encodeNpy, encodeNpyHeader, npyHeaderFromDict, parseNpyHeader } from '../../src/io/npy.js';
import { readNpy, readNpyHeader, writeNpy } from '../../src/io/npy-file.node.js';
import { runPython } from '../helpers/python.js';
import { BufferGrowth, bytesOf, corrupt, corruptionArb, outcome, outcomeAsync, runCounted, runCountedAsync, scratch, SEED, unchanged } from './fuzz-helpers.js';

/**
 * Fuzzing the `.npy` readers (decodeNpy, parseNpyHeader, readNpy, readNpyHeader): every input gives the
 * right array or NPY_FORMAT (IO_ERROR for a path that cannot be read), never another exception, a hang or
 * an allocation of a declared size the file does not hold.
 */

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59];
const MiB = 2 ** 20;

/** A header dict's parts, each either what numpy writes (valid) or a way to get it wrong. */
interface HeaderSpec {
  version: number;
  minor: number;
  quote: "'" | '"';
  descr: { text: string; dtype: 'f4' | 'f8' | null };
  fortran: { text: string; valid: boolean };
  shape: { text: string; dims: number[] | null };
  /** Key order (a permutation of 0 1 2), a key dropped, an extra key. */
  order: number[];
  drop: number | null;
  extra: boolean;
  trailingComma: boolean;
  spaces: string;
  /** Header length field off by this much (0: right). */
  lengthDelta: number;
  /** Body bytes missing (< 0) or extra (> 0). */
  bodyDelta: number;
  bodySeed: number;
}

const dimsArb = fc.array(fc.nat(5), { maxLength: 4 });
const shapeText = (dims: number[], sp: string) => (dims.length === 1 ? `(${dims[0]},${sp})` : `(${dims.join(`,${sp}`)})`);

const specArb: fc.Arbitrary<HeaderSpec> = fc
  .record({
  version: fc.oneof({ weight: 8, arbitrary: fc.constantFrom(1, 2, 3) }, fc.constantFrom(0, 4, 255)),
  minor: fc.oneof({ weight: 12, arbitrary: fc.constant(0) }, fc.constant(1)),
  quote: fc.constantFrom("'" as const, '"' as const),
  descr: fc.oneof(
    { weight: 6, arbitrary: fc.constantFrom({ text: '<f4', dtype: 'f4' as const }, { text: '<f8', dtype: 'f8' as const }) },
    fc.constantFrom('>f4', '>f8', '<i4', '<i8', '|u1', '<f2', '|O', '<c8', '<c16', '|b1', '<U3', 'f4', '=f8', '<f16', '').map((text) => ({ text, dtype: null })),
  ),
  fortran: fc.oneof(
    { weight: 6, arbitrary: fc.constant({ text: 'False', valid: true }) },
    fc.constantFrom('True', 'false', '0', 'None', "'False'", 'Falsey').map((text) => ({ text, valid: false })),
  ),
  shape: fc.oneof(
    { weight: 6, arbitrary: fc.tuple(dimsArb, fc.constantFrom('', ' ')).map(([dims, sp]) => ({ text: shapeText(dims, sp), dims })) },
    fc.constantFrom('[2, 3]', '(-1,)', '(2.5,)', '(2', '(3)', "('a',)", '(1e3,)', '(02,)', '(2,,)', '(,)', '2', '(99999999999999999999,)').map((text) => ({ text, dims: null })),
  ),
  order: fc.shuffledSubarray([0, 1, 2], { minLength: 3, maxLength: 3 }),
  drop: fc.oneof({ weight: 10, arbitrary: fc.constant(null) }, fc.constantFrom(0, 1, 2)),
  extra: fc.oneof({ weight: 10, arbitrary: fc.constant(false) }, fc.constant(true)),
  trailingComma: fc.boolean(),
  spaces: fc.constantFrom(' ', '', '  ', '\n'),
  lengthDelta: fc.oneof({ weight: 10, arbitrary: fc.constant(0) }, fc.integer({ min: -40, max: 40 })),
  bodyDelta: fc.oneof({ weight: 8, arbitrary: fc.constant(0) }, fc.integer({ min: -9, max: 9 })),
  bodySeed: fc.nat(),
  })
  // One size fault at a time: a header cut by k bytes and a body k bytes short would add up to a valid file.
  .map((s) => (s.lengthDelta !== 0 ? { ...s, bodyDelta: 0 } : s));

/** Whether numpy's rules (as far as reflectkit reads them) make the spec a valid float file (`bodyDelta` as built). */
function specValid(s: HeaderSpec, bodyDelta: number): boolean {
  return (
    [1, 2, 3].includes(s.version) && s.minor === 0 && s.descr.dtype !== null && s.fortran.valid && s.shape.dims !== null &&
    s.drop === null && !s.extra && s.lengthDelta === 0 && bodyDelta === 0
  );
}

/** Bytes of a file built from a spec, the body it carries, and how far that body is from the shape's size. */
function buildFile(s: HeaderSpec): { file: Uint8Array; body: Uint8Array; bodyDelta: number } {
  const q = s.quote;
  const entries = [
    `${q}descr${q}:${s.spaces}${q}${s.descr.text}${q}`,
    `${q}fortran_order${q}:${s.spaces}${s.fortran.text}`,
    `${q}shape${q}:${s.spaces}${s.shape.text}`,
  ];
  const kept = s.order.filter((k) => k !== s.drop).map((k) => entries[k]!);
  if (s.extra) kept.push(`${q}extra${q}: 1`);
  const dict = `{${kept.join(`,${s.spaces}`)}${s.trailingComma ? ', ' : ''}}`;
  const preamble = s.version === 1 || s.version === 0 ? 10 : 12;
  const padded = `${dict}${' '.repeat((64 - ((preamble + dict.length + 1) % 64)) % 64)}\n`;
  const size = s.shape.dims?.reduce((a, b) => a * b, 1) ?? 3;
  const item = s.descr.dtype === 'f8' ? 8 : 4;
  const bodyLength = Math.max(0, size * item + s.bodyDelta);
  let x = s.bodySeed | 1;
  const body = Uint8Array.from({ length: bodyLength }, () => ((x = Math.imul(x, 1103515245) + 12345) >>> 16) & 0xff);
  const file = new Uint8Array(preamble + padded.length + bodyLength);
  file.set(MAGIC);
  file[6] = s.version;
  file[7] = s.minor;
  const length = Math.max(0, padded.length + s.lengthDelta);
  if (preamble === 10) new DataView(file.buffer).setUint16(8, Math.min(length, 0xffff), true);
  else new DataView(file.buffer).setUint32(8, length, true);
  for (let i = 0; i < padded.length; i++) file[preamble + i] = padded.charCodeAt(i);
  file.set(body, preamble + padded.length);
  return { file, body, bodyDelta: bodyLength - size * item };
}

/** Numpy's own files and ours: float32 and float64, NaN/±Inf/−0/subnormals, versions 1.0 and 2.0, 0-d and empty. */
function realFiles(): Array<{ name: string; bytes: Uint8Array }> {
  const code = [
    'import io, json, sys, numpy as np',
    'from numpy.lib import format as f',
    'def save(a, version=None):',
    '    b = io.BytesIO()',
    '    f.write_array(b, a, version=version) if version else np.save(b, a)',
    '    return b.getvalue().hex()',
    'special = np.array([np.nan, np.inf, -np.inf, -0.0, 5e-324, 1.5, -2.25], dtype="<f8")',
    'out = {',
    '  "numpy-f4-3d": save((np.arange(30, dtype="<f4").reshape(3, 2, 5) - 7) / 3),',
    '  "numpy-f8-special": save(special),',
    '  "numpy-f4-special": save(special.astype("<f4")),',
    '  "numpy-v2": save(np.linspace(0, 1, 6, dtype="<f8").reshape(2, 3), (2, 0)),',
    '  "numpy-scalar": save(np.float32(3.5)),',
    '  "numpy-empty": save(np.zeros((0, 2, 4), dtype="<f4")),',
    '}',
    'sys.stdout.write(json.dumps(out))',
  ].join('\n');
  const numpy = JSON.parse(runPython(code)) as Record<string, string>;
  const files = Object.entries(numpy).map(([name, hex]) => ({ name, bytes: Uint8Array.from(Buffer.from(hex, 'hex')) }));
  files.push({ name: 'ours-npyjs', bytes: encodeNpy(Float32Array.from({ length: 24 }, (_, i) => Math.sin(i)), [2, 3, 4]) });
  const header = encodeNpyHeader('f8', [5]);
  const ours = new Uint8Array(header.length + 40);
  ours.set(header);
  ours.set(new Uint8Array(Float64Array.from([0.1, -0, NaN, Infinity, 1e300]).buffer), header.length);
  files.push({ name: 'ours-header', bytes: ours });
  return files;
}

/** Where the data starts by the preamble, computed here independently of the reader. */
function dataStart(bytes: Uint8Array): number {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return bytes[6] === 1 ? 10 + view.getUint16(8, true) : 12 + view.getUint32(8, true);
}

/** A decoded array is the file's own bytes after the header, in a shape that holds exactly them. */
function expectConsistent(bytes: Uint8Array, value: { data: Float32Array | Float64Array; shape: number[]; dtype: string }): void {
  const start = dataStart(bytes);
  expect(bytesOf(value.data).equals(Buffer.from(bytes.subarray(start)))).toBe(true);
  expect(value.shape.reduce((a, b) => a * b, 1)).toBe(value.data.length);
  expect(value.data.BYTES_PER_ELEMENT).toBe(value.dtype === 'f8' ? 8 : 4);
}

describe('fuzzing .npy readers', () => {
  it('round-trips random float arrays (NaN, ±Inf, −0, subnormals) bit for bit, in memory', () => {
    const arb = fc.tuple(fc.boolean(), fc.array(fc.integer({ min: 0, max: 4 }), { maxLength: 4 }), fc.array(fc.double(), { minLength: 256, maxLength: 256 }));
    runCounted('npy round trip (encodeNpy → decodeNpy)', arb, 2000, ([f8, dims, doubles]) => {
      const size = dims.reduce((a, b) => a * b, 1);
      const data = f8 ? Float64Array.from(doubles.slice(0, size)) : Float32Array.from(doubles.slice(0, size));
      expect(data.length).toBe(size); // at most 4⁴ = 256 elements
      const back = decodeNpy(encodeNpy(data, dims));
      expect(back.shape).toEqual(dims);
      expect(back.dtype).toBe(f8 ? 'f8' : 'f4');
      expect(bytesOf(back.data).equals(bytesOf(data))).toBe(true);
    });
  });

  it('decodes exactly the well-formed headers (to the body they carry) and refuses every other one with NPY_FORMAT', () => {
    let decoded = 0;
    runCounted('npy structured headers', specArb, 5000, (spec) => {
      const { file, body, bodyDelta } = buildFile(spec);
      const result = outcome(() => decodeNpy(file), ['NPY_FORMAT']);
      expect(result.ok, JSON.stringify(spec)).toBe(specValid(spec, bodyDelta));
      if (result.ok) {
        decoded++;
        expect(result.value.shape).toEqual(spec.shape.dims);
        expect(result.value.dtype).toBe(spec.descr.dtype);
        expect(bytesOf(result.value.data).equals(Buffer.from(body))).toBe(true);
        expect(result.value.data.byteOffset % result.value.data.BYTES_PER_ELEMENT).toBe(0);
      } else {
        expect(result.error.expected, result.error.message).toBeTruthy();
      }
    });
    expect(decoded).toBeGreaterThan(100); // the arbitrary reaches valid files too, not only refusals
  });

  it('agrees with numpy: what it decodes numpy loads to the same, and every numpy-style float file numpy loads, it decodes', () => {
    const dir = scratch('npy-numpy');
    const specs = fc.sample(specArb, { seed: SEED, numRuns: 600 });
    const ours = specs.map((spec, i) => {
      const { file, bodyDelta } = buildFile(spec);
      writeFileSync(join(dir, `${i}.npy`), file);
      return { bodyDelta, result: outcome(() => decodeNpy(file), ['NPY_FORMAT']) };
    });
    const code = [
      'import json, sys, numpy as np',
      'out = []',
      'for i in range(int(sys.argv[2])):',
      '    try:',
      '        a = np.load(f"{sys.argv[1]}/{i}.npy", allow_pickle=False)',
      '        out.append([a.dtype.str, list(a.shape), bool(np.isfortran(a)), np.ascontiguousarray(a).tobytes().hex()])',
      '    except Exception as e:',
      '        out.append(None)',
      'print(json.dumps(out))',
    ].join('\n');
    const numpy = JSON.parse(runPython(code, [dir, String(specs.length)])) as Array<[string, number[], boolean, string] | null>;
    let both = 0;
    specs.forEach((spec, i) => {
      const { result: mine, bodyDelta } = ours[i]!;
      const theirs = numpy[i]!;
      if (mine.ok) {
        both++;
        expect(theirs, `case ${i}: we decode what numpy refuses ${JSON.stringify(spec)}`).not.toBeNull();
        expect([theirs![0], theirs![1]]).toEqual([`<${mine.value.dtype}`, mine.value.shape]);
        expect(bytesOf(mine.value.data).toString('hex')).toBe(theirs![3]);
      } else if (theirs !== null && ['<f4', '<f8'].includes(spec.descr.text) && spec.fortran.text === 'False' && spec.lengthDelta === 0 && bodyDelta === 0) {
        // (numpy reads a file with trailing bytes; reflectkit refuses it as a sign of damage)
        throw new Error(`case ${i}: numpy loads ${JSON.stringify(spec)} but we refuse it: ${mine.error.message}`);
      }
    });
    console.log(`[fuzz] npy numpy differential: ${specs.length} files, ${both} decoded by both`);
    expect(both).toBeGreaterThan(50);
  });

  it('refuses huge declared shapes with short bodies without allocating them (memory and files)', async () => {
    const growth = new BufferGrowth();
    const hugeArb = fc.tuple(
      fc.array(fc.integer({ min: 1, max: 2 ** 40 }), { minLength: 1, maxLength: 4 }),
      fc.constantFrom('f4' as const, 'f8' as const),
      fc.nat(256),
    ).filter(([dims]) => dims.reduce((a, b) => a * b, 1) >= 2 ** 30);
    runCounted('npy huge declared shapes (in memory)', hugeArb, 2000, ([dims, dtype, body]) => {
      const header = encodeNpyHeader(dtype, dims);
      const file = new Uint8Array(header.length + body);
      file.set(header);
      const result = growth.measure(() => outcome(() => decodeNpy(file), ['NPY_FORMAT']));
      expect(result.ok).toBe(false);
      expect(outcome(() => parseNpyHeader(file, file.length), ['NPY_FORMAT']).ok).toBe(false);
    });
    // The issue's example: (10¹², 2, 308) float32 with a 64-byte body, in memory and as a file.
    const dir = scratch('npy-huge');
    const header = encodeNpyHeader('f4', [1e12, 2, 308]);
    const file = new Uint8Array(header.length + 64);
    file.set(header);
    const path = join(dir, 'huge.npy');
    writeFileSync(path, file);
    expect(growth.measure(() => outcome(() => decodeNpy(file), ['NPY_FORMAT'])).ok).toBe(false);
    const fromFile = await growth.measureAsync(() => outcomeAsync(() => readNpy(path), ['NPY_FORMAT']));
    expect(fromFile.ok ? '' : fromFile.error.message).toMatch(/truncated: 64 data bytes for shape \(1000000000000, 2, 308\)/);
    // A sparse file one element short of (10⁶, 2, 308) float32 (2.46 GB declared): refused from its size alone.
    const sparse = join(dir, 'sparse.npy');
    const small = encodeNpyHeader('f4', [1e6, 2, 308]);
    const fd = openSync(sparse, 'w');
    writeSync(fd, small);
    ftruncateSync(fd, small.length + 1e6 * 2 * 308 * 4 - 4);
    closeSync(fd);
    const short = await growth.measureAsync(() => outcomeAsync(() => readNpy(sparse), ['NPY_FORMAT']));
    expect(short.ok ? '' : short.error.message).toMatch(/truncated/);
    rmSync(sparse);
    console.log(`[fuzz] npy huge shapes: largest arrayBuffers growth ${(growth.max / MiB).toFixed(2)} MiB`);
    expect(growth.max).toBeLessThan(16 * MiB); // declared sizes are ≥ 4 GiB
  });

  it('corrupted real files (numpy\'s and ours), in memory: the right array or NPY_FORMAT; a data-only change always decodes', () => {
    const files = realFiles();
    // Every truncation of every file.
    let truncations = 0;
    for (const { name, bytes } of files) {
      for (let n = 0; n < bytes.length; n++) {
        truncations++;
        const result = outcome(() => decodeNpy(bytes.subarray(0, n)), ['NPY_FORMAT']);
        expect(result.ok, `${name} cut to ${n} bytes`).toBe(false);
      }
    }
    console.log(`[fuzz] npy truncations of real files: ${truncations} cases`);
    const arb = fc.nat(files.length - 1).chain((k) => fc.tuple(fc.constant(k), corruptionArb(files[k]!.bytes.length)));
    runCounted('npy corruptions of real files', arb, 6000, ([k, c]) => {
      const { name, bytes } = files[k]!;
      const original = decodeNpy(bytes);
      const broken = corrupt(bytes, c);
      const result = outcome(() => decodeNpy(broken), ['NPY_FORMAT']);
      const start = dataStart(bytes);
      const dataOnly = (c.kind === 'flip' && c.bits.every((b) => b >> 3 >= start)) || (c.kind === 'overwrite' && c.at >= start);
      if (unchanged(bytes, broken) || dataOnly) {
        expect(result.ok, `${name} ${JSON.stringify(c)}`).toBe(true);
      }
      if (!result.ok) return;
      expectConsistent(broken, result.value);
      if (dataOnly) {
        expect(result.value.shape).toEqual(original.shape);
        expect(result.value.dtype).toBe(original.dtype);
      }
    });
  });

  it('readNpy / readNpyHeader on corrupted files on disk: the right array, NPY_FORMAT, or IO_ERROR for a folder', async () => {
    const dir = scratch('npy-files');
    const path = join(dir, 'good.npy');
    await writeNpy(path, Float32Array.from({ length: 2 * 2 * 8 }, (_, i) => i - 3.5), [2, 2, 8]);
    const bytes = Uint8Array.from(readFileSync(path));
    expect(decodeNpy(bytes).shape).toEqual([2, 2, 8]);
    let k = 0;
    await runCountedAsync('npy corrupted files (readNpy, readNpyHeader)', corruptionArb(bytes.length), 400, async (c) => {
      const file = join(dir, `case-${k++}.npy`);
      const broken = corrupt(bytes, c);
      writeFileSync(file, broken);
      const array = await outcomeAsync(() => readNpy(file), ['NPY_FORMAT']);
      const header = await outcomeAsync(() => readNpyHeader(file), ['NPY_FORMAT']);
      expect(header.ok).toBe(array.ok);
      if (array.ok) {
        expectConsistent(broken, array.value);
        // The same answer as the in-memory reader.
        expect(bytesOf(decodeNpy(broken).data).equals(bytesOf(array.value.data))).toBe(true);
      }
    });
    mkdirSync(join(dir, 'folder.npy'));
    for (const read of [(p: string): Promise<unknown> => readNpy(p), (p: string): Promise<unknown> => readNpyHeader(p)]) {
      const result = await outcomeAsync(() => read(join(dir, 'folder.npy')), ['IO_ERROR']);
      expect(result.ok).toBe(false);
    }
  });

  it('regressions: double-quoted keys and a header length that is not a multiple of the item size decode as numpy does', () => {
    // Both once escaped as a plain Error / RangeError from the npyjs parser that decodeNpy used.
    const values = Float64Array.from([1.5, -2, NaN]);
    const double = npyHeaderFromDict('{"descr": "<f8", "fortran_order": False, "shape": (3,), }');
    const withDouble = new Uint8Array(double.length + 24);
    withDouble.set(double);
    withDouble.set(new Uint8Array(values.buffer), double.length);
    expect(bytesOf(decodeNpy(withDouble).data).equals(bytesOf(values))).toBe(true);

    const dict = "{'descr': '<f8', 'fortran_order': False, 'shape': (3,), } \n"; // 10 + 61 bytes: data at 71
    const odd = new Uint8Array(10 + dict.length + 24);
    odd.set([...MAGIC, 1, 0, dict.length, 0]);
    for (let i = 0; i < dict.length; i++) odd[10 + i] = dict.charCodeAt(i);
    odd.set(new Uint8Array(values.buffer), 10 + dict.length);
    expect((10 + dict.length) % 8).not.toBe(0);
    expect(bytesOf(decodeNpy(odd).data).equals(bytesOf(values))).toBe(true);
    const numpy = runPython('import io, sys, numpy as np; print(np.load(io.BytesIO(bytes.fromhex(sys.argv[1]))).tolist())', [Buffer.from(odd).toString('hex')]);
    expect(numpy.trim()).toBe('[1.5, -2.0, nan]');
    // A Node Buffer inside pooled memory (Buffer.from of a small string): a Buffer's slice shares memory, so the
    // copy must be Uint8Array's, or the values come from the start of the pool.
    const pooled = Buffer.from(Buffer.from(odd).toString('hex'), 'hex');
    expect(pooled.byteOffset !== 0 || pooled.byteLength !== pooled.buffer.byteLength).toBe(true);
    expect(bytesOf(decodeNpy(pooled).data).equals(bytesOf(values))).toBe(true);
  });

  it('regressions: shapes numpy refuses, `(3)` (an int, not a tuple) and `(02,)` (leading zero), are NPY_FORMAT', () => {
    for (const shape of ['(3)', '(02,)', '(1, 02)']) {
      const header = npyHeaderFromDict(`{'descr': '<f4', 'fortran_order': False, 'shape': ${shape}, }`);
      const file = new Uint8Array(header.length + 12);
      file.set(header);
      const result = outcome(() => decodeNpy(file), ['NPY_FORMAT']);
      expect(result.ok ? '' : result.error.message, shape).toMatch(/malformed header/);
    }
    const numpy = runPython(
      ['import io, sys, numpy as np', 'for s in ("(3)", "(02,)"):',
        '    h = "{\'descr\': \'<f4\', \'fortran_order\': False, \'shape\': %s, }" % s; h += " " * (117 - len(h)) + "\\n"',
        '    b = b"\\x93NUMPY\\x01\\x00" + len(h).to_bytes(2, "little") + h.encode() + bytes(12)',
        '    try: np.load(io.BytesIO(b)); print("loaded")', '    except Exception: print("refused")'].join('\n'),
    );
    expect(numpy.trim().split('\n')).toEqual(['refused', 'refused']);
  });
});
