import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { readPth, readPthIndex, writePth } from '../../src/io/pth-file.node.js';
import { decodePth, encodePth, parseStateDictPickle, type PthTensor, type PthTensorInput } from '../../src/io/pth.js';
import { readZipDirectory, storedZip } from '../../src/io/zip.js';
import { rejection, thrown } from '../helpers/errors.js';
import { torchPth, torchPthJson } from '../helpers/torch.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'reflectkit-pth-'));
});

type Loaded = { tensors: Array<[string, string, number[], number[]]>; metadata: Array<[string, Record<string, number>]>; mmapSame: boolean; badCrc: string | null };

const TENSORS: PthTensorInput[] = [
  { name: 'layers.0.weight', shape: [3, 1, 5], data: Float32Array.from({ length: 15 }, (_, i) => Math.fround(Math.sin(i) / 3)) },
  { name: 'layers.0.bias', shape: [3], data: Float32Array.of(0.5, -1e-20, 3e30) },
  { name: 'layers.1.num_batches_tracked', dtype: 'int64', shape: [], data: Float32Array.of(1234567) },
  { name: 'scalar', shape: [], data: Float32Array.of(-2.25) },
  { name: 'chunked', shape: [4, 3], data: { length: 12, chunks: () => [Float32Array.of(1, 2, 3, 4, 5), Float32Array.of(6, 7, 8, 9, 10, 11, 12)] } },
];
/** With an empty tensor torch must not compute offsets itself (see pthChunks): no `.format_version`. */
const WITH_EMPTY: PthTensorInput[] = [...TENSORS.slice(0, 2), { name: 'empty', shape: [0, 7], data: new Float32Array(0) }, ...TENSORS.slice(2)];
const METADATA = [['', { version: 1 }], ['layers.1', { version: 2 }]] as const;

function valuesOf(t: PthTensorInput): number[] {
  if (t.data instanceof Float32Array) return Array.from(t.data);
  return [...t.data.chunks()].flatMap((c) => Array.from(c));
}

describe('.pth writer and reader', () => {
  it('round-trip names, types, shapes and values, in memory and through files, with identical bytes', async () => {
    const bytes = encodePth(WITH_EMPTY, { metadata: METADATA, archiveName: 'model' });
    const decoded = decodePth(bytes);
    const path = join(dir, 'model.pth');
    await writePth(path, WITH_EMPTY, { metadata: METADATA });
    expect(Buffer.compare(readFileSync(path), Buffer.from(bytes))).toBe(0);
    const read = await readPth(path);
    for (const tensors of [decoded, read]) {
      expect(tensors.map((t) => [t.name, t.dtype, t.shape])).toEqual(WITH_EMPTY.map((t) => [t.name, t.dtype ?? 'float32', [...t.shape]]));
      tensors.forEach((t, i) => expect(Array.from(t.data), t.name).toEqual(valuesOf(WITH_EMPTY[i]!)));
    }
    expect(readZipDirectory(bytes).has('model/.format_version')).toBe(false);
    expect(torchPthJson<Loaded>('load', path).tensors.map(([name, , shape, values]) => [name, shape, values])).toEqual(
      WITH_EMPTY.map((t) => [t.name, [...t.shape], valuesOf(t)]),
    );
    expect((await readPthIndex(path)).metadata).toEqual(METADATA);
    // No temporary file is left beside it.
    expect(readdirSync(dir).filter((f) => f.includes('.partial'))).toEqual([]);
  });

  it('lays storages out as torch does: stored, each starting on a 64-byte boundary, in key order', () => {
    const bytes = encodePth(TENSORS, { archiveName: 'archive' });
    const entries = readZipDirectory(bytes);
    expect([...entries.keys()]).toEqual([
      'archive/data.pkl',
      'archive/.format_version',
      'archive/.storage_alignment',
      'archive/byteorder',
      ...TENSORS.map((_, i) => `archive/data/${i}`),
      'archive/version',
    ]);
    for (const entry of entries.values()) {
      expect(entry.method).toBe(0);
      expect(entry.dataOffset % 64, entry.name).toBe(0);
    }
    const text = (name: string) => new TextDecoder().decode(bytes.subarray(entries.get(name)!.dataOffset, entries.get(name)!.dataOffset + entries.get(name)!.size));
    expect([text('archive/version'), text('archive/byteorder'), text('archive/.storage_alignment')]).toEqual(['3\n', 'little', '64']);
    expect(entries.get('archive/data/2')!.size).toBe(8); // one int64
  });

  it('writes files torch.load(weights_only=True) reads, also memory-mapped with offsets torch computes itself', async () => {
    const path = join(dir, 'for-torch.pth');
    await writePth(path, TENSORS, { metadata: METADATA });
    const loaded = torchPthJson<Loaded>('load', path);
    expect(loaded.badCrc).toBeNull(); // Python's zipfile checks every CRC-32
    expect(loaded.mmapSame).toBe(true);
    expect(loaded.metadata).toEqual(METADATA);
    expect(loaded.tensors.map(([name, dtype, shape]) => [name, dtype, shape])).toEqual(TENSORS.map((t) => [t.name, t.dtype ?? 'float32', [...t.shape]]));
    loaded.tensors.forEach(([name, , , values], i) => expect(values, name).toEqual(valuesOf(TENSORS[i]!)));
  });

  it('reads what torch.save wrote: every dtype, strides, storage offsets, shared storages, 0-d and empty tensors', async () => {
    const path = join(dir, 'mixed.pth');
    const expected = torchPthJson<Array<[string, string, number[], number[]]>>('save-mixed', path);
    const fromFile = await readPth(path);
    const fromBytes = decodePth(readFileSync(path));
    for (const tensors of [fromFile, fromBytes]) {
      expect(tensors.map((t) => [t.name, t.dtype, t.shape])).toEqual(expected.map(([name, dtype, shape]) => [name, dtype, shape]));
      tensors.forEach((t, i) => expect(Array.from(t.data), t.name).toEqual(expected[i]![3].map((v) => Math.fround(v))));
    }
    // The transposed view reads across its storage: column-major values of the 3×4 base.
    const transposed = fromFile.find((t) => t.name === 'transposed')!;
    expect(Array.from(transposed.data.subarray(0, 4))).toEqual([-0.5, 0, 0.5, -0.375]);
    // int64 beyond 2^24 comes back as the nearest float32.
    expect(fromFile.find((t) => t.name === 'i64')!.data[2]).toBe(2 ** 40);
  });

  it('refuses a .pth whose pickle would run code, and the code does not run', async () => {
    const marker = join(tmpdir(), `reflectkit-pwned-${randomBytes(6).toString('hex')}`);
    const path = join(dir, 'evil.pth');
    torchPth('save-evil', path, marker);
    for (const attempt of [() => readPth(path), () => readPthIndex(path), async () => decodePth(readFileSync(path))]) {
      const error = await rejection(attempt());
      expect(error.code).toBe('PTH_UNSAFE');
      expect(error.message).toMatch(/global posix\.system is not allowed at byte \d+ of evil\/data\.pkl/);
    }
    expect(existsSync(marker)).toBe(false);
  });

  it('refuses what is not a state_dict, the legacy format, truncated and corrupt files with PTH_FORMAT', async () => {
    const checkpoint = join(dir, 'checkpoint.pth');
    torchPth('save-checkpoint', checkpoint);
    expect(await rejection(readPth(checkpoint))).toMatchObject({ code: 'PTH_FORMAT', message: expect.stringContaining('epoch holds int 3, not a tensor') });

    const legacy = join(dir, 'legacy.pth');
    torchPth('save-legacy', legacy);
    expect(await rejection(readPth(legacy))).toMatchObject({ code: 'PTH_FORMAT', message: expect.stringContaining("torch's legacy format") });

    const good = encodePth(TENSORS);
    const truncated = join(dir, 'truncated.pth');
    for (const length of [0, 10, good.length >> 1, good.length - 1]) {
      writeFileSync(truncated, good.subarray(0, length));
      expect((await rejection(readPth(truncated))).code, `${length} bytes`).toBe('PTH_FORMAT');
      expect(thrown(() => decodePth(good.subarray(0, length))).code).toBe('PTH_FORMAT');
    }
    // A storage shorter than the pickle says (the size in the central directory edited down by 4).
    const short = Buffer.from(good);
    const directory = readZipDirectory(good);
    const entry = directory.get('archive/data/1')!;
    const central = short.lastIndexOf(Buffer.from('archive/data/1')) - 46;
    expect(short.readUInt32LE(central)).toBe(0x02014b50);
    short.writeUInt32LE(entry.size - 4, central + 20);
    short.writeUInt32LE(entry.size - 4, central + 24);
    expect(thrown(() => decodePth(short))).toMatchObject({ code: 'PTH_FORMAT', message: expect.stringContaining('storage 1 holds 8 bytes') });
    expect(await rejection(readPth(join(dir, 'missing.pth')))).toMatchObject({ code: 'IO_ERROR' });
  });

  it('reads zip64 end records and big-endian storages (as torch does)', async () => {
    // zip64: the plain end record's fields saturated, as a writer past 4 GiB or 65535 entries leaves them;
    // torch always writes the zip64 record and its locator too, so the values come from there.
    const path = join(dir, 'mixed64.pth');
    const expected = torchPthJson<Array<[string, string, number[], number[]]>>('save-mixed', path);
    const zip64 = Buffer.from(readFileSync(path));
    const end = zip64.length - 22;
    expect(zip64.readUInt32LE(end)).toBe(0x06054b50);
    zip64.writeUInt16LE(0xffff, end + 8);
    zip64.writeUInt16LE(0xffff, end + 10);
    zip64.writeUInt32LE(0xffffffff, end + 12);
    zip64.writeUInt32LE(0xffffffff, end + 16);
    expect(decodePth(zip64).map((t) => [t.name, Array.from(t.data)])).toEqual(expected.map(([name, , , values]) => [name, values.map((v) => Math.fround(v))]));

    // Big-endian: our archive rebuilt with every storage byte-swapped and byteorder "big".
    const little = encodePth(TENSORS, { archiveName: 'big' });
    const entries = readZipDirectory(little);
    const pieces: Uint8Array[] = [];
    const rebuilt = storedZip(
      [...entries.values()].map((e) => {
        let data: Uint8Array = little.slice(e.dataOffset, e.dataOffset + e.size);
        if (e.name === 'big/byteorder') data = new TextEncoder().encode('big');
        const index = /^big\/data\/(\d+)$/.exec(e.name)?.[1];
        if (index !== undefined) {
          const size = TENSORS[Number(index)]!.dtype === 'int64' ? 8 : 4;
          for (let i = 0; i < data.length; i += size) data.subarray(i, i + size).reverse();
        }
        return { name: e.name, chunks: [data] };
      }),
    );
    for (const piece of rebuilt) pieces.push(piece.slice());
    const big = Buffer.concat(pieces);
    const bigPath = join(dir, 'big.pth');
    writeFileSync(bigPath, big);
    const want = TENSORS.map((t) => [t.name, valuesOf(t)]);
    expect(decodePth(big).map((t) => [t.name, Array.from(t.data)])).toEqual(want);
    expect((await readPth(bigPath)).map((t) => [t.name, Array.from(t.data)])).toEqual(want);
    expect(torchPthJson<Loaded>('load', bigPath).tensors.map(([name, , , values]) => [name, values])).toEqual(want);
  });

  it('checks tensor references against their storages', () => {
    // A hand-made pickle: a (2, 3) tensor on a storage of 5 elements.
    const pickle = encodePth([{ name: 'w', shape: [5], data: new Float32Array(5) }]);
    const pkl = pickle.subarray(readZipDirectory(pickle).get('archive/data.pkl')!.dataOffset);
    const index = parseStateDictPickle(pkl);
    expect(index.tensors[0]).toMatchObject({ name: 'w', shape: [5], stride: [1], storageOffset: 0, storage: { key: '0', numel: 5, dtype: 'float32' } });
    // Same pickle with the size tuple (5,) patched to (6,): reaches past the storage.
    const patched = Uint8Array.from(pkl);
    const at = patched.findIndex((b, i) => b === 0x4b && patched[i + 1] === 5 && patched[i + 2] === 0x85); // BININT1 5, TUPLE1
    patched[at + 1] = 6;
    expect(thrown(() => parseStateDictPickle(patched))).toMatchObject({ code: 'PTH_FORMAT', message: expect.stringContaining('reaches element 5 of a storage of 5') });
  });

  it('refuses inconsistent tensors to write', () => {
    expect(thrown(() => encodePth([{ name: 'a', shape: [2], data: new Float32Array(3) }]))).toMatchObject({ code: 'BAD_SHAPE' });
    expect(thrown(() => encodePth([{ name: 'a', shape: [1], data: new Float32Array(1) }, { name: 'a', shape: [1], data: new Float32Array(1) }]))).toMatchObject({ code: 'BAD_SHAPE' });
    expect(thrown(() => encodePth([{ name: 'n', dtype: 'int64', shape: [1], data: Float32Array.of(0.5) }]))).toMatchObject({ code: 'BAD_SHAPE' });
    expect(thrown(() => encodePth([], { archiveName: '../up' }))).toMatchObject({ code: 'INVALID_OPTION' });
  });

  it('reads a 575 MB state_dict torch wrote (pyreflect CNN(2)) without holding the file: time and memory', async () => {
    const path = join(dir, 'cnn2.pth');
    torchPth('save-cnn', path, 2, 1);
    const before = process.memoryUsage().arrayBuffers;
    const started = performance.now();
    const tensors: PthTensor[] = await readPth(path);
    const seconds = (performance.now() - started) / 1000;
    const held = process.memoryUsage().arrayBuffers - before;
    const values = tensors.reduce((n, t) => n + t.data.length, 0);
    const layout = torchPthJson<Record<string, { layout: Array<[string, number[], string]> }>>('layouts', 2)[2]!.layout;
    expect(tensors.map((t) => [t.name, t.shape, t.dtype])).toEqual(layout);
    expect(values).toBe(layout.reduce((n, [, shape]) => n + shape.reduce((a, b) => a * b, 1), 0));
    // The tensors' own 580 MB, plus at most a few MiB of buffers: the file is never read whole.
    expect(held).toBeLessThan(values * 4 + 32 * 2 ** 20);
    expect(seconds).toBeLessThan(20);
    console.log(`readPth: ${(values * 4 / 1e6).toFixed(0)} MB of tensors in ${seconds.toFixed(2)} s`);
  });
});
