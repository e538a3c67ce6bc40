import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { NpyWriter, readNpy, readNpyHeader, writeNpy } from '../../src/io/npy-file.node.js';
import { runPython } from '../helpers/python.js';

const dir = () => mkdtempSync(join(tmpdir(), 'reflectkit-npy-'));

describe('readNpy / writeNpy', () => {
  it('round-trips a float32 array and numpy reads it', async () => {
    const path = join(dir(), 'a.npy');
    const data = Float32Array.from({ length: 2 * 2 * 5 }, (_, i) => Math.sqrt(i));
    await writeNpy(path, data, [2, 2, 5]);
    const back = await readNpy(path);
    expect(back.shape).toEqual([2, 2, 5]);
    expect(Array.from(back.data)).toEqual(Array.from(data));
    const numpy = runPython('import sys, numpy as np; a = np.load(sys.argv[1]); print(a.shape, a.dtype, float(a[1, 1, 4]))', [path]);
    expect(numpy.trim()).toBe(`(2, 2, 5) float32 ${Math.fround(Math.sqrt(19))}`);
  });
  it('reads files numpy saved', async () => {
    const path = join(dir(), 'n.npy');
    runPython('import sys, numpy as np; np.save(sys.argv[1], np.linspace(0, 1, 7).reshape(7, 1))', [path]);
    const a = await readNpy(path);
    expect(a.shape).toEqual([7, 1]);
    expect(a.data[6]).toBe(1);
  });
  it('checks the header against the file size before reading data', async () => {
    const path = join(dir(), 't.npy');
    runPython('import sys, numpy as np; np.save(sys.argv[1], np.zeros((100, 2, 308), dtype=np.float32))', [path]);
    writeFileSync(path, readFileSync(path).subarray(0, 5000));
    await expect(readNpyHeader(path)).rejects.toMatchObject({ code: 'NPY_FORMAT' });
    await expect(readNpy(path)).rejects.toMatchObject({ code: 'NPY_FORMAT', message: expect.stringMatching(/truncated/) });
  });
  it('reports a missing file as IO_ERROR with its path', async () => {
    const path = join(dir(), 'missing.npy');
    await expect(readNpy(path)).rejects.toMatchObject({ code: 'IO_ERROR', path });
  });
});

describe('NpyWriter', () => {
  it('streams appends and publishes the file only on close', async () => {
    const folder = dir();
    const path = join(folder, 's.npy');
    const writer = await NpyWriter.open(path, 'f4', [3, 2]);
    await writer.append(Float32Array.from([1, 2]));
    expect(readdirSync(folder).some((f) => f === 's.npy')).toBe(false);
    await writer.append(Float32Array.from([3, 4, 5, 6]));
    await writer.close();
    expect(readdirSync(folder)).toEqual(['s.npy']);
    expect(Array.from((await readNpy(path)).data)).toEqual([1, 2, 3, 4, 5, 6]);
  });
  it('never replaces a good file with an incomplete one', async () => {
    const folder = dir();
    const path = join(folder, 'keep.npy');
    await writeNpy(path, Float64Array.from([9, 8]), [2]);
    const writer = await NpyWriter.open(path, 'f8', [4]);
    await writer.append(Float64Array.from([1]));
    await expect(writer.close()).rejects.toMatchObject({ code: 'BAD_SHAPE' });
    expect(readdirSync(folder)).toEqual(['keep.npy']);
    expect(Array.from((await readNpy(path)).data)).toEqual([9, 8]);
  });
  it('refuses too many elements and the wrong element type', async () => {
    const writer = await NpyWriter.open(join(dir(), 'x.npy'), 'f4', [2]);
    await expect(writer.append(Float64Array.from([1]))).rejects.toMatchObject({ code: 'BAD_SHAPE' });
    await expect(writer.append(Float32Array.from([1, 2, 3]))).rejects.toMatchObject({ code: 'BAD_SHAPE' });
    await writer.discard();
  });
});
