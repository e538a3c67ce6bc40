import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { decodePickledNpy, encodePickledStatsNpy } from '../../src/io/pickled-npy.js';
import type { PyreflectStats } from '../../src/preprocess/scaler.js';
import { thrown } from '../helpers/errors.js';
import { torchPython } from '../helpers/torch.js';

/** pyreflect's stats as test/helpers/torch_pth.py save-stats writes them (a 0 among them, written as 0.0). */
const STATS: PyreflectStats = { nr: { x: { min: 0.0081, max: 0.1975 }, y: { min: -7.5, max: 0 } }, sld: { x: { min: 0, max: 450.25 }, y: { min: -0.5, max: 6.36 } } };
/** Values a decimal round trip would lose: float32 minima as pyreflect computes them, subnormals, -0, extremes. */
const HARD: PyreflectStats = {
  nr: { x: { min: Math.fround(0.0081), max: 0.1 + 0.2 }, y: { min: -8, max: -Number.MIN_VALUE } },
  sld: { x: { min: -0, max: Number.MAX_VALUE }, y: { min: 5e-324, max: 1 / 3 } },
};

/**
 * In numpy, warnings as errors: np.load(path, allow_pickle=True), as pyreflect's load_normalization_stat does,
 * then the array's dtype and shape and the dict's items in order, each float as its 8 big-endian bytes with its
 * Python type; and np.save of that dict to a second path, for our reader.
 */
const NUMPY_LOAD = `
import json, struct, sys, warnings
warnings.simplefilter("error")
import numpy as np
a = np.load(sys.argv[1], allow_pickle=True)
d = a.item()
def items(v):
    if isinstance(v, dict):
        return [type(v).__name__, [[k, items(x)] for k, x in v.items()]]
    return [type(v).__name__, struct.pack(">d", v).hex()]
np.save(sys.argv[2], d, allow_pickle=True)
print(json.dumps({"dtype": a.dtype.str, "shape": list(a.shape), "item": items(d)}))
`;

type Items = [string, string | Array<[string, Items]>];

/** The same layout from JS values: what numpy should report for `stats`. */
function expectedItems(value: unknown): Items {
  if (typeof value === 'number') {
    const bytes = new Uint8Array(8);
    new DataView(bytes.buffer).setFloat64(0, value, false);
    return ['float', Buffer.from(bytes).toString('hex')];
  }
  return ['dict', Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, expectedItems(v)])];
}

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'reflectkit-pickled-npy-'));
});

describe('encodePickledStatsNpy', () => {
  it("writes pyreflect's normalization_stat.npy: a version 1.0 .npy, dtype |O, shape (), with numpy's header", () => {
    const bytes = encodePickledStatsNpy(STATS);
    expect(Array.from(bytes.subarray(0, 8))).toEqual([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]);
    const headerEnd = 10 + (bytes[8]! | (bytes[9]! << 8));
    expect(headerEnd % 64).toBe(0);
    expect(Buffer.from(bytes.subarray(10, headerEnd)).toString('latin1')).toBe(`${"{'descr': '|O', 'fortran_order': False, 'shape': (), }".padEnd(headerEnd - 11)}\n`);
    // The pickle: protocol 3, numpy's _reconstruct of an ndarray, ending in BUILD and STOP.
    expect(Array.from(bytes.subarray(headerEnd, headerEnd + 3))).toEqual([0x80, 3, 0x63]);
    expect(Buffer.from(bytes.subarray(headerEnd + 3, headerEnd + 39)).toString('latin1')).toBe('numpy._core.multiarray\n_reconstruct\n');
    expect(Array.from(bytes.subarray(bytes.length - 2))).toEqual([0x62, 0x2e]);
    // The same stats always give the same bytes.
    expect(encodePickledStatsNpy(structuredClone(STATS))).toEqual(bytes);
  });

  it('is read back by our whitelisting reader to the same numbers, bit for bit', () => {
    for (const stats of [STATS, HARD]) {
      const back = decodePickledNpy(encodePickledStatsNpy(stats), 'stats.npy') as PyreflectStats;
      expect(back).toEqual(stats);
      expect(Object.is(back.sld.x.min, stats.sld.x.min)).toBe(true); // -0 stays -0 in HARD
      expect(Object.keys(back)).toEqual(['nr', 'sld']);
    }
  });

  it('loads in numpy with np.load(allow_pickle=True).item() as the same dict of Python floats, in order, without warnings', () => {
    for (const [name, stats] of [['stats', STATS], ['hard', HARD]] as const) {
      const ours = join(dir, `${name}.npy`);
      const theirs = join(dir, `${name}-numpy.npy`);
      writeFileSync(ours, encodePickledStatsNpy(stats));
      const result = JSON.parse(execFileSync(torchPython(), ['-c', NUMPY_LOAD, ours, theirs], { encoding: 'utf8' })) as { dtype: string; shape: number[]; item: Items };
      expect(result.dtype).toBe('|O');
      expect(result.shape).toEqual([]);
      expect(result.item).toEqual(expectedItems(stats));
      // What numpy itself saves from that dict reads back the same in our reader, with the same header.
      const numpyBytes = readFileSync(theirs);
      expect(decodePickledNpy(numpyBytes, theirs)).toEqual(stats);
      expect(Buffer.from(numpyBytes.subarray(0, 128))).toEqual(Buffer.from(encodePickledStatsNpy(stats).subarray(0, 128)));
    }
  });

  it('refuses stats that are not finite numbers (INVALID_CONFIG), naming the field', () => {
    const bad = structuredClone(STATS);
    bad.sld.y.max = Number.NaN;
    expect(thrown(() => encodePickledStatsNpy(bad))).toMatchObject({ code: 'INVALID_CONFIG', path: 'sld.y.max' });
    const missing = { nr: STATS.nr } as unknown as PyreflectStats;
    expect(thrown(() => encodePickledStatsNpy(missing))).toMatchObject({ code: 'INVALID_CONFIG', path: 'sld.x.min' });
  });
});
