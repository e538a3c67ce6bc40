import { ReflectkitError } from '../errors.js';
import { npyHeaderFromDict, npyHeaderLength } from './npy.js';
import { PickleWriter, asObject, describePickleValue, tupleItems, unpickle, type PickleContext, type PickleGlobals, type PickleValue } from './pickle.js';

/**
 * pyreflect's normalisation statistics, `{nr: {x: {min, max}, y: {min, max}}, sld: {...}}` (Q in Å⁻¹, log10 R,
 * z in Å, SLD in 10⁻⁶ Å⁻²). Declared here by shape, as `preprocess/`'s `PyreflectStats`, because `io/` does not
 * import `preprocess/`.
 */
export interface PyreflectStatsLayout {
  /** Ranges of the reflectivity curves `(N, 2, Q)`. */
  nr: {
    /** Range of row 0: Q, Å⁻¹. */
    x: {
      /** Smallest value. */
      min: number;
      /** Largest value. */
      max: number;
    };
    /** Range of row 1: log10 R. */
    y: {
      /** Smallest value. */
      min: number;
      /** Largest value. */
      max: number;
    };
  };
  /** Ranges of the SLD profiles `(N, 2, P)`. */
  sld: {
    /** Range of row 0: z, Å. */
    x: {
      /** Smallest value. */
      min: number;
      /** Largest value. */
      max: number;
    };
    /** Range of row 1: SLD, 10⁻⁶ Å⁻². */
    y: {
      /** Smallest value. */
      min: number;
      /** Largest value. */
      max: number;
    };
  };
}

/**
 * `.npy` files that hold one pickled Python object (`np.save(path, obj, allow_pickle=True)` of a dict):
 * pyreflect's `normalization_stat.npy` is `{"nr": {"x": {"min", "max"}, "y": …}, "sld": …}` saved that way.
 * numpy reads these by unpickling, which can run any code; here the pickle goes through the whitelisting
 * unpickler with only the numpy globals such a file needs, which build inert descriptions, so the result
 * is plain data (dicts, lists, numbers, strings) or a `PTH_UNSAFE` error. {@link encodePickledStatsNpy}
 * writes such a file for pyreflect.
 */

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59];
/** The header numpy writes for a 0-d object array (`np.save` of a dict). */
const OBJECT_HEADER = /^\{'descr': '\|O', 'fortran_order': False, 'shape': \(\), \}[ \n]*$/; // padding: spaces and a newline (not \s: U+00A0 is no padding to numpy)

interface DtypeValue {
  name: string;
  order: string;
}

interface ArrayValue {
  dtype?: DtypeValue;
  shape?: number[];
  items?: readonly PickleValue[];
}

const NUMPY_DTYPES = new Set(['O8', 'f8', 'f4', 'i8', 'i4', 'b1']);

function bad(message: string, context: PickleContext, expected?: string): ReflectkitError {
  return new ReflectkitError('PTH_FORMAT', `${message} (at byte ${context.offset} of ${context.source})`, { path: context.source, ...(expected === undefined ? {} : { expected }) });
}

/** `_reconstruct(ndarray, (0,), b'b')`: an empty array description, filled by BUILD. */
const reconstruct = {
  call: (args: readonly PickleValue[], context: PickleContext): PickleValue => {
    const cls = args[0];
    if (args.length !== 3 || cls === null || typeof cls !== 'object' || cls instanceof Uint8Array || cls.kind !== 'global' || cls.name !== 'ndarray') {
      throw bad('_reconstruct of something other than numpy.ndarray', context);
    }
    return { kind: 'object', type: 'numpy.ndarray', value: {} satisfies ArrayValue };
  },
};

/** `scalar(dtype, bytes)`: a numpy number from its raw bytes. */
const scalar = {
  call: (args: readonly PickleValue[], context: PickleContext): PickleValue => {
    const dtype = asObject(args[0], 'numpy.dtype')?.value as DtypeValue | undefined;
    const raw = args[1];
    if (args.length !== 2 || dtype === undefined || !(raw instanceof Uint8Array)) throw bad('numpy scalar without a dtype and bytes', context);
    const little = dtype.order !== '>';
    const sizes: Record<string, number> = { f8: 8, f4: 4, i8: 8, i4: 4, b1: 1 };
    const size = sizes[dtype.name];
    if (size === undefined || raw.length !== size) throw bad(`a numpy scalar of dtype ${dtype.name} with ${raw.length} bytes`, context, 'float64, float32, int64, int32 or bool');
    const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    switch (dtype.name) {
      case 'f8':
        return view.getFloat64(0, little);
      case 'f4':
        return view.getFloat32(0, little);
      case 'i8': {
        const v = view.getBigInt64(0, little);
        return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
      }
      case 'i4':
        return view.getInt32(0, little);
      default:
        return raw[0] !== 0;
    }
  },
};

/** numpy's names for the same functions before and after numpy 2 moved `numpy.core` to `numpy._core`. */
export const NUMPY_OBJECT_GLOBALS: PickleGlobals = {
  'numpy._core.multiarray': { _reconstruct: reconstruct, scalar },
  'numpy.core.multiarray': { _reconstruct: reconstruct, scalar },
  numpy: {
    ndarray: {},
    dtype: {
      call: (args, context) => {
        const name = args[0];
        if (typeof name !== 'string' || !NUMPY_DTYPES.has(name)) throw bad(`numpy dtype ${describePickleValue(name)}`, context, [...NUMPY_DTYPES].join(', '));
        return { kind: 'object', type: 'numpy.dtype', value: { name, order: '|' } satisfies DtypeValue };
      },
    },
  },
};

/** BUILD on a dtype (its byte order) or on the array (shape, dtype, items); nothing else. */
function buildNumpy(target: PickleValue, state: PickleValue, context: PickleContext): PickleValue {
  const items = tupleItems(state);
  const dtype = asObject(target, 'numpy.dtype');
  if (dtype !== undefined && items !== undefined && items.length === 8 && typeof items[1] === 'string') {
    (dtype.value as DtypeValue).order = items[1];
    return target;
  }
  const array = asObject(target, 'numpy.ndarray');
  if (array !== undefined && items !== undefined && items.length === 5) {
    const value = array.value as ArrayValue;
    const shape = tupleItems(items[1]);
    const arrayDtype = asObject(items[2], 'numpy.dtype')?.value as DtypeValue | undefined;
    const data = items[4];
    if (shape === undefined || shape.length !== 0 || arrayDtype?.name !== 'O8' || items[3] !== false) {
      throw bad('a pickled array that is not a 0-d object array', context, 'np.save of one Python object (a dict)');
    }
    if (data === null || typeof data !== 'object' || data instanceof Uint8Array || data.kind !== 'list' || data.items.length !== 1) {
      throw bad('a 0-d object array without its one item', context);
    }
    value.dtype = arrayDtype;
    value.shape = [];
    value.items = data.items;
    return target;
  }
  throw new ReflectkitError('PTH_UNSAFE', `BUILD (__setstate__) on a ${describePickleValue(target)} at byte ${context.offset} of ${context.source}`, {
    path: context.source,
    expected: 'BUILD only on numpy dtypes and arrays',
    received: describePickleValue(target),
  });
}

/**
 * Most values {@link toJson} expands. The memo lets a pickle of a few hundred bytes reference one list from
 * two places at each of 60 levels (2⁶⁰ values once expanded, a hang); real stats hold a dozen values.
 */
const MAX_JSON_VALUES = 1_000_000;

/** Plain JSON from unpickled data: dicts with string keys, lists and tuples, numbers, strings, bools, None. */
function toJson(value: PickleValue, path: string, depth: number, budget = { left: MAX_JSON_VALUES }): unknown {
  if (depth > 64) throw new ReflectkitError('PTH_FORMAT', 'nesting deeper than 64', { path });
  if (--budget.left < 0) {
    throw new ReflectkitError('PTH_FORMAT', `the object expands to more than ${MAX_JSON_VALUES} values (shared references)`, { path, expected: 'plain data such as a stats dict' });
  }
  if (value === null || typeof value === 'boolean' || typeof value === 'number' || typeof value === 'string') return value;
  if (typeof value === 'bigint') {
    if (value < BigInt(Number.MIN_SAFE_INTEGER) || value > BigInt(Number.MAX_SAFE_INTEGER)) throw new ReflectkitError('PTH_FORMAT', `integer ${value} is too large`, { path });
    return Number(value);
  }
  if (value instanceof Uint8Array) throw new ReflectkitError('PTH_FORMAT', 'bytes inside the object', { path, expected: 'dicts, lists, numbers and strings' });
  switch (value.kind) {
    case 'list':
    case 'tuple':
      return value.items.map((v, i) => toJson(v, `${path}[${i}]`, depth + 1, budget));
    case 'dict':
      return Object.fromEntries(
        [...value.entries].map(([k, v]) => {
          if (typeof k !== 'string') throw new ReflectkitError('PTH_FORMAT', `a dict key is ${describePickleValue(k)}`, { path, expected: 'string keys' });
          return [k, toJson(v, path === '' ? k : `${path}.${k}`, depth + 1, budget)];
        }),
      );
    default:
      throw new ReflectkitError('PTH_FORMAT', `a ${describePickleValue(value)} inside the object`, { path, expected: 'dicts, lists, numbers and strings' });
  }
}

/**
 * The object of a `.npy` file written by `np.save(path, obj, allow_pickle=True)` (a 0-d object array),
 * as plain JSON, what `np.load(path, allow_pickle=True).item()` gives in Python, without running the
 * pickle: only numpy's array, dtype and scalar reconstruction are allowed, as inert data.
 *
 * @throws ReflectkitError `NPY_FORMAT` when the file is not a 0-d object `.npy`, `PTH_UNSAFE` when its
 *   pickle names anything else, `PTH_FORMAT` when it holds something other than plain data.
 */
export function decodePickledNpy(bytes: Uint8Array, path = ''): unknown {
  if (bytes.length < 12 || MAGIC.some((b, i) => bytes[i] !== b)) {
    throw new ReflectkitError('NPY_FORMAT', 'not a .npy file (bad magic string)', { path, expected: 'a file starting with \\x93NUMPY' });
  }
  const headerEnd = npyHeaderLength(bytes);
  if (headerEnd === undefined || headerEnd > bytes.length || headerEnd > 65536) throw new ReflectkitError('NPY_FORMAT', 'the header is truncated', { path });
  const text = new TextDecoder('latin1').decode(bytes.subarray(bytes[6] === 1 ? 10 : 12, headerEnd));
  if (!OBJECT_HEADER.test(text)) {
    throw new ReflectkitError('NPY_FORMAT', `header ${JSON.stringify(text.trim().slice(0, 100))} is not that of one pickled object`, {
      path,
      expected: "{'descr': '|O', 'fortran_order': False, 'shape': ()} (np.save of a dict)",
    });
  }
  const root = unpickle(bytes.subarray(headerEnd), { source: path === '' ? 'pickle' : path, globals: NUMPY_OBJECT_GLOBALS, build: buildNumpy });
  const array = asObject(root, 'numpy.ndarray')?.value as ArrayValue | undefined;
  if (array?.items === undefined) throw new ReflectkitError('PTH_FORMAT', `the pickle holds a ${describePickleValue(root)}`, { path, expected: 'a 0-d object array' });
  return toJson(array.items[0]!, '', 0);
}

/**
 * pyreflect's `normalization_stat.npy` from its stats dict: the bytes `np.save(path, stats, allow_pickle=True)`
 * writes in substance, so that pyreflect's `np.load(path, allow_pickle=True).item()` gives
 * `{"nr": {"x": {"min", "max"}, "y": …}, "sld": …}` with Python floats, as pyreflect's `preprocess()` builds it
 * (`float(np.min(…))`). A format 1.0 `.npy` with dtype `|O` and shape `()`, whose data is a protocol-3 pickle of
 * the 0-d object array: `numpy._core.multiarray._reconstruct(numpy.ndarray, (0,), b'b')`, then `BUILD` with
 * `(1, (), dtype('O8'), False, [stats])`, the calls numpy's pickler makes (numpy 2 writes them in protocol 4,
 * with framing and memo opcodes; protocol 3 is the lowest that holds the `b'b'` argument without `_codecs`).
 * Every number is written as a float (`BINFLOAT`, exact). {@link decodePickledNpy} reads it back.
 *
 * @throws ReflectkitError `INVALID_CONFIG` when a min or max is not a finite number.
 */
export function encodePickledStatsNpy(stats: PyreflectStatsLayout): Uint8Array {
  const w = new PickleWriter().proto(3);
  // _reconstruct(ndarray, (0,), b'b'): an empty array that BUILD fills.
  w.global('numpy._core.multiarray', '_reconstruct').global('numpy', 'ndarray').int(0).tuple(1).binBytes(Uint8Array.of(0x62)).tuple(3).reduce();
  // BUILD state: (version 1, shape (), dtype, Fortran order False, [the object]).
  w.mark().int(1).tuple(0);
  // dtype('O8', False, True) with numpy's state for it: (3, '|', None, None, None, -1, -1, 63).
  w.global('numpy', 'dtype').string('O8').bool(false).bool(true).tuple(3).reduce();
  w.mark().int(3).string('|').none().none().none().int(-1).int(-1).int(63).tuple(8).build();
  w.bool(false).emptyList();
  w.emptyDict().mark();
  for (const part of ['nr', 'sld'] as const) {
    w.string(part).emptyDict().mark();
    for (const axis of ['x', 'y'] as const) {
      w.string(axis).emptyDict().mark();
      for (const end of ['min', 'max'] as const) {
        const value: unknown = (stats[part] as Partial<PyreflectStatsLayout['nr']> | undefined)?.[axis]?.[end];
        if (typeof value !== 'number' || !Number.isFinite(value)) {
          throw new ReflectkitError('INVALID_CONFIG', `a normalisation statistic is ${String(value)}`, {
            path: `${part}.${axis}.${end}`,
            expected: 'a finite number',
            received: value,
          });
        }
        w.string(end).float(value);
      }
      w.setItems();
    }
    w.setItems();
  }
  w.setItems().append().tuple(5).build();
  const pickle = w.finish();
  const header = npyHeaderFromDict("{'descr': '|O', 'fortran_order': False, 'shape': (), }");
  const out = new Uint8Array(header.length + pickle.length);
  out.set(header, 0);
  out.set(pickle, header.length);
  return out;
}
