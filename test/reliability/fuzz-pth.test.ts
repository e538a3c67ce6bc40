import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { npyHeaderFromDict } from '../../src/io/npy.js';
import { decodePickledNpy, encodePickledStatsNpy } from '../../src/io/pickled-npy.js';
import { PickleWriter, unpickle, type PickleValue } from '../../src/io/pickle.js';
import { readPth, readPthIndex } from '../../src/io/pth-file.node.js';
import { decodePth, encodePth, parseStateDictPickle, STATE_DICT_GLOBALS, type PthTensor, type PthTensorInput } from '../../src/io/pth.js';
import { readZipDirectory, storedZip } from '../../src/io/zip.js';
import { NrSldScaler } from '../../src/preprocess/scaler.js';
import { pythonPath, runPython } from '../helpers/python.js';
import { torchPthJson, torchPython } from '../helpers/torch.js';
import { BufferGrowth, corrupt, corruptionArb, outcome, outcomeAsync, runCounted, runCountedAsync, scratch, SEED, unchanged, type Corruption } from './fuzz-helpers.js';

/**
 * Fuzzing the `.pth` readers (zip + pickle: decodePth, readPth, readPthIndex, parseStateDictPickle, unpickle)
 * and the pickled `.npy` reader (decodePickledNpy, pyreflect's normalization_stat.npy): every input gives the
 * right tensors / object or PTH_FORMAT / PTH_UNSAFE, never another exception, a hang, an allocation of a
 * declared size, or code execution.
 */

const MiB = 2 ** 20;
const PTH_CODES = ['PTH_FORMAT', 'PTH_UNSAFE'] as const;
const bytesOfText = (s: string) => [...Buffer.from(s, 'utf8')];
const le32 = (n: number) => [n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, (n >>> 24) & 0xff];
const le64 = (n: bigint) => Array.from({ length: 8 }, (_, i) => Number((n >> BigInt(8 * i)) & 0xffn));

/** A `.pth` archive around a given `data.pkl` (and storages), as torch lays it out. */
function pthWith(pickle: Uint8Array, storages: Uint8Array[] = []): Uint8Array {
  const pieces: Uint8Array[] = [];
  const entries = [
    { name: 'archive/data.pkl', chunks: [pickle] },
    { name: 'archive/byteorder', chunks: [new TextEncoder().encode('little')] },
    ...storages.map((s, i) => ({ name: `archive/data/${i}`, chunks: [s] })),
    { name: 'archive/version', chunks: [new TextEncoder().encode('3\n')] },
  ];
  for (const piece of storedZip(entries)) pieces.push(piece.slice());
  return Buffer.concat(pieces);
}

/** A pickled-object `.npy` (np.save of one object) around a given pickle. */
function objectNpyWith(pickle: Uint8Array): Uint8Array {
  const header = npyHeaderFromDict("{'descr': '|O', 'fortran_order': False, 'shape': (), }");
  return Buffer.concat([header, pickle]);
}

// ---------------------------------------------------------------------------------------------------------
// Pickle opcode streams

/** One opcode with its argument bytes; `refusable`: an opcode that may be refused as unsafe by itself. */
interface Op {
  name: string;
  bytes: number[];
  refusable: boolean;
  /** For GLOBAL / INST: the dotted name. */
  global?: string;
}

const WHITELISTED = new Set(['collections.OrderedDict', 'torch._utils._rebuild_tensor_v2', 'torch._utils._rebuild_parameter', 'torch.FloatStorage', 'torch.LongStorage', 'torch.HalfStorage']);
const GLOBALS = [...WHITELISTED, 'posix.system', 'os.system', 'builtins.eval', 'builtins.exec', 'builtins.getattr', 'builtins.__import__', 'subprocess.Popen', 'torch.load', 'collections.__proto__', '__proto__.x', 'collections.constructor', 'numpy.dtype'];
const op = (name: string, bytes: number[], refusable = false): Op => ({ name, bytes, refusable });
const globalOp = (code: number, dotted: string): Op => {
  const at = dotted.lastIndexOf('.');
  return { name: code === 0x63 ? 'GLOBAL' : 'INST', bytes: [code, ...bytesOfText(`${dotted.slice(0, at)}\n${dotted.slice(at + 1)}\n`)], refusable: code === 0x69 || !WHITELISTED.has(dotted), global: dotted };
};
/** Bytes that are no pickle opcode (below MARK, above READONLY_BUFFER): the reader must stop there. */
const notAnOpcode = fc.oneof(fc.integer({ min: 0, max: 0x27 }), fc.integer({ min: 0x99, max: 0xff }));

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 12, arbitrary: fc.constantFrom(
    op('MARK', [0x28]), op('EMPTY_DICT', [0x7d]), op('EMPTY_LIST', [0x5d]), op('EMPTY_TUPLE', [0x29]), op('NONE', [0x4e]),
    op('NEWTRUE', [0x88]), op('NEWFALSE', [0x89]), op('TUPLE', [0x74]), op('TUPLE1', [0x85]), op('TUPLE2', [0x86]), op('TUPLE3', [0x87]),
    op('SETITEM', [0x73]), op('SETITEMS', [0x75]), op('APPEND', [0x61]), op('APPENDS', [0x65]), op('MEMOIZE', [0x94]),
    op('REDUCE', [0x52], true), op('BUILD', [0x62], true), op('BINPERSID', [0x51], true), op('STACK_GLOBAL', [0x93], true),
  ) },
  { weight: 2, arbitrary: fc.constantFrom(
    op('NEWOBJ', [0x81], true), op('NEWOBJ_EX', [0x92], true), op('OBJ', [0x6f], true), op('POP', [0x30], true), op('POP_MARK', [0x31], true),
    op('DUP', [0x32], true), op('LIST', [0x6c], true), op('DICT', [0x64], true), op('EMPTY_SET', [0x8f], true), op('ADDITEMS', [0x90], true),
    op('FROZENSET', [0x91], true), op('NEXT_BUFFER', [0x97], true), op('READONLY_BUFFER', [0x98], true), op('EXT1', [0x82, 1], true),
    op('EXT2', [0x83, 1, 0], true), op('EXT4', [0x84, 1, 0, 0, 0], true), op('INT', [0x49, ...bytesOfText('1\n')], true),
    op('LONG', [0x4c, ...bytesOfText('1L\n')], true), op('STRING', [0x53, ...bytesOfText("'a'\n")], true), op('FLOAT', [0x46, ...bytesOfText('1.5\n')], true),
    op('PERSID', [0x50, ...bytesOfText('x\n')], true), op('UNICODE', [0x56, ...bytesOfText('a\n')], true), op('BINSTRING', [0x54, 1, 0, 0, 0, 0x61], true),
    op('SHORT_BINSTRING', [0x55, 1, 0x61], true), op('BINBYTES8', [0x8e, ...le64(1n), 0x61], true), op('BYTEARRAY8', [0x96, ...le64(1n), 0x61], true),
  ) },
  fc.integer({ min: 0, max: 7 }).map((v) => op('PROTO', [0x80, v])),
  fc.oneof(fc.bigInt(0n, 4n), fc.bigInt(1n << 20n, 1n << 62n)).map((n) => op('FRAME', [0x95, ...le64(n)])),
  { weight: 3, arbitrary: fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }).map((v) => op('BININT', [0x4a, ...le32(v)])) },
  { weight: 3, arbitrary: fc.integer({ min: 0, max: 255 }).map((v) => op('BININT1', [0x4b, v])) },
  fc.integer({ min: 0, max: 65535 }).map((v) => op('BININT2', [0x4d, v & 0xff, v >> 8])),
  fc.uint8Array({ maxLength: 12 }).map((b) => op('LONG1', [0x8a, b.length, ...b])),
  fc.double().map((v) => {
    const b = Buffer.alloc(8);
    b.writeDoubleBE(v);
    return op('BINFLOAT', [0x47, ...b]);
  }),
  { weight: 4, arbitrary: fc.string({ maxLength: 8 }).map((s) => op('SHORT_BINUNICODE', [0x8c, Buffer.byteLength(s), ...bytesOfText(s)])) },
  fc.string({ maxLength: 8 }).map((s) => op('BINUNICODE', [0x58, ...le32(Buffer.byteLength(s)), ...bytesOfText(s)])),
  fc.string({ maxLength: 8 }).map((s) => op('BINUNICODE8', [0x8d, ...le64(BigInt(Buffer.byteLength(s))), ...bytesOfText(s)])),
  fc.uint8Array({ minLength: 1, maxLength: 6 }).map((b) => op('SHORT_BINUNICODE', [0x8c, b.length, ...b])), // often not UTF-8
  fc.uint8Array({ maxLength: 8 }).map((b) => op('SHORT_BINBYTES', [0x43, b.length, ...b])),
  fc.uint8Array({ maxLength: 8 }).map((b) => op('BINBYTES', [0x42, ...le32(b.length), ...b])),
  // Declared lengths far beyond the bytes that follow.
  fc.constantFrom(
    op('BINUNICODE', [0x58, 0xff, 0xff, 0xff, 0xff, 0x61]), op('BINBYTES', [0x42, 0xff, 0xff, 0xff, 0x7f]),
    op('BINUNICODE8', [0x8d, ...le64(1n << 62n)]), op('SHORT_BINUNICODE', [0x8c, 200, 0x61]), op('LONG1', [0x8a, 255, 1]),
  ),
  { weight: 3, arbitrary: fc.integer({ min: 0, max: 3 }).map((i) => op('BINPUT', [0x71, i])) },
  fc.integer({ min: 0, max: 3 }).map((i) => op('LONG_BINPUT', [0x72, ...le32(i)])),
  { weight: 3, arbitrary: fc.integer({ min: 0, max: 3 }).map((i) => op('BINGET', [0x68, i])) },
  fc.integer({ min: 0, max: 3 }).map((i) => op('LONG_BINGET', [0x6a, ...le32(i)])),
  { weight: 3, arbitrary: fc.constantFrom(...GLOBALS).map((g) => globalOp(0x63, g)) },
  fc.constantFrom(...GLOBALS).map((g) => globalOp(0x69, g)),
  notAnOpcode.map((b) => op('not an opcode', [b])),
);

const streamArb = fc.tuple(fc.option(fc.integer({ min: 2, max: 5 })), fc.array(opArb, { maxLength: 30 })).map(([proto, ops]) => ({
  ops,
  bytes: Uint8Array.from([...(proto === null ? [] : [0x80, proto]), ...ops.flatMap((o) => o.bytes), 0x2e]),
}));

/** Every value reachable from an unpickled one is inert data: no function, no prototype other than plain ones. */
function expectInert(value: PickleValue, seen = new Set<object>()): void {
  if (value === null) return;
  if (typeof value !== 'object') {
    expect(['boolean', 'number', 'bigint', 'string']).toContain(typeof value);
    return;
  }
  if (seen.has(value)) return;
  seen.add(value);
  if (value instanceof Uint8Array) return;
  expect(Object.getPrototypeOf(value)).toBe(Object.prototype);
  switch (value.kind) {
    case 'list':
    case 'tuple':
      value.items.forEach((v) => expectInert(v, seen));
      return;
    case 'dict':
      value.entries.forEach((v) => expectInert(v, seen));
      if (value.state !== undefined) expectInert(value.state, seen);
      return;
    case 'global':
      expect(WHITELISTED.has(`${value.module}.${value.name}`)).toBe(true);
      return;
    case 'object':
      expect(['torch.Tensor', 'torch.storage']).toContain(value.type);
      return;
  }
}

/**
 * A canonical, bounded encoding of a value, the same as ENCODER below gives in Python: numbers as float64 bit
 * patterns (the reader gives Python's ints and floats as JS numbers, beyond 2^53 as bigints).
 */
function encodeValue(value: PickleValue, depth = 0, budget = { left: 400 }): unknown {
  if (--budget.left < 0) return { cut: 1 };
  if (depth > 12) return { deep: 1 };
  if (value === null) return null;
  if (typeof value === 'boolean') return { b: value };
  if (typeof value === 'bigint') return { i: String(value) };
  if (typeof value === 'number') return { n: Number.isNaN(value) ? 'nan' : Buffer.from(new Float64Array([value]).buffer).reverse().toString('hex') };
  if (typeof value === 'string') return { s: value };
  if (value instanceof Uint8Array) return { y: Buffer.from(value).toString('hex') };
  switch (value.kind) {
    case 'list':
      return { l: value.items.map((v) => encodeValue(v, depth + 1, budget)) };
    case 'tuple':
      return { t: value.items.map((v) => encodeValue(v, depth + 1, budget)) };
    case 'dict':
      return { d: [...value.entries].map(([k, v]) => [encodeValue(k, depth + 1, budget), encodeValue(v, depth + 1, budget)]) };
    default:
      return { other: value.kind };
  }
}

/** Python's side of {@link encodeValue}. */
const ENCODER = `
import struct
def enc(v, depth=0, budget=None):
    budget = budget if budget is not None else [400]
    budget[0] -= 1
    if budget[0] < 0: return {"cut": 1}
    if depth > 12: return {"deep": 1}
    if v is None: return None
    if isinstance(v, bool): return {"b": v}
    if isinstance(v, int) and abs(v) > 2**53 - 1: return {"i": str(v)}
    if isinstance(v, (int, float)): return {"n": "nan" if v != v else struct.pack(">d", float(v)).hex()}
    if isinstance(v, str): return {"s": v}
    if isinstance(v, (bytes, bytearray)): return {"y": bytes(v).hex()}
    if isinstance(v, list): return {"l": [enc(x, depth + 1, budget) for x in v]}
    if isinstance(v, tuple): return {"t": [enc(x, depth + 1, budget) for x in v]}
    if isinstance(v, dict): return {"d": [[enc(k, depth + 1, budget), enc(x, depth + 1, budget)] for k, x in v.items()]}
    return {"other": type(v).__name__}
`;

/** Whether a value holds a dict with a key Python compares otherwise (True == 1, NaN, 2^60 == 2.0^60): excluded from the comparison. */
function hasAmbiguousKeys(value: PickleValue, seen = new Set<object>()): boolean {
  if (value === null || typeof value !== 'object' || value instanceof Uint8Array || seen.has(value)) return false;
  seen.add(value);
  if (value.kind === 'dict') {
    if ([...value.entries.keys()].some((k) => typeof k === 'boolean' || typeof k === 'bigint' || Number.isNaN(k))) return true;
    return [...value.entries.values()].some((v) => hasAmbiguousKeys(v, seen));
  }
  return value.kind === 'list' || value.kind === 'tuple' ? value.items.some((v) => hasAmbiguousKeys(v, seen)) : false;
}

// ---------------------------------------------------------------------------------------------------------
// Real files

const TENSORS: PthTensorInput[] = [
  { name: 'layers.0.weight', shape: [3, 1, 5], data: Float32Array.from({ length: 15 }, (_, i) => Math.fround(Math.sin(i) / 3)) },
  { name: 'layers.0.bias', shape: [3], data: Float32Array.of(NaN, -Infinity, 3e30) },
  { name: 'layers.1.num_batches_tracked', dtype: 'int64', shape: [], data: Float32Array.of(1234567) },
  { name: 'empty', shape: [0, 2], data: new Float32Array(0) },
];

let dir: string;
let torchMixed: Uint8Array;
let realPth: Array<{ name: string; bytes: Uint8Array; tensors: PthTensor[]; dataRegions: Array<[number, number]>; attributeBytes: Set<number> }>;

/** Positions of the file-attribute fields (bytes 36–41) of every central directory entry. */
function attributeBytesOf(bytes: Uint8Array): Set<number> {
  const out = new Set<number>();
  const b = Buffer.from(bytes);
  for (let at = b.indexOf(Buffer.from([0x50, 0x4b, 1, 2])); at >= 0; at = b.indexOf(Buffer.from([0x50, 0x4b, 1, 2]), at + 1)) {
    for (let k = 36; k < 42; k++) out.add(at + k);
  }
  return out;
}

function changedBytes(a: Uint8Array, b: Uint8Array): number[] {
  const out: number[] = [];
  for (let i = 0; i < Math.max(a.length, b.length); i++) if (a[i] !== b[i]) out.push(i);
  return out;
}

beforeAll(() => {
  dir = scratch('pth');
  const mixedPath = join(dir, 'mixed.pth');
  torchPthJson('save-mixed', mixedPath);
  torchMixed = Uint8Array.from(readFileSync(mixedPath));
  realPth = [
    { name: 'torch save-mixed', bytes: torchMixed },
    { name: 'ours', bytes: encodePth(TENSORS, { metadata: [['', { version: 1 }]] }) },
  ].map(({ name, bytes }) => {
    const entries = readZipDirectory(bytes);
    const dataRegions = [...entries.values()].filter((e) => /\/data\/\d+$/.test(e.name)).map((e) => [e.dataOffset, e.dataOffset + e.size] as [number, number]);
    return { name, bytes, tensors: decodePth(bytes), dataRegions, attributeBytes: attributeBytesOf(bytes) };
  });
});

/** Whether a corruption changes only bytes inside storages (same length), so the file must still decode to the same layout. */
function storageOnly(c: Corruption, regions: Array<[number, number]>, size: number): boolean {
  const inside = (at: number) => regions.some(([a, b]) => at >= a && at < b);
  if (c.kind === 'flip') return c.bits.every((bit) => inside(bit >> 3));
  if (c.kind === 'overwrite') return c.bytes.every((_, i) => inside(c.at + i) || c.at + i >= size);
  return false;
}

/** Float32 values equal bit for bit, any NaN equal to any NaN (conversions may quiet a signalling NaN). */
function sameFloats(a: Float32Array, b: Float32Array): boolean {
  return a.length === b.length && a.every((v, i) => (Number.isNaN(v) && Number.isNaN(b[i]!)) || Object.is(v, b[i]!));
}

function expectWellFormed(tensors: PthTensor[]): void {
  for (const t of tensors) {
    expect(t.data).toBeInstanceOf(Float32Array);
    expect(t.data.length).toBe(t.shape.reduce((a, b) => a * b, 1));
    expect(['float32', 'float64', 'float16', 'bfloat16', 'int64', 'int32']).toContain(t.dtype);
  }
}

const layout = (tensors: PthTensor[]) => tensors.map((t) => [t.name, t.dtype, t.shape]);

describe('fuzzing pickles', () => {
  it('random opcode streams: inert data or PTH_FORMAT / PTH_UNSAFE; nothing outside the whitelist is ever accepted', () => {
    let accepted = 0;
    let unsafe = 0;
    const growth = new BufferGrowth(); // streams declare strings and bytes of up to 2^62 bytes
    runCounted('pickle opcode streams (unpickle, parseStateDictPickle)', streamArb, 6000, ({ ops, bytes }) => {
      const result = growth.measure(() => outcome(() => unpickle(bytes, { globals: STATE_DICT_GLOBALS }), PTH_CODES));
      const stateDict = growth.measure(() => outcome(() => parseStateDictPickle(bytes), PTH_CODES));
      if (stateDict.ok) stateDict.value.tensors.forEach((t) => expect(t.shape.every((n) => Number.isSafeInteger(n) && n >= 0)).toBe(true));
      if (result.ok) {
        accepted++;
        // The ops are well-formed, so all of them ran: none may be one that is refused by itself.
        expect(ops.filter((o) => o.refusable && o.name !== 'REDUCE' && o.name !== 'STACK_GLOBAL').map((o) => o.name)).toEqual([]);
        expect(ops.filter((o) => o.global !== undefined && !WHITELISTED.has(o.global))).toEqual([]);
        expectInert(result.value);
      } else if (result.error.code === 'PTH_UNSAFE') {
        unsafe++;
        expect(ops.some((o) => o.refusable), result.error.message).toBe(true);
      }
    });
    console.log(`[fuzz] pickle opcode streams: ${accepted} accepted, ${unsafe} refused as unsafe; largest arrayBuffers growth ${(growth.max / MiB).toFixed(2)} MiB`);
    expect(growth.max).toBeLessThan(16 * MiB);
    expect(accepted).toBeGreaterThan(300);
    expect(unsafe).toBeGreaterThan(300);
  });

  it('agrees with Python: every plain-data stream it accepts, pickle.loads reads to the same value', () => {
    const streams = fc.sample(streamArb, { seed: SEED, numRuns: 4000 });
    const compared: Array<{ hex: string; ours: unknown }> = [];
    for (const { bytes } of streams) {
      const result = outcome(() => unpickle(bytes, { globals: {} }), PTH_CODES);
      if (!result.ok || hasAmbiguousKeys(result.value)) continue;
      compared.push({ hex: Buffer.from(bytes).toString('hex'), ours: encodeValue(result.value) });
    }
    const code = `${ENCODER}
import json, pickle, sys
out = []
for h in json.load(sys.stdin):
    try:
        out.append(enc(pickle.loads(bytes.fromhex(h))))
    except Exception as e:
        out.append({"error": type(e).__name__ + ": " + str(e)})
print(json.dumps(out))`;
    const python = JSON.parse(execFileSync(pythonPath(), ['-c', code], { input: JSON.stringify(compared.map((c) => c.hex)), maxBuffer: 1 << 28 }).toString()) as unknown[];
    compared.forEach((c, i) => expect(python[i], c.hex).toEqual(c.ours));
    console.log(`[fuzz] pickle differential with Python's pickle.loads: ${compared.length} accepted streams compared`);
    expect(compared.length).toBeGreaterThan(300);
  });

  it('refuses live exploit pickles (os.system, eval, exec, subprocess.Popen; REDUCE, STACK_GLOBAL, INST, OBJ, BUILD) in every container, and nothing runs', async () => {
    const base = join(tmpdir(), `reflectkit-pwned-${randomBytes(6).toString('hex')}`);
    const code = `
import json, os, pickle, subprocess, sys, time
def payloads(marker):
    cmd = "touch " + marker
    class R:
        def __init__(s, f, a): s.f, s.a = f, a
        def __reduce__(s): return (s.f, s.a)
    c = cmd.encode()
    n = len(c).to_bytes(4, "little")
    return {
        "GLOBAL+REDUCE posix.system (protocol 2)": pickle.dumps(R(os.system, (cmd,)), protocol=2),
        "STACK_GLOBAL+REDUCE builtins.eval (protocol 4)": pickle.dumps(R(eval, ("__import__('os').system(%r)" % cmd,)), protocol=4),
        "builtins.exec (protocol 5)": pickle.dumps(R(exec, ("import os; os.system(%r)" % cmd,)), protocol=5),
        "subprocess.Popen (protocol 3)": pickle.dumps(R(subprocess.Popen, (["touch", marker],)), protocol=3),
        "inside a state_dict (protocol 2)": pickle.dumps({"w": 1, "x": R(os.system, (cmd,))}, protocol=2),
        "INST os.system (protocol 0)": b"(S'" + c + b"'\\nios\\nsystem\\n.",
        "OBJ os.system (protocol 1)": b"(cos\\nsystem\\nX" + n + c + b"o.",
        "BUILD sets __setstate__ = os.system, then calls it": b"\\x80\\x02cargparse\\nNamespace\\n)R}X\\x0c\\x00\\x00\\x00__setstate__cos\\nsystem\\nsbX" + n + c + b"b.",
    }
base = sys.argv[1]
live = {}
# Control: Python runs each payload (its own marker) to prove the payload is live.
for i, kind in enumerate(payloads(base).keys()):
    marker = base + "-python-%d" % i
    try:
        pickle.loads(payloads(marker)[kind])
    except Exception:
        pass
    for _ in range(100):
        if os.path.exists(marker): break
        time.sleep(0.05)
    live[kind] = os.path.exists(marker)
print(json.dumps({"live": live, "ours": {kind: data.hex() for kind, data in payloads(base + "-reflectkit").items()}}))`;
    const out = JSON.parse(runPython(code, [base])) as { live: Record<string, boolean>; ours: Record<string, string> };
    expect(Object.values(out.live)).toEqual(Object.keys(out.live).map(() => true)); // every payload really runs code in Python
    let cases = 0;
    for (const [kind, hex] of Object.entries(out.ours)) {
      const pickle = Uint8Array.from(Buffer.from(hex, 'hex'));
      const pth = pthWith(pickle);
      const path = join(dir, `evil-${cases}.pth`);
      writeFileSync(path, pth);
      const attempts: Array<[string, () => Promise<unknown>]> = [
        ['unpickle', async () => unpickle(pickle, { globals: STATE_DICT_GLOBALS })],
        ['parseStateDictPickle', async () => parseStateDictPickle(pickle)],
        ['decodePickledNpy', async () => decodePickledNpy(objectNpyWith(pickle))],
        ['decodePth', async () => decodePth(pth)],
        ['readPth', () => readPth(path)],
        ['readPthIndex', () => readPthIndex(path)],
      ];
      for (const [reader, attempt] of attempts) {
        cases++;
        const result = await outcomeAsync(attempt, ['PTH_UNSAFE']);
        expect(result.ok, `${kind} through ${reader}`).toBe(false);
        if (!result.ok) expect(result.error.received, `${kind} through ${reader}`).toBeTruthy();
      }
    }
    await new Promise((resolve) => setTimeout(resolve, 500)); // a Popen would have run by now
    expect(existsSync(`${base}-reflectkit`)).toBe(false);
    console.log(`[fuzz] live exploit pickles: ${Object.keys(out.ours).length} payloads × 6 readers = ${cases} cases, none ran`);
  });
});

describe('fuzzing .pth files', () => {
  it('every truncation and thousands of corruptions of real files (torch\'s and ours): the right tensors or PTH_FORMAT / PTH_UNSAFE', () => {
    let truncations = 0;
    for (const { name, bytes } of realPth) {
      for (let n = 0; n < bytes.length; n++) {
        truncations++;
        expect(outcome(() => decodePth(bytes.subarray(0, n)), PTH_CODES).ok, `${name} cut to ${n}`).toBe(false);
      }
    }
    console.log(`[fuzz] pth truncations of real files: ${truncations} cases`);
    const arb = fc.nat(realPth.length - 1).chain((k) => fc.tuple(fc.constant(k), corruptionArb(realPth[k]!.bytes.length)));
    runCounted('pth corruptions of real files (decodePth)', arb, 5000, ([k, c]) => {
      const file = realPth[k]!;
      const broken = corrupt(file.bytes, c);
      const result = outcome(() => decodePth(broken), PTH_CODES);
      if (unchanged(file.bytes, broken) || storageOnly(c, file.dataRegions, file.bytes.length)) {
        expect(result.ok, `${file.name} ${JSON.stringify(c)}`).toBe(true);
        if (result.ok) expect(layout(result.value)).toEqual(layout(file.tensors));
      }
      if (result.ok) expectWellFormed(result.value);
    });
  });

  it('agrees with torch.load(weights_only=True) on the damaged files it accepts, whenever torch reads them too', () => {
    const samples = fc.sample(fc.nat(realPth.length - 1).chain((k) => fc.tuple(fc.constant(k), corruptionArb(realPth[k]!.bytes.length))), { seed: SEED + 1, numRuns: 3000 });
    const accepted: Array<{ path: string; tensors: PthTensor[] }> = [];
    let attributes = 0;
    for (const [k, c] of samples) {
      const broken = corrupt(realPth[k]!.bytes, c);
      if (unchanged(realPth[k]!.bytes, broken)) continue;
      const result = outcome(() => decodePth(broken), PTH_CODES);
      if (!result.ok || accepted.length >= 250) continue;
      if (changedBytes(realPth[k]!.bytes, broken).some((at) => realPth[k]!.attributeBytes.has(at))) {
        // The file attributes of a directory entry: reflectkit ignores them (the bytes are intact and read as
        // they are); torch's zip reader takes an entry with the MS-DOS folder bit for something else and reads
        // other bytes. Not compared with torch; checked against the undamaged file instead.
        attributes++;
        expect(result.value.map((t) => [t.name, [...t.data].map(String)])).toEqual(realPth[k]!.tensors.map((t) => [t.name, [...t.data].map(String)]));
        continue;
      }
      const path = join(dir, `accepted-${accepted.length}.pth`);
      writeFileSync(path, broken);
      accepted.push({ path, tensors: result.value });
    }
    const code = `
import json, sys, torch
out = []
for path in json.load(sys.stdin):
    try:
        sd = torch.load(path, weights_only=True)
        out.append([[k, str(t.dtype).replace("torch.", ""), list(t.shape), t.double().float().contiguous().numpy().tobytes().hex()] for k, t in sd.items()])  # int64 → float64 → float32, as reflectkit
    except Exception as e:
        out.append(None)
print(json.dumps(out))`;
    const torch = JSON.parse(execFileSync(torchPython(), ['-c', code], { input: JSON.stringify(accepted.map((a) => a.path)), maxBuffer: 1 << 28 }).toString()) as Array<Array<[string, string, number[], string]> | null>;
    let both = 0;
    accepted.forEach(({ path, tensors }, i) => {
      const theirs = torch[i];
      if (theirs === null || theirs === undefined) return; // torch is stricter about fields reflectkit does not use (CRC, extra records, locations)
      both++;
      expect(tensors.map((t) => [t.name, t.dtype, t.shape]), path).toEqual(theirs.map(([name, dtype, shape]) => [name, dtype, shape]));
      tensors.forEach((t, j) => {
        const torchValues = new Float32Array(Uint8Array.from(Buffer.from(theirs[j]![3], 'hex')).buffer);
        if (!sameFloats(t.data, torchValues)) expect([...t.data].map(String), `${path} ${t.name}`).toEqual([...torchValues].map(String));
      });
    });
    console.log(`[fuzz] pth differential with torch.load: ${accepted.length} damaged files accepted, ${both} also read by torch, all identical (${attributes} with damaged file attributes, read as the undamaged file)`);
    expect(both).toBeGreaterThan(100);
  });

  it('refuses huge declared sizes (tensor shapes, strides, storage sizes, zip fields) without allocating them, and reads the consistent ones right', async () => {
    const growth = new BufferGrowth();
    const dtypes = { float32: 4, float64: 8, int32: 4 } as const;
    const dim = (small: number, huge: number) => fc.oneof({ weight: 6, arbitrary: fc.nat(small) }, fc.integer({ min: 0, max: huge }));
    const spec = fc
      .record({
        dtype: fc.constantFrom('float32' as const, 'float64' as const, 'int32' as const),
        shape: fc.array(dim(4, 2 ** 40), { maxLength: 3 }),
        strideRank: fc.oneof({ weight: 8, arbitrary: fc.constant(null) }, fc.nat(3)), // null: the shape's rank
        strides: fc.array(dim(5, 2 ** 40), { minLength: 3, maxLength: 3 }),
        offset: dim(3, 2 ** 50),
        numel: fc.oneof({ weight: 6, arbitrary: fc.constant(null) }, dim(24, 2 ** 50)), // null: the storage's size
        storageElements: fc.nat(24),
      })
      .map(({ strideRank, strides, numel, ...s }) => ({ ...s, stride: strides.slice(0, strideRank ?? s.shape.length), numel: numel ?? s.storageElements }));
    let read = 0;
    runCounted('pth declared sizes (decodePth)', spec, 3000, (s) => {
      const item = dtypes[s.dtype];
      const storage = Uint8Array.from({ length: s.storageElements * item }, (_, i) => (i * 37 + 11) & 0xff);
      const w = new PickleWriter().proto();
      w.global('collections', 'OrderedDict').tuple(0).reduce();
      w.string('t').global('torch._utils', '_rebuild_tensor_v2').mark();
      w.mark().string('storage').global('torch', { float32: 'FloatStorage', float64: 'DoubleStorage', int32: 'IntStorage' }[s.dtype]).string('0').string('cpu').int(s.numel).tuple(5).persistentId();
      w.int(s.offset).intTuple(s.shape).intTuple(s.stride).bool(false);
      w.global('collections', 'OrderedDict').tuple(0).reduce().tuple(6).reduce().setItem();
      const file = pthWith(w.finish(), [storage]);
      const result = growth.measure(() => outcome(() => decodePth(file), ['PTH_FORMAT']));
      // The rules, written out: same rank, every index inside the storage, no more elements than the storage, storage bytes as declared.
      const n = s.shape.reduce((a, b) => a * b, 1);
      const last = s.shape.includes(0) ? -1 : s.offset + s.shape.reduce((sum, d, i) => sum + (d - 1) * (s.stride[i] ?? 0), 0);
      const valid = s.stride.length === s.shape.length && (s.shape.includes(0) || (last < s.numel && n <= s.numel)) && s.numel === s.storageElements;
      expect(result.ok, JSON.stringify(s)).toBe(valid);
      if (!result.ok) return;
      read++;
      // Values by independent strided indexing.
      const view = new DataView(storage.buffer);
      const expected = new Float32Array(n);
      for (let flat = 0; flat < n; flat++) {
        let rest = flat;
        let index = s.offset;
        for (let d = s.shape.length - 1; d >= 0; d--) {
          index += (rest % s.shape[d]!) * s.stride[d]!;
          rest = Math.floor(rest / s.shape[d]!);
        }
        expected[flat] = s.dtype === 'float32' ? view.getFloat32(index * 4, true) : s.dtype === 'float64' ? view.getFloat64(index * 8, true) : view.getInt32(index * 4, true);
      }
      expect(Buffer.from(result.value[0]!.data.buffer).equals(Buffer.from(expected.buffer))).toBe(true);
    });
    expect(read).toBeGreaterThan(100);

    // Zip fields: sizes and offsets patched to 4 GiB and, through zip64 fields, to 2^50; the directory's count and size to their maximum.
    const good = encodePth(TENSORS);
    const entries = readZipDirectory(good);
    const central = Buffer.from(good).lastIndexOf(Buffer.from('archive/data/0')) - 46;
    const end = good.length - 22;
    const patches: Array<[string, (b: Buffer) => void]> = [
      ['an entry of 4 GiB', (b) => { b.writeUInt32LE(0xfffffffe, central + 20); b.writeUInt32LE(0xfffffffe, central + 24); }],
      ['an entry at offset 4 GiB', (b) => b.writeUInt32LE(0xfffffffe, central + 42)],
      ['an entry whose sizes point to a zip64 field it does not have', (b) => { b.writeUInt32LE(0xffffffff, central + 20); b.writeUInt32LE(0xffffffff, central + 24); }],
      ['65535 entries in a 4 GiB directory', (b) => { b.writeUInt16LE(0xfffe, end + 8); b.writeUInt16LE(0xfffe, end + 10); b.writeUInt32LE(0xfffffffe, end + 12); }],
      ['a directory at offset 4 GiB', (b) => b.writeUInt32LE(0xfffffffe, end + 16)],
    ];
    expect(Buffer.from(good).readUInt32LE(central)).toBe(0x02014b50);
    expect(entries.get('archive/data/0')!.size).toBe(60);
    for (const [what, patch] of patches) {
      const b = Buffer.from(good);
      patch(b);
      const path = join(dir, 'patched.pth');
      writeFileSync(path, b);
      expect(growth.measure(() => outcome(() => decodePth(b), ['PTH_FORMAT'])).ok, what).toBe(false);
      expect((await growth.measureAsync(() => outcomeAsync(() => readPth(path), ['PTH_FORMAT']))).ok, what).toBe(false);
    }
    // Regression: a stride-0 view of a 1-element storage declaring (10⁵, 10⁵) once reached `new Float32Array(10¹⁰)` (a RangeError).
    const w = new PickleWriter().proto();
    w.global('collections', 'OrderedDict').tuple(0).reduce().string('w').global('torch._utils', '_rebuild_tensor_v2').mark();
    w.mark().string('storage').global('torch', 'FloatStorage').string('0').string('cpu').int(1).tuple(5).persistentId();
    w.int(0).intTuple([100_000, 100_000]).intTuple([0, 0]).bool(false).global('collections', 'OrderedDict').tuple(0).reduce().tuple(6).reduce().setItem();
    const expanded = pthWith(w.finish(), [new Uint8Array(4)]);
    writeFileSync(join(dir, 'expanded.pth'), expanded);
    const refused = growth.measure(() => outcome(() => decodePth(expanded), ['PTH_FORMAT']));
    expect(refused.ok ? '' : refused.error.message).toMatch(/has 10000000000 elements, more than its storage's 1/);
    expect((await growth.measureAsync(() => outcomeAsync(() => readPth(join(dir, 'expanded.pth')), ['PTH_FORMAT']))).ok).toBe(false);
    console.log(`[fuzz] pth declared sizes: largest arrayBuffers growth ${(growth.max / MiB).toFixed(2)} MiB`);
    expect(growth.max).toBeLessThan(16 * MiB);
  });

  it('readPth / readPthIndex on damaged files on disk: the same answer as decodePth, under a per-case limit', async () => {
    const arb = fc.nat(realPth.length - 1).chain((k) => fc.tuple(fc.constant(k), corruptionArb(realPth[k]!.bytes.length)));
    let k = 0;
    await runCountedAsync('pth damaged files (readPth, readPthIndex)', arb, 300, async ([index, c]) => {
      const broken = corrupt(realPth[index]!.bytes, c);
      const path = join(dir, `damaged-${k++}.pth`);
      writeFileSync(path, broken);
      const memory = outcome(() => decodePth(broken), PTH_CODES);
      const file = await outcomeAsync(() => readPth(path), PTH_CODES);
      const index_ = await outcomeAsync(() => readPthIndex(path), PTH_CODES);
      expect(file.ok).toBe(memory.ok);
      expect(index_.ok).toBe(memory.ok);
      if (file.ok && memory.ok) {
        expect(layout(file.value)).toEqual(layout(memory.value));
        file.value.forEach((t, i) => expect(Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength).equals(Buffer.from(memory.value[i]!.data.buffer, memory.value[i]!.data.byteOffset, memory.value[i]!.data.byteLength))).toBe(true));
      }
      if (!file.ok && !memory.ok) expect(file.error.code).toBe(memory.error.code);
    });
  });
});

describe('fuzzing pickled .npy (normalization_stat.npy)', () => {
  it('every truncation and thousands of corruptions of numpy\'s own file: plain data (as numpy reads it) or an error', () => {
    const numpyFile = Uint8Array.from(Buffer.from(runPython([
      'import io, sys, numpy as np',
      'stats = {"nr": {"x": {"min": 0.0081, "max": 0.1975}, "y": {"min": -7.5, "max": 0.0}}, "sld": {"x": {"min": 0.0, "max": 450.25}, "y": {"min": -0.5, "max": 6.36}}}',
      'b = io.BytesIO(); np.save(b, stats, allow_pickle=True); sys.stdout.write(b.getvalue().hex())',
    ].join('\n')), 'hex'));
    const files = [numpyFile, encodePickledStatsNpy({ nr: { x: { min: 0.01, max: 0.2 }, y: { min: -8, max: 0 } }, sld: { x: { min: 0, max: 400 }, y: { min: -1, max: 7 } } })];
    const codes = ['NPY_FORMAT', 'PTH_FORMAT', 'PTH_UNSAFE'] as const;
    const originals = files.map((f) => decodePickledNpy(f));
    let truncations = 0;
    files.forEach((f) => {
      for (let n = 0; n < f.length; n++) {
        truncations++;
        expect(outcome(() => decodePickledNpy(f.subarray(0, n)), codes).ok).toBe(false);
      }
    });
    console.log(`[fuzz] pickled npy truncations: ${truncations} cases`);
    const accepted: Array<{ hex: string; value: unknown }> = [];
    const arb = fc.nat(files.length - 1).chain((k) => fc.tuple(fc.constant(k), corruptionArb(files[k]!.length)));
    runCounted('pickled npy corruptions (decodePickledNpy, NrSldScaler.fromPyreflect)', arb, 4000, ([k, c]) => {
      const broken = corrupt(files[k]!, c);
      const result = outcome(() => decodePickledNpy(broken), codes);
      if (unchanged(files[k]!, broken)) expect(result.ok && result.value).toEqual(originals[k]);
      if (!result.ok) return;
      // Plain data: a JSON round trip (NaN and ±Inf aside) gives the same thing back.
      expect(JSON.parse(JSON.stringify(result.value, (_, v) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v)))).toEqual(
        JSON.parse(JSON.stringify(result.value, (_, v) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v))),
      );
      const scaler = outcome(() => NrSldScaler.fromPyreflect(result.value), ['INVALID_CONFIG']);
      if (scaler.ok) expect(scaler.value.toPyreflect()).toEqual(result.value);
      if (accepted.length < 200 && !unchanged(files[k]!, broken)) accepted.push({ hex: Buffer.from(broken).toString('hex'), value: result.value });
    });
    // numpy reads each accepted damaged file to the same object.
    const code = `
import io, json, math, sys, numpy as np
def plain(v):
    if isinstance(v, dict): return {str(k): plain(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)): return [plain(x) for x in v]
    if isinstance(v, (bool, np.bool_)): return bool(v)
    if isinstance(v, (int, float, np.floating, np.integer)):
        f = float(v)
        return f if math.isfinite(f) else repr(f)
    return v
out = []
for h in json.load(sys.stdin):
    try: out.append(plain(np.load(io.BytesIO(bytes.fromhex(h)), allow_pickle=True).item()))
    except Exception as e: out.append({"numpy error": str(e)})
print(json.dumps(out))`;
    const numpy = JSON.parse(execFileSync(pythonPath(), ['-c', code], { input: JSON.stringify(accepted.map((a) => a.hex)), maxBuffer: 1 << 28 }).toString()) as unknown[];
    const ours = accepted.map((a) => JSON.parse(JSON.stringify(a.value, (_, v) => (typeof v === 'number' ? (Number.isFinite(v) ? v : String(v === Infinity ? 'inf' : v === -Infinity ? '-inf' : 'nan')) : v))));
    expect(numpy).toEqual(ours);
    console.log(`[fuzz] pickled npy differential with np.load(allow_pickle=True): ${accepted.length} damaged files, identical`);
  });

  it('regression: a pickle whose shared references expand to 2⁶⁰ values is refused, not walked forever', () => {
    // ((…), (…)) sixty levels deep, each level the previous tuple twice via the memo: 300 bytes, 2⁶⁰ leaves.
    const ops: number[] = [0x80, 3, 0x29, 0x71, 0]; // EMPTY_TUPLE, BINPUT 0
    for (let level = 1; level <= 60; level++) ops.push(0x68, level - 1, 0x86, 0x71, level); // BINGET, TUPLE2 (the tuple twice), BINPUT
    const inner = Uint8Array.from(ops.slice(2)); // the object's ops, without PROTO
    const stats = encodePickledStatsNpy({ nr: { x: { min: 0, max: 1 }, y: { min: 0, max: 1 } }, sld: { x: { min: 0, max: 1 }, y: { min: 0, max: 1 } } });
    // Splice the list in place of the stats dict: from its EMPTY_DICT (after `False, EMPTY_LIST`) to its last
    // SETITEMS, before `APPEND, TUPLE, BUILD, STOP`.
    const at = Buffer.from(stats).indexOf(Buffer.from([0x89, 0x5d, 0x7d])) + 2;
    const tailAt = Buffer.from(stats).lastIndexOf(Buffer.from([0x75, 0x61, 0x74, 0x62, 0x2e]));
    expect([at > 2, tailAt > at]).toEqual([true, true]);
    const spliced = Buffer.concat([stats.subarray(0, at), inner, stats.subarray(tailAt + 1)]);
    const result = outcome(() => decodePickledNpy(spliced), ['PTH_FORMAT']);
    expect(result.ok ? '' : result.error.message).toMatch(/more than 1000000 values/);
  });
});
