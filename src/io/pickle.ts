import { ReflectkitError } from '../errors.js';

/**
 * A safe reader of Python pickles: a stack machine over the opcodes that plain data and a PyTorch
 * state_dict need, which never runs anything. A global (`GLOBAL`, `STACK_GLOBAL`) is looked up in a
 * whitelist that the caller passes; its handler is our own TypeScript, which turns the call's arguments
 * into inert values. Any other global, and every opcode that builds or calls objects by itself (`INST`,
 * `OBJ`, `NEWOBJ`, extensions…), is a `PTH_UNSAFE` error naming it and its byte offset; a byte that is no
 * pickle opcode, a truncated argument or an inconsistent stack is `PTH_FORMAT`. Lengths are checked
 * against the bytes that are left before anything is allocated.
 *
 * Written from the pickle format as CPython's `pickletools` documents it (protocols 2–5).
 */

/** A Python value as the unpickler produces it: primitives, containers, whitelisted globals and handler results. */
export type PickleValue =
  | null
  | boolean
  | number
  | bigint
  | string
  | Uint8Array
  | PickleList
  | PickleTuple
  | PickleDict
  | PickleGlobal
  | PickleObject;

/** A Python list. */
export interface PickleList {
  /** Discriminant: `'list'`. */
  kind: 'list';
  /** The elements, in order. */
  items: PickleValue[];
}

/** A Python tuple. */
export interface PickleTuple {
  /** Discriminant: `'tuple'`. */
  kind: 'tuple';
  /** The elements, in order. */
  items: readonly PickleValue[];
}

/** Keys a dict may have here (hashable primitives). */
export type PickleKey = string | number | bigint | boolean | null;

/** A Python dict (or `collections.OrderedDict`, when a handler makes one), in insertion order. */
export interface PickleDict {
  /** Discriminant: `'dict'`. */
  kind: 'dict';
  /** Key → value, in insertion order. */
  entries: Map<PickleKey, PickleValue>;
  /** The class, when not a plain dict (e.g. `collections.OrderedDict`). */
  type?: string;
  /** State set by `BUILD` (an OrderedDict's attributes, e.g. a state_dict's `_metadata`), when a build hook allows it. */
  state?: PickleValue;
}

/** A whitelisted global (a class or function, by name only). */
export interface PickleGlobal {
  /** Discriminant: `'global'`. */
  kind: 'global';
  /** Python module, e.g. `collections` or `torch._utils`. */
  module: string;
  /** Attribute name in that module, e.g. `OrderedDict`. */
  name: string;
}

/** What a global's handler returned: an inert description of the object Python would have built. */
export interface PickleObject {
  /** Discriminant: `'object'`. */
  kind: 'object';
  /** Dotted name of what it stands for, e.g. `torch.Tensor`. */
  type: string;
  /** The handler's inert description of the object (its shape depends on `type`). */
  value: unknown;
}

/** Where an opcode is, for handlers' errors. */
export interface PickleContext {
  /** Byte offset of the opcode in the pickle. */
  offset: number;
  /** Name of the pickle for messages (e.g. `archive/data.pkl`). */
  source: string;
}

/** What a whitelisted global may do. A global without `call` may only be passed around (a class marker). */
export interface PickleGlobalHandler {
  /** `REDUCE`: returns an inert value for `global(*args)`; throw a ReflectkitError to refuse the arguments. */
  call?: (args: readonly PickleValue[], context: PickleContext) => PickleValue;
}

/** The whitelist: module → name → handler. Anything not listed is refused. */
export type PickleGlobals = Readonly<Record<string, Readonly<Record<string, PickleGlobalHandler>>>>;

/** Options of {@link unpickle}. */
export interface UnpickleOptions {
  /** Globals that may appear; everything else is `PTH_UNSAFE`. */
  globals: PickleGlobals;
  /** `BINPERSID`: resolves a persistent id (torch: a storage reference). Without it, `BINPERSID` is refused. */
  persistentLoad?: (pid: PickleValue, context: PickleContext) => PickleValue;
  /** `BUILD`: applies `state` to `target` and returns the result. Without it, `BUILD` is refused. */
  build?: (target: PickleValue, state: PickleValue, context: PickleContext) => PickleValue;
  /** Name of the pickle in error messages (default `pickle`). */
  source?: string;
}

/** Opcodes, by byte, with their pickletools names (for messages). */
const OPCODE_NAMES: Record<number, string> = {
  0x28: 'MARK', 0x2e: 'STOP', 0x30: 'POP', 0x31: 'POP_MARK', 0x32: 'DUP', 0x46: 'FLOAT', 0x49: 'INT', 0x4a: 'BININT',
  0x4b: 'BININT1', 0x4c: 'LONG', 0x4d: 'BININT2', 0x4e: 'NONE', 0x50: 'PERSID', 0x51: 'BINPERSID', 0x52: 'REDUCE',
  0x53: 'STRING', 0x54: 'BINSTRING', 0x55: 'SHORT_BINSTRING', 0x56: 'UNICODE', 0x58: 'BINUNICODE', 0x61: 'APPEND',
  0x62: 'BUILD', 0x63: 'GLOBAL', 0x64: 'DICT', 0x7d: 'EMPTY_DICT', 0x65: 'APPENDS', 0x67: 'GET', 0x68: 'BINGET',
  0x69: 'INST', 0x6a: 'LONG_BINGET', 0x6c: 'LIST', 0x5d: 'EMPTY_LIST', 0x6f: 'OBJ', 0x70: 'PUT', 0x71: 'BINPUT',
  0x72: 'LONG_BINPUT', 0x73: 'SETITEM', 0x74: 'TUPLE', 0x29: 'EMPTY_TUPLE', 0x75: 'SETITEMS', 0x47: 'BINFLOAT',
  0x80: 'PROTO', 0x81: 'NEWOBJ', 0x82: 'EXT1', 0x83: 'EXT2', 0x84: 'EXT4', 0x85: 'TUPLE1', 0x86: 'TUPLE2', 0x87: 'TUPLE3',
  0x88: 'NEWTRUE', 0x89: 'NEWFALSE', 0x8a: 'LONG1', 0x8b: 'LONG4', 0x42: 'BINBYTES', 0x43: 'SHORT_BINBYTES',
  0x8c: 'SHORT_BINUNICODE', 0x8d: 'BINUNICODE8', 0x8e: 'BINBYTES8', 0x8f: 'EMPTY_SET', 0x90: 'ADDITEMS', 0x91: 'FROZENSET',
  0x92: 'NEWOBJ_EX', 0x93: 'STACK_GLOBAL', 0x94: 'MEMOIZE', 0x95: 'FRAME', 0x96: 'BYTEARRAY8', 0x97: 'NEXT_BUFFER',
  0x98: 'READONLY_BUFFER',
};

/** Longest module or attribute name a `GLOBAL` line may have (Python's are far shorter). */
const MAX_GLOBAL_LINE = 256;

const MARK = Symbol('mark');
type StackItem = PickleValue | typeof MARK;

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** A short description of a value for messages. */
export function describePickleValue(value: PickleValue | undefined): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'None';
  if (typeof value === 'boolean') return value ? 'True' : 'False';
  if (typeof value === 'bigint' || (typeof value === 'number' && Number.isInteger(value))) return `int ${String(value)}`;
  if (typeof value === 'number') return `float ${String(value)}`;
  if (typeof value === 'string') return `str ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)}`;
  if (value instanceof Uint8Array) return `bytes of length ${value.length}`;
  switch (value.kind) {
    case 'list':
      return `list of ${value.items.length}`;
    case 'tuple':
      return `tuple of ${value.items.length}`;
    case 'dict':
      return `${value.type ?? 'dict'} of ${value.entries.size}`;
    case 'global':
      return `global ${value.module}.${value.name}`;
    case 'object':
      return value.type;
  }
}

function isHashable(value: PickleValue): value is PickleKey {
  return value === null || typeof value === 'string' || typeof value === 'number' || typeof value === 'bigint' || typeof value === 'boolean';
}

/**
 * Unpickles `bytes` with only the globals in `options.globals`. Nothing is ever executed: the result is
 * plain data plus whatever inert values the handlers return.
 *
 * @throws ReflectkitError `PTH_UNSAFE` for a global outside the whitelist (named with its offset), an
 *   opcode that would build or call objects, or a `BINPERSID`/`BUILD` without a hook; `PTH_FORMAT` for
 *   malformed or truncated input.
 */
export function unpickle(bytes: Uint8Array, options: UnpickleOptions): PickleValue {
  const source = options.source ?? 'pickle';
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const end = bytes.length;
  let pos = 0;
  let at = 0; // offset of the opcode being run
  let op = 0;
  const stack: StackItem[] = [];
  const marks: number[] = [];
  const memo = new Map<number, PickleValue>();

  const opName = (code: number): string => OPCODE_NAMES[code] ?? `0x${code.toString(16).padStart(2, '0')}`;
  const formatError = (message: string, expected?: string): ReflectkitError =>
    new ReflectkitError('PTH_FORMAT', `${message} (opcode ${opName(op)} at byte ${at} of ${source})`, {
      path: source,
      ...(expected === undefined ? {} : { expected }),
      received: opName(op),
    });
  const unsafe = (message: string, received: string): ReflectkitError =>
    new ReflectkitError('PTH_UNSAFE', `${message} at byte ${at} of ${source}; reflectkit never runs code from a pickle`, {
      path: source,
      expected: 'plain data and the whitelisted globals a state_dict needs',
      received,
    });
  const need = (n: number): void => {
    if (n > end - pos) throw formatError(`the pickle ends inside an argument: ${n} bytes needed, ${end - pos} left`, 'a complete pickle');
  };
  const u8 = (): number => {
    need(1);
    return bytes[pos++]!;
  };
  const u16 = (): number => {
    need(2);
    const v = view.getUint16(pos, true);
    pos += 2;
    return v;
  };
  const u32 = (): number => {
    need(4);
    const v = view.getUint32(pos, true);
    pos += 4;
    return v;
  };
  const u64 = (): number => {
    need(8);
    const lo = view.getUint32(pos, true);
    const hi = view.getUint32(pos + 4, true);
    pos += 8;
    // Any length above 2^53 is beyond every buffer; the caller's bounds check then refuses it.
    return hi >= 0x200000 ? Number.MAX_SAFE_INTEGER : hi * 0x100000000 + lo;
  };
  const take = (n: number): Uint8Array => {
    need(n);
    const out = bytes.subarray(pos, pos + n);
    pos += n;
    return out;
  };
  const text = (n: number): string => {
    const raw = take(n);
    try {
      return utf8.decode(raw);
    } catch {
      throw formatError('a string is not valid UTF-8');
    }
  };
  const line = (): string => {
    const limit = Math.min(end, pos + MAX_GLOBAL_LINE + 1);
    let i = pos;
    while (i < limit && bytes[i] !== 0x0a) i++;
    if (i >= limit) throw formatError(`a GLOBAL name is not ended by a newline within ${MAX_GLOBAL_LINE} bytes`);
    const raw = bytes.subarray(pos, i);
    pos = i + 1;
    for (const c of raw) if (c < 0x20 || c > 0x7e) throw formatError('a GLOBAL name holds non-ASCII bytes');
    return String.fromCharCode(...raw);
  };
  const pop = (): PickleValue => {
    const v = stack.pop();
    if (v === undefined) throw formatError('the stack is empty');
    if (v === MARK) throw formatError('a MARK is where a value was expected');
    return v;
  };
  const top = (): PickleValue => {
    const v = stack[stack.length - 1];
    if (v === undefined) throw formatError('the stack is empty');
    if (v === MARK) throw formatError('a MARK is where a value was expected');
    return v;
  };
  const popMark = (): PickleValue[] => {
    const m = marks.pop();
    if (m === undefined) throw formatError('no MARK to pop to');
    const items = stack.splice(m);
    items.shift(); // the MARK itself
    if (items.some((v) => v === MARK)) throw formatError('a MARK inside a marked run');
    return items as PickleValue[];
  };
  const push = (v: PickleValue): void => {
    stack.push(v);
  };
  const resolveGlobal = (module: string, name: string): PickleGlobal => {
    const names = Object.hasOwn(options.globals, module) ? options.globals[module] : undefined;
    if (names === undefined || !Object.hasOwn(names, name)) throw unsafe(`global ${module}.${name} is not allowed`, `${module}.${name}`);
    return { kind: 'global', module, name };
  };
  const setItems = (dict: PickleValue, items: PickleValue[]): void => {
    if (dict === null || typeof dict !== 'object' || dict instanceof Uint8Array || dict.kind !== 'dict') {
      throw formatError(`SETITEM(S) on a ${describePickleValue(dict)}, not a dict`);
    }
    if (items.length % 2 !== 0) throw formatError('SETITEMS with an odd number of values');
    for (let i = 0; i < items.length; i += 2) {
      const key = items[i]!;
      if (!isHashable(key)) throw formatError(`a dict key is a ${describePickleValue(key)}`, 'str, int, float, bool or None keys');
      dict.entries.set(key, items[i + 1]!);
    }
  };
  const appendItems = (list: PickleValue, items: PickleValue[]): void => {
    if (list === null || typeof list !== 'object' || list instanceof Uint8Array || list.kind !== 'list') {
      throw formatError(`APPEND(S) on a ${describePickleValue(list)}, not a list`);
    }
    for (const item of items) list.items.push(item);
  };
  const context = (): PickleContext => ({ offset: at, source });

  for (;;) {
    if (pos >= end) throw formatError('the pickle ends without STOP', 'a STOP opcode at the end');
    at = pos;
    op = bytes[pos++]!;
    switch (op) {
      case 0x80: {
        // PROTO
        const version = u8();
        if (version < 2 || version > 5) throw formatError(`pickle protocol ${version}`, 'protocol 2 to 5');
        break;
      }
      case 0x95: {
        // FRAME: a length hint only; it must not claim more than is there.
        const n = u64();
        if (n > end - pos) throw formatError(`a FRAME of ${n} bytes with ${end - pos} left`);
        break;
      }
      case 0x2e: // STOP
        if (marks.length > 0) throw formatError('STOP inside a marked run');
        return pop();
      case 0x28: // MARK
        marks.push(stack.length);
        stack.push(MARK);
        break;
      case 0x63: {
        // GLOBAL "module\nname\n"
        const module = line();
        const name = line();
        push(resolveGlobal(module, name));
        break;
      }
      case 0x93: {
        // STACK_GLOBAL
        const name = pop();
        const module = pop();
        if (typeof module !== 'string' || typeof name !== 'string') throw formatError('STACK_GLOBAL needs two strings');
        push(resolveGlobal(module, name));
        break;
      }
      case 0x71: // BINPUT
        memo.set(u8(), top());
        break;
      case 0x72: // LONG_BINPUT
        memo.set(u32(), top());
        break;
      case 0x94: // MEMOIZE
        memo.set(memo.size, top());
        break;
      case 0x68:
      case 0x6a: {
        // BINGET, LONG_BINGET
        const index = op === 0x68 ? u8() : u32();
        const v = memo.get(index);
        if (v === undefined) throw formatError(`memo ${index} was never stored`);
        push(v);
        break;
      }
      case 0x7d: // EMPTY_DICT
        push({ kind: 'dict', entries: new Map() });
        break;
      case 0x5d: // EMPTY_LIST
        push({ kind: 'list', items: [] });
        break;
      case 0x29: // EMPTY_TUPLE
        push({ kind: 'tuple', items: [] });
        break;
      case 0x58: // BINUNICODE
        push(text(u32()));
        break;
      case 0x8c: // SHORT_BINUNICODE
        push(text(u8()));
        break;
      case 0x8d: // BINUNICODE8
        push(text(u64()));
        break;
      case 0x42: // BINBYTES (copied with Uint8Array's slice: a Node Buffer's would share the input's memory)
        push(Uint8Array.prototype.slice.call(take(u32())));
        break;
      case 0x43: // SHORT_BINBYTES
        push(Uint8Array.prototype.slice.call(take(u8())));
        break;
      case 0x4a: // BININT
        need(4);
        push(view.getInt32(pos, true));
        pos += 4;
        break;
      case 0x4b: // BININT1
        push(u8());
        break;
      case 0x4d: // BININT2
        push(u16());
        break;
      case 0x8a: {
        // LONG1: n little-endian two's-complement bytes
        const raw = take(u8());
        let v = 0n;
        for (let i = raw.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(raw[i]!);
        if (raw.length > 0 && raw[raw.length - 1]! >= 0x80) v -= 1n << BigInt(8 * raw.length);
        push(v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v);
        break;
      }
      case 0x47: // BINFLOAT (big-endian)
        need(8);
        push(view.getFloat64(pos, false));
        pos += 8;
        break;
      case 0x88: // NEWTRUE
        push(true);
        break;
      case 0x89: // NEWFALSE
        push(false);
        break;
      case 0x4e: // NONE
        push(null);
        break;
      case 0x74: // TUPLE
        push({ kind: 'tuple', items: popMark() });
        break;
      case 0x85:
      case 0x86:
      case 0x87: {
        // TUPLE1..3
        const n = op - 0x84;
        const items: PickleValue[] = [];
        for (let i = 0; i < n; i++) items.unshift(pop());
        push({ kind: 'tuple', items });
        break;
      }
      case 0x73: {
        // SETITEM
        const value = pop();
        const key = pop();
        setItems(top(), [key, value]);
        break;
      }
      case 0x75: {
        // SETITEMS
        const items = popMark();
        setItems(top(), items);
        break;
      }
      case 0x61: {
        // APPEND
        const value = pop();
        appendItems(top(), [value]);
        break;
      }
      case 0x65: {
        // APPENDS
        const items = popMark();
        appendItems(top(), items);
        break;
      }
      case 0x52: {
        // REDUCE: callable(*args), only for a whitelisted global whose handler accepts the call.
        const args = pop();
        const callable = pop();
        if (callable === null || typeof callable !== 'object' || callable instanceof Uint8Array || callable.kind !== 'global') {
          throw unsafe(`REDUCE on a ${describePickleValue(callable)}`, describePickleValue(callable));
        }
        if (args === null || typeof args !== 'object' || args instanceof Uint8Array || args.kind !== 'tuple') {
          throw formatError(`REDUCE with ${describePickleValue(args)} as arguments`, 'a tuple');
        }
        const handler = options.globals[callable.module]![callable.name]!;
        if (handler.call === undefined) throw unsafe(`${callable.module}.${callable.name} may not be called`, `${callable.module}.${callable.name}`);
        push(handler.call(args.items, context()));
        break;
      }
      case 0x51: {
        // BINPERSID
        const pid = pop();
        if (options.persistentLoad === undefined) throw unsafe('a persistent id (BINPERSID) where none is expected', describePickleValue(pid));
        push(options.persistentLoad(pid, context()));
        break;
      }
      case 0x62: {
        // BUILD
        const state = pop();
        const target = pop();
        if (options.build === undefined) throw unsafe(`BUILD (__setstate__) on a ${describePickleValue(target)}`, describePickleValue(target));
        push(options.build(target, state, context()));
        break;
      }
      default: {
        const name = OPCODE_NAMES[op];
        if (name === undefined) throw formatError(`byte 0x${op.toString(16).padStart(2, '0')} is not a pickle opcode`, 'a pickle');
        throw unsafe(`opcode ${name} is not allowed`, name);
      }
    }
  }
}

/** `value` as a tuple's items, or `undefined`. */
export function tupleItems(value: PickleValue | undefined): readonly PickleValue[] | undefined {
  return value !== null && typeof value === 'object' && !(value instanceof Uint8Array) && value.kind === 'tuple' ? value.items : undefined;
}

/** `value` as a dict, or `undefined`. */
export function asDict(value: PickleValue | undefined): PickleDict | undefined {
  return value !== null && typeof value === 'object' && !(value instanceof Uint8Array) && value.kind === 'dict' ? value : undefined;
}

/** `value` as a global, or `undefined`. */
export function asGlobal(value: PickleValue | undefined): PickleGlobal | undefined {
  return value !== null && typeof value === 'object' && !(value instanceof Uint8Array) && value.kind === 'global' ? value : undefined;
}

/** `value` as a handler object of type `type`, or `undefined`. */
export function asObject(value: PickleValue | undefined, type: string): PickleObject | undefined {
  return value !== null && typeof value === 'object' && !(value instanceof Uint8Array) && value.kind === 'object' && value.type === type ? value : undefined;
}

/**
 * Incremental writer of opcodes {@link unpickle} reads: protocol 2 (what `torch.save` writes), plus protocol 3's
 * bytes (`SHORT_BINBYTES`, `BINBYTES`) for numpy's object `.npy` (`encodePickledStatsNpy`).
 */
export class PickleWriter {
  private parts: Uint8Array[] = [];
  private current = new Uint8Array(4096);
  private length = 0;

  private ensure(n: number): void {
    if (this.length + n <= this.current.length) return;
    this.parts.push(this.current.subarray(0, this.length));
    this.current = new Uint8Array(Math.max(4096, n));
    this.length = 0;
  }

  private byte(b: number): this {
    this.ensure(1);
    this.current[this.length++] = b;
    return this;
  }

  private bytes(b: Uint8Array): this {
    this.ensure(b.length);
    this.current.set(b, this.length);
    this.length += b.length;
    return this;
  }

  private u32(v: number): this {
    this.ensure(4);
    new DataView(this.current.buffer).setUint32(this.length, v, true);
    this.length += 4;
    return this;
  }

  /** `PROTO n` (default 2; 3 when the pickle holds bytes). */
  proto(version: 2 | 3 = 2): this {
    return this.byte(0x80).byte(version);
  }

  /** `GLOBAL module name`. */
  global(module: string, name: string): this {
    return this.byte(0x63).bytes(new TextEncoder().encode(`${module}\n${name}\n`));
  }

  /** `MARK`. */
  mark(): this {
    return this.byte(0x28);
  }

  /** `BINUNICODE`. */
  string(s: string): this {
    const b = new TextEncoder().encode(s);
    return this.byte(0x58).u32(b.length).bytes(b);
  }

  /** `SHORT_BINBYTES` (up to 255 bytes) or `BINBYTES`: Python `bytes` (protocol 3). */
  binBytes(b: Uint8Array): this {
    if (b.length < 0x100) return this.byte(0x43).byte(b.length).bytes(b);
    return this.byte(0x42).u32(b.length).bytes(b);
  }

  /** The shortest of `BININT1`, `BININT2`, `BININT` and `LONG1` for an integer. */
  int(v: number): this {
    if (!Number.isSafeInteger(v)) throw new ReflectkitError('BAD_SHAPE', `${v} is not an integer`, { expected: 'a safe integer' });
    if (v >= 0 && v < 0x100) return this.byte(0x4b).byte(v);
    if (v >= 0 && v < 0x10000) return this.byte(0x4d).byte(v & 0xff).byte(v >> 8);
    if (v >= -0x80000000 && v < 0x80000000) {
      this.byte(0x4a);
      this.ensure(4);
      new DataView(this.current.buffer).setInt32(this.length, v, true);
      this.length += 4;
      return this;
    }
    let big = BigInt(v);
    const out: number[] = [];
    for (;;) {
      out.push(Number(big & 0xffn));
      big >>= 8n;
      const sign = out[out.length - 1]! & 0x80;
      if ((big === 0n && sign === 0) || (big === -1n && sign !== 0)) break;
    }
    return this.byte(0x8a).byte(out.length).bytes(Uint8Array.from(out));
  }

  /** `BINFLOAT`. */
  float(v: number): this {
    this.byte(0x47);
    this.ensure(8);
    new DataView(this.current.buffer).setFloat64(this.length, v, false);
    this.length += 8;
    return this;
  }

  /** `NEWTRUE` / `NEWFALSE`. */
  bool(v: boolean): this {
    return this.byte(v ? 0x88 : 0x89);
  }

  /** `NONE`. */
  none(): this {
    return this.byte(0x4e);
  }

  /**
   * Closes a tuple of the `n` values written before: `EMPTY_TUPLE`, `TUPLE1`–`TUPLE3`, or for `n` > 3 `TUPLE`,
   * which needs a {@link mark} before the values.
   */
  tuple(n: number): this {
    if (n === 0) return this.byte(0x29);
    if (n <= 3) return this.byte(0x84 + n);
    return this.byte(0x74);
  }

  /** A tuple of integers (shapes, strides). */
  intTuple(values: readonly number[]): this {
    if (values.length > 3) this.mark();
    for (const v of values) this.int(v);
    return this.tuple(values.length);
  }

  /** `EMPTY_LIST`. */
  emptyList(): this {
    return this.byte(0x5d);
  }

  /** `APPEND` (the value written last to the list below it). */
  append(): this {
    return this.byte(0x61);
  }

  /** `EMPTY_DICT`. */
  emptyDict(): this {
    return this.byte(0x7d);
  }

  /** `SETITEM`. */
  setItem(): this {
    return this.byte(0x73);
  }

  /** `SETITEMS` (pairs since the last {@link mark}). */
  setItems(): this {
    return this.byte(0x75);
  }

  /** `REDUCE`. */
  reduce(): this {
    return this.byte(0x52);
  }

  /** `BINPERSID`. */
  persistentId(): this {
    return this.byte(0x51);
  }

  /** `BUILD`. */
  build(): this {
    return this.byte(0x62);
  }

  /** `STOP`, and the whole pickle. */
  finish(): Uint8Array {
    this.byte(0x2e);
    const parts = [...this.parts, this.current.subarray(0, this.length)];
    const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    let offset = 0;
    for (const p of parts) {
      out.set(p, offset);
      offset += p.length;
    }
    return out;
  }
}
