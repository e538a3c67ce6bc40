import { describe, expect, it } from 'vitest';
import { ReflectkitError } from '../../src/errors.js';
import { decodeNpy, encodeNpy, encodeNpyHeader, parseNpyHeader } from '../../src/io/npy.js';
import { runPython } from '../helpers/python.js';

/** Bytes numpy writes for `expression` (np.save to a BytesIO). */
function numpyBytes(expression: string): Uint8Array {
  const code = ['import io, sys, numpy as np', 'b = io.BytesIO()', `np.save(b, ${expression})`, 'sys.stdout.write(b.getvalue().hex())'].join('\n');
  return Uint8Array.from(Buffer.from(runPython(code), 'hex'));
}

function formatError(fn: () => unknown): ReflectkitError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ReflectkitError);
    expect((error as ReflectkitError).code).toBe('NPY_FORMAT');
    return error as ReflectkitError;
  }
  throw new Error('expected NPY_FORMAT');
}

describe('decodeNpy reads what numpy writes', () => {
  it('float32 (2, 2, 3) and float64 (5,)', () => {
    const a = decodeNpy(numpyBytes('np.arange(12, dtype="<f4").reshape(2, 2, 3) / 4'));
    expect(a.dtype).toBe('f4');
    expect(a.shape).toEqual([2, 2, 3]);
    expect(Array.from(a.data)).toEqual(Array.from({ length: 12 }, (_, i) => i / 4));
    const b = decodeNpy(numpyBytes('np.array([1e-300, -2.5, np.pi, 0, 7], dtype="<f8")'));
    expect(b.shape).toEqual([5]);
    expect(Array.from(b.data)).toEqual([1e-300, -2.5, Math.PI, 0, 7]);
  });
  it('a 0-d scalar and an empty array', () => {
    expect(decodeNpy(numpyBytes('np.float64(3.5)'))).toMatchObject({ shape: [], dtype: 'f8' });
    expect(decodeNpy(numpyBytes('np.zeros((0, 2, 308), dtype=np.float32)')).shape).toEqual([0, 2, 308]);
  });
  it('from an unaligned view of a larger buffer', () => {
    const bytes = numpyBytes('np.array([1.5, 2.5], dtype="<f8")');
    const padded = new Uint8Array(bytes.length + 3);
    padded.set(bytes, 3);
    expect(Array.from(decodeNpy(padded.subarray(3)).data)).toEqual([1.5, 2.5]);
  });
});

describe('decodeNpy rejects what it does not read, with a clear error and never a crash', () => {
  const cases: Array<[string, string, RegExp]> = [
    ['big-endian float32', 'np.zeros(3, dtype=">f4")', /big-endian/],
    ['Fortran order', 'np.asfortranarray(np.zeros((2, 3), dtype="<f4"))', /Fortran/],
    ['an object array (a pickle)', 'np.array([{"a": 1}], dtype=object)', /unsupported dtype \|O/],
    ['int64', 'np.arange(3)', /unsupported dtype <i8/],
    ['a structured dtype', 'np.zeros(2, dtype=[("x", "<f4"), ("y", "<f4")])', /malformed header/],
    ['complex', 'np.zeros(2, dtype=np.complex128)', /unsupported dtype <c16/],
  ];
  for (const [what, expression, message] of cases) {
    it(what, () => {
      expect(formatError(() => decodeNpy(numpyBytes(expression))).message).toMatch(message);
    });
  }
  it('a truncated file and a file with trailing bytes', () => {
    const bytes = numpyBytes('np.zeros((4, 4), dtype="<f4")');
    expect(formatError(() => decodeNpy(bytes.subarray(0, bytes.length - 5))).message).toMatch(/truncated/);
    expect(formatError(() => decodeNpy(bytes.subarray(0, 40))).message).toMatch(/header/);
    const longer = new Uint8Array(bytes.length + 4);
    longer.set(bytes);
    expect(formatError(() => decodeNpy(longer)).message).toMatch(/longer than its header says/);
  });
  it('a file that is not .npy, a bad version, a huge declared shape', () => {
    expect(formatError(() => decodeNpy(new TextEncoder().encode('PK\u0003\u0004 not numpy at all'))).message).toMatch(/magic/);
    const bytes = numpyBytes('np.zeros(2, dtype="<f4")');
    const v9 = bytes.slice();
    v9[6] = 9;
    expect(formatError(() => decodeNpy(v9)).message).toMatch(/version 9\.0/);
    const header = encodeNpyHeader('f4', [1e9, 1e9, 1e9]);
    expect(formatError(() => decodeNpy(header)).message).toMatch(/too large|truncated/);
  });
});

describe('encodeNpy / encodeNpyHeader write what numpy reads', () => {
  it('np.load reads both, with the right shape, dtype and values', () => {
    const data = Float32Array.from({ length: 24 }, (_, i) => i * 0.5 - 3);
    const viaNpyjs = Buffer.from(encodeNpy(data, [2, 3, 4])).toString('hex');
    const header = encodeNpyHeader('f8', [3]);
    expect(header.length % 64).toBe(0);
    const ours = Buffer.concat([Buffer.from(header), Buffer.from(Float64Array.from([1, -2, 3.25]).buffer)]).toString('hex');
    const code = [
      'import io, sys, json, numpy as np',
      'a = np.load(io.BytesIO(bytes.fromhex(sys.argv[1]))); b = np.load(io.BytesIO(bytes.fromhex(sys.argv[2])))',
      'print(json.dumps([list(a.shape), str(a.dtype), a.ravel().tolist(), list(b.shape), str(b.dtype), b.tolist()]))',
    ].join('\n');
    const [shapeA, dtypeA, valuesA, shapeB, dtypeB, valuesB] = JSON.parse(runPython(code, [viaNpyjs, ours])) as unknown[];
    expect([shapeA, dtypeA]).toEqual([[2, 3, 4], 'float32']);
    expect(valuesA).toEqual(Array.from(data));
    expect([shapeB, dtypeB, valuesB]).toEqual([[3], 'float64', [1, -2, 3.25]]);
  });
  it('round-trips through decodeNpy', () => {
    const data = Float64Array.from([0.1, 0.2, 0.3, 0.4]);
    const back = decodeNpy(encodeNpy(data, [2, 2]));
    expect(back.shape).toEqual([2, 2]);
    expect(Array.from(back.data)).toEqual(Array.from(data));
  });
  it('refuses a shape that does not hold the data', () => {
    expect(() => encodeNpy(new Float32Array(6), [4, 2])).toThrowError(expect.objectContaining({ code: 'BAD_SHAPE' }));
  });
  it('parses numpy headers for versions 1.0 and 2.0', () => {
    const v1 = numpyBytes('np.zeros((3, 2), dtype="<f4")');
    expect(parseNpyHeader(v1)).toMatchObject({ version: [1, 0], shape: [3, 2], dtype: 'f4', dataOffset: 128 });
    const code = [
      'import io, sys, numpy as np',
      'from numpy.lib import format as f',
      'b = io.BytesIO(); f.write_array(b, np.ones(3, dtype="<f8"), version=(2, 0)); sys.stdout.write(b.getvalue().hex())',
    ].join('\n');
    const v2 = Uint8Array.from(Buffer.from(runPython(code), 'hex'));
    expect(parseNpyHeader(v2, v2.length)).toMatchObject({ version: [2, 0], shape: [3] });
    expect(Array.from(decodeNpy(v2).data)).toEqual([1, 1, 1]);
  });
});
