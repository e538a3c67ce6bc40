import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ReflectkitError } from '../../src/errors.js';
import { PickleWriter, unpickle, type PickleGlobals, type PickleValue } from '../../src/io/pickle.js';
import { STATE_DICT_GLOBALS } from '../../src/io/pth.js';
import { thrown } from '../helpers/errors.js';
import { torchPthJson } from '../helpers/torch.js';

const NONE: PickleGlobals = {};
const hex = (h: string) => Uint8Array.from(Buffer.from(h, 'hex'));
const bytes = (...parts: Array<number | string>) =>
  Uint8Array.from(parts.flatMap((p) => (typeof p === 'number' ? [p] : [...Buffer.from(p, 'latin1')])));
const marker = () => join(tmpdir(), `reflectkit-pwned-${randomBytes(6).toString('hex')}`);

/** Python-ish plain JS of an unpickled value, for comparisons. */
function plain(value: PickleValue): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (value instanceof Uint8Array) return { bytes: Array.from(value) };
  switch (value.kind) {
    case 'list':
      return value.items.map(plain);
    case 'tuple':
      return { tuple: value.items.map(plain) };
    case 'dict':
      return { dict: [...value.entries].map(([k, v]) => [k, plain(v)]) };
    default:
      return value;
  }
}

describe('unpickle', () => {
  it('reads plain data as Python pickles it, protocols 2 to 5', () => {
    const expected = {
      dict: [
        ['s', 'héllo ✓'],
        ['i', [0, 255, 256, 65535, 65536, -1, 2 ** 31 - 1, -(2 ** 31), 2 ** 31, 2 ** 62, -(2n ** 70n)]],
        ['f', [0.5, -1e-300, Infinity]],
        ['t', { tuple: [1, { tuple: [2, 3] }, { tuple: [] }] }],
        ['n', null],
        ['yes', true],
        ['no', false],
        ['nested', { dict: [['a', [{ dict: [['b', 1]] }]], [3, 'int key']] }],
      ],
    };
    const pickles = torchPthJson<Record<string, string>>('pickle');
    for (const protocol of [2, 3, 4, 5]) {
      const data = hex(pickles[protocol]!);
      // 2^62 is not a safe integer: it comes back as a bigint, like -2^70.
      const got = plain(unpickle(data, { globals: NONE })) as { dict: Array<[string, unknown]> };
      const ints = got.dict.find(([k]) => k === 'i')![1] as unknown[];
      expect(ints[9]).toBe(2n ** 62n);
      ints[9] = 2 ** 62;
      const want = protocol >= 3 ? { dict: [...expected.dict.slice(0, 4), ['b', { bytes: [0, 255] }], ...expected.dict.slice(4)] } : expected;
      expect(got, `protocol ${protocol}`).toEqual(want);
    }
  });

  it("refuses a __reduce__ that calls os.system, before anything runs, naming the global and its offset", () => {
    const file = marker();
    const pickles = torchPthJson<Record<string, string>>('evil-pickle', file);
    for (const protocol of [2, 4]) {
      const data = hex(pickles[protocol]!);
      const error = thrown(() => unpickle(data, { globals: STATE_DICT_GLOBALS, source: 'evil.pkl' }));
      expect(error.code).toBe('PTH_UNSAFE');
      // CPython pickles os.system as posix.system on Linux.
      expect(error.message).toMatch(/global posix\.system is not allowed at byte \d+ of evil\.pkl/);
      expect(error.received).toBe('posix.system');
      expect(existsSync(file)).toBe(false);
    }
  });

  it('refuses globals outside the whitelist, also names that are JavaScript object keys', () => {
    const global = (module: string, name: string) => bytes(0x80, 2, 0x63, `${module}\n${name}\n`, 0x29, 0x52, 0x2e);
    for (const [module, name] of [
      ['builtins', 'eval'],
      ['collections', 'defaultdict'],
      ['torch', 'load'],
      ['collections', '__proto__'],
      ['__proto__', 'OrderedDict'],
      ['collections', 'constructor'],
      ['torch._utils', 'toString'],
    ] as const) {
      const error = thrown(() => unpickle(global(module, name), { globals: STATE_DICT_GLOBALS }));
      expect(error.code).toBe('PTH_UNSAFE');
      expect(error.message).toContain(`global ${module}.${name} is not allowed at byte 2 `);
    }
    // A whitelisted class marker may be named but not called.
    const call = thrown(() => unpickle(global('torch', 'FloatStorage'), { globals: STATE_DICT_GLOBALS }));
    expect(call).toMatchObject({ code: 'PTH_UNSAFE', message: expect.stringContaining('torch.FloatStorage may not be called') });
    // The allowed one works.
    expect(unpickle(global('collections', 'OrderedDict'), { globals: STATE_DICT_GLOBALS })).toMatchObject({ kind: 'dict', type: 'collections.OrderedDict' });
  });

  it('refuses opcodes that build or call objects, and BUILD / BINPERSID without a hook', () => {
    const cases: Array<[Uint8Array, string]> = [
      [bytes(0x80, 2, 0x28, 0x69, 'os\nsystem\n', 0x2e), 'INST'],
      [bytes(0x80, 2, 0x4e, 0x29, 0x81, 0x2e), 'NEWOBJ'],
      [bytes(0x80, 2, 0x28, 0x4e, 0x6f, 0x2e), 'OBJ'],
      [bytes(0x80, 2, 0x82, 1, 0x2e), 'EXT1'],
      [bytes(0x80, 2, 0x7d, 0x7d, 0x62, 0x2e), 'BUILD'],
      [bytes(0x80, 2, 0x4e, 0x51, 0x2e), 'persistent id'],
      [bytes(0x80, 2, 0x49, '1\n', 0x2e), 'INT'],
      [bytes(0x80, 2, 0x4e, 0x4e, 0x52, 0x2e), 'REDUCE on a None'],
    ];
    for (const [data, name] of cases) {
      const error = thrown(() => unpickle(data, { globals: STATE_DICT_GLOBALS }));
      expect(error.code, name).toBe('PTH_UNSAFE');
      expect(error.message, name).toContain(name);
    }
  });

  it('reports malformed input as PTH_FORMAT: bytes that are no opcode, an empty stack, a missing memo, no STOP', () => {
    expect(thrown(() => unpickle(bytes(0x80, 2, 0xff), { globals: NONE }))).toMatchObject({ code: 'PTH_FORMAT', message: expect.stringContaining('0xff is not a pickle opcode') });
    expect(thrown(() => unpickle(bytes(0x80, 2, 0x2e), { globals: NONE }))).toMatchObject({ code: 'PTH_FORMAT', message: expect.stringContaining('stack is empty') });
    expect(thrown(() => unpickle(bytes(0x80, 2, 0x68, 7, 0x2e), { globals: NONE }))).toMatchObject({ code: 'PTH_FORMAT', message: expect.stringContaining('memo 7 was never stored') });
    expect(thrown(() => unpickle(bytes(0x80, 2, 0x4e), { globals: NONE }))).toMatchObject({ code: 'PTH_FORMAT', message: expect.stringContaining('without STOP') });
    expect(thrown(() => unpickle(bytes(0x80, 9, 0x4e, 0x2e), { globals: NONE }))).toMatchObject({ code: 'PTH_FORMAT', message: expect.stringContaining('protocol 9') });
    expect(thrown(() => unpickle(bytes(0x80, 2, 0x4e, 0x4e, 0x4e, 0x73, 0x2e), { globals: NONE }))).toMatchObject({ code: 'PTH_FORMAT', message: expect.stringContaining('not a dict') });
    expect(thrown(() => unpickle(bytes(0x80, 2, 0x7d, 0x28, 0x4e, 0x75, 0x2e), { globals: NONE }))).toMatchObject({ code: 'PTH_FORMAT', message: expect.stringContaining('odd number') });
    expect(thrown(() => unpickle(bytes(0x80, 2, 0x58, 2, 0, 0, 0, 0xc3, 0x28, 0x2e), { globals: NONE }))).toMatchObject({ code: 'PTH_FORMAT', message: expect.stringContaining('not valid UTF-8') });
  });

  it('refuses every truncation of a real pickle with PTH_FORMAT', () => {
    const data = hex(torchPthJson<Record<string, string>>('pickle')[2]!);
    expect(() => unpickle(data, { globals: NONE })).not.toThrow();
    for (let n = 0; n < data.length; n++) {
      const error = thrown(() => unpickle(data.subarray(0, n), { globals: NONE }));
      expect(error.code, `first ${n} bytes`).toBe('PTH_FORMAT');
    }
  });

  it('checks declared lengths against the bytes left before allocating', () => {
    const huge: Array<[Uint8Array, RegExp]> = [
      [bytes(0x80, 2, 0x58, 0xff, 0xff, 0xff, 0xff, 'abc'), /4294967295 bytes needed, 3 left/], // BINUNICODE 4 GiB
      [bytes(0x80, 2, 0x42, 0xff, 0xff, 0xff, 0x7f, 'abc'), /2147483647 bytes needed, 3 left/], // BINBYTES
      [bytes(0x80, 4, 0x8d, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f, 'abc'), /bytes needed, 3 left/], // BINUNICODE8 2^63
      [bytes(0x80, 4, 0x95, 0, 0, 0, 0, 0, 0, 0, 1, 0x4e, 0x2e), /a FRAME of \d+ bytes with 2 left/], // FRAME 2^56
      [bytes(0x80, 2, 0x8a, 0xff, 1, 2), /255 bytes needed, 2 left/], // LONG1
      [bytes(0x80, 2, 0x8c, 200, 'ab'), /200 bytes needed, 2 left/], // SHORT_BINUNICODE
    ];
    for (const [data, message] of huge) {
      const error = thrown(() => unpickle(data, { globals: NONE }));
      expect(error.code).toBe('PTH_FORMAT');
      expect(error.message).toMatch(message);
    }
    // A GLOBAL line longer than any Python name is refused without scanning on.
    const long = bytes(0x80, 2, 0x63, 'x'.repeat(100_000), '\nOrderedDict\n', 0x2e);
    expect(thrown(() => unpickle(long, { globals: STATE_DICT_GLOBALS }))).toMatchObject({ code: 'PTH_FORMAT', message: expect.stringContaining('not ended by a newline within 256 bytes') });
  });

  it('never throws anything but a ReflectkitError on random input', () => {
    let seed = 12345;
    const next = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) >>> 24;
    for (let k = 0; k < 3000; k++) {
      const data = Uint8Array.from({ length: 2 + (next() % 40) }, next);
      data[0] = 0x80;
      data[1] = 2;
      try {
        unpickle(data, { globals: STATE_DICT_GLOBALS });
      } catch (error) {
        expect(error, `input ${Buffer.from(data).toString('hex')}`).toBeInstanceOf(ReflectkitError);
        expect(['PTH_FORMAT', 'PTH_UNSAFE']).toContain((error as ReflectkitError).code);
      }
    }
  });
});

describe('PickleWriter', () => {
  it('writes integers, floats, strings and tuples that Python and unpickle read back', () => {
    const ints = [0, 1, 255, 256, 65535, 65536, -1, -129, 2 ** 31 - 1, -(2 ** 31), 2 ** 31, -(2 ** 31) - 1, 2 ** 40, -(2 ** 40), Number.MAX_SAFE_INTEGER];
    const w = new PickleWriter().proto().mark();
    for (const v of ints) w.int(v);
    w.float(0.1).float(-Infinity).string('ünïcode ✓').bool(true).bool(false).none().intTuple([]).intTuple([7]).intTuple([1, 2, 3, 4, 5]);
    const data = w.tuple(ints.length + 9).finish();
    const value = unpickle(data, { globals: NONE }) as { kind: 'tuple'; items: PickleValue[] };
    expect(value.items.slice(0, ints.length)).toEqual(ints);
    expect(value.items.slice(ints.length, ints.length + 6)).toEqual([0.1, -Infinity, 'ünïcode ✓', true, false, null]);
    expect(plain(value.items[ints.length + 8]!)).toEqual({ tuple: [1, 2, 3, 4, 5] });
    const python = torchPthJson<string>('loads', Buffer.from(data).toString('hex'));
    expect(python).toBe(
      `(${ints.join(', ')}, 0.1, -inf, 'ünïcode ✓', True, False, None, (), (7,), (1, 2, 3, 4, 5))`,
    );
  });

  it('writes protocol 3 bytes (SHORT_BINBYTES, BINBYTES) and lists that Python and unpickle read back', () => {
    const long = new Uint8Array(300).fill(0x61);
    const data = new PickleWriter().proto(3).emptyList().binBytes(Uint8Array.of(0x62)).append().binBytes(long).append().binBytes(new Uint8Array(0)).append().finish();
    expect(Array.from(data.subarray(0, 7))).toEqual([0x80, 3, 0x5d, 0x43, 1, 0x62, 0x61]);
    expect(Array.from(data.subarray(7, 12))).toEqual([0x42, 44, 1, 0, 0]);
    expect(plain(unpickle(data, { globals: NONE }))).toEqual([{ bytes: [0x62] }, { bytes: Array.from(long) }, { bytes: [] }]);
    expect(torchPthJson<string>('loads', Buffer.from(data).toString('hex'))).toBe(`[b'b', b'${'a'.repeat(300)}', b'']`);
  });
});
