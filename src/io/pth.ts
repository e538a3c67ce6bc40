import { ReflectkitError } from '../errors.js';
import {
  asDict,
  asGlobal,
  asObject,
  describePickleValue,
  PickleWriter,
  tupleItems,
  unpickle,
  type PickleContext,
  type PickleDict,
  type PickleGlobals,
  type PickleValue,
} from './pickle.js';
import { readZipDirectory, storedZip, type LocatedEntry, type StoredZipEntry } from './zip.js';

/**
 * PyTorch's `.pth` files as `torch.save(model.state_dict(), path)` writes them: a zip archive with the
 * pickled dict of tensors (`<archive>/data.pkl`), one file of raw bytes per storage (`<archive>/data/<key>`),
 * `<archive>/byteorder` and `<archive>/version`. Only state_dicts are read: a dict of tensors, unpickled
 * with a whitelist (see `pickle.ts`), so a file can never run code here. See docs/pth.md.
 */

/** Element types of the storages reflectkit reads. */
export type PthDtype = 'float32' | 'float64' | 'float16' | 'bfloat16' | 'int64' | 'int32';

/** A tensor read from a `.pth`: its values converted to float32, in C order. */
export interface PthTensor {
  /** The state_dict key, e.g. `layers.0.weight`. */
  name: string;
  /** The element type in the file (values of every type come back as float32; int64 is exact up to 2^24). */
  dtype: PthDtype;
  /** Dimensions, outermost first (e.g. `[out, in, kernel]` for a Conv1d weight); `[]` for a scalar. */
  shape: number[];
  /** The values as float32, C order; length = product of `shape`. */
  data: Float32Array;
}

/** Values given in pieces (e.g. a transpose computed block by block), `length` elements in all. */
export interface PthChunkedData {
  /** Total number of elements over all pieces (= product of the tensor's shape). */
  length: number;
  /** Yields the values in C order; each piece must be a new array (it is written after it is yielded). */
  chunks(): Iterable<Float32Array>;
}

/** A tensor to write. `int64` values must be integers (BatchNorm's `num_batches_tracked`). */
export interface PthTensorInput {
  /** The state_dict key, e.g. `layers.0.weight`. */
  name: string;
  /** Element type written (default `float32`). */
  dtype?: 'float32' | 'int64';
  /** Dimensions, outermost first; `[]` for a scalar. */
  shape: readonly number[];
  /** The values in C order, whole or in pieces; length = product of `shape`. */
  data: Float32Array | PthChunkedData;
}

/** A state_dict's `_metadata` (module prefix → `{version}`), as `nn.Module.state_dict()` attaches it. */
export type PthMetadata = ReadonlyArray<readonly [string, Readonly<Record<string, number>>]>;

/** Options of the writer. */
export interface PthWriteOptions {
  /** The archive's top folder (torch: the file name's stem; default `archive`, torch's name for buffers). */
  archiveName?: string;
  /** `_metadata` to attach, as torch does (module versions; BatchNorm is version 2). */
  metadata?: PthMetadata;
}

/** A storage a tensor points into. */
export interface PthStorageRef {
  /** Its file: `<archive>/data/<key>`. */
  key: string;
  /** Element type of the storage (from its torch storage class). */
  dtype: PthDtype;
  /** Elements in the storage. */
  numel: number;
  /** Device it was saved from (`cpu`, `cuda:0`); the bytes are the same. */
  location: string;
}

/** A tensor as the pickle describes it: where its values are. */
export interface PthTensorRecord {
  /** The state_dict key, e.g. `layers.0.weight`. */
  name: string;
  /** Element type (that of its storage). */
  dtype: PthDtype;
  /** Dimensions, outermost first; `[]` for a scalar. */
  shape: number[];
  /** Step per dimension, in elements (same length as `shape`). */
  stride: number[];
  /** Offset into the storage, in elements. */
  storageOffset: number;
  /** The storage the values are read from. */
  storage: PthStorageRef;
}

/** What `data.pkl` of a state_dict holds. */
export interface PthIndex {
  /** The tensors, in the state_dict's order. */
  tensors: PthTensorRecord[];
  /** `_metadata`, if present (module prefix → fields). */
  metadata?: Array<[string, Record<string, number>]>;
}

/** Bytes per element and the storage class torch pickles for each dtype. */
const DTYPES: Record<PthDtype, { bytes: number; storage: string }> = {
  float32: { bytes: 4, storage: 'FloatStorage' },
  float64: { bytes: 8, storage: 'DoubleStorage' },
  float16: { bytes: 2, storage: 'HalfStorage' },
  bfloat16: { bytes: 2, storage: 'BFloat16Storage' },
  int64: { bytes: 8, storage: 'LongStorage' },
  int32: { bytes: 4, storage: 'IntStorage' },
};
const STORAGE_DTYPES = new Map<string, PthDtype>(Object.entries(DTYPES).map(([dtype, { storage }]) => [storage, dtype as PthDtype]));

/** Bytes per element of a dtype. */
export function pthItemSize(dtype: PthDtype): number {
  return DTYPES[dtype].bytes;
}

function formatError(message: string, context: PickleContext | string, expected?: string): ReflectkitError {
  const source = typeof context === 'string' ? context : context.source;
  const where = typeof context === 'string' ? '' : ` (at byte ${context.offset} of ${context.source})`;
  return new ReflectkitError('PTH_FORMAT', `${message}${where}`, { path: source, ...(expected === undefined ? {} : { expected }) });
}

function nonNegativeInt(value: PickleValue | undefined): number | undefined {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0 ? value : undefined;
}

function intTuple(value: PickleValue | undefined, what: string, context: PickleContext): number[] {
  const items = tupleItems(value);
  if (items === undefined) throw formatError(`${what} is a ${describePickleValue(value)}`, context, 'a tuple of integers');
  return items.map((v) => {
    const n = nonNegativeInt(v);
    if (n === undefined) throw formatError(`${what} holds ${describePickleValue(v)}`, context, 'non-negative integers');
    return n;
  });
}

interface TensorRefValue {
  storage: PthStorageRef;
  storageOffset: number;
  shape: number[];
  stride: number[];
}

const TENSOR = 'torch.Tensor';
const STORAGE = 'torch.storage';

/** `_rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad, backward_hooks[, metadata])`, checked, as a description. */
function rebuildTensor(args: readonly PickleValue[], context: PickleContext): PickleValue {
  if (args.length < 6 || args.length > 7) throw formatError(`_rebuild_tensor_v2 with ${args.length} arguments`, context, '6 or 7');
  const storage = asObject(args[0], STORAGE)?.value as PthStorageRef | undefined;
  if (storage === undefined) throw formatError(`_rebuild_tensor_v2 on a ${describePickleValue(args[0])}`, context, 'a storage');
  const storageOffset = nonNegativeInt(args[1]);
  if (storageOffset === undefined) throw formatError('a tensor\'s storage offset is not a non-negative integer', context);
  const shape = intTuple(args[2], 'a tensor\'s size', context);
  const stride = intTuple(args[3], 'a tensor\'s stride', context);
  if (stride.length !== shape.length) throw formatError(`size (${shape.join(', ')}) and stride (${stride.join(', ')}) differ in length`, context);
  if (typeof args[4] !== 'boolean') throw formatError('requires_grad is not a bool', context);
  const hooks = asDict(args[5]);
  if (hooks === undefined || hooks.entries.size > 0) throw formatError('a tensor has backward hooks', context, 'an empty OrderedDict');
  // The largest element index must lie inside the storage, and the tensor may not hold more elements than
  // its storage: an expanded view (stride 0) of a 1-element storage declaring (10⁵, 10⁵) would otherwise
  // make the reader allocate 40 GB for a file of a few bytes.
  if (!shape.includes(0)) {
    let last = storageOffset;
    for (let d = 0; d < shape.length; d++) last += (shape[d]! - 1) * stride[d]!;
    if (!Number.isSafeInteger(last) || last >= storage.numel) {
      throw formatError(`a tensor of size (${shape.join(', ')}) reaches element ${last} of a storage of ${storage.numel}`, context);
    }
    const n = elementCount(shape);
    if (n > storage.numel) {
      throw formatError(`a tensor of size (${shape.join(', ')}) has ${n} elements, more than its storage's ${storage.numel}`, context, 'a tensor no larger than its storage (save tensor.contiguous())');
    }
  }
  return { kind: 'object', type: TENSOR, value: { storage, storageOffset, shape, stride } satisfies TensorRefValue };
}

/** The globals a state_dict's pickle may name, and what each turns into. Nothing else is allowed. */
export const STATE_DICT_GLOBALS: PickleGlobals = {
  collections: {
    OrderedDict: {
      call: (args, context) => {
        if (args.length !== 0) throw formatError('OrderedDict(...) with arguments', context, 'OrderedDict()');
        return { kind: 'dict', type: 'collections.OrderedDict', entries: new Map() };
      },
    },
  },
  'torch._utils': {
    _rebuild_tensor_v2: { call: rebuildTensor },
    _rebuild_parameter: {
      call: (args, context) => {
        if (args.length !== 3 || asObject(args[0], TENSOR) === undefined) throw formatError('_rebuild_parameter without a tensor', context);
        return args[0]!;
      },
    },
  },
  // Storage classes: markers of the element type inside persistent ids; never called.
  torch: Object.fromEntries([...STORAGE_DTYPES.keys()].map((name) => [name, {}])),
};

/** `BUILD` on an OrderedDict with a dict of attributes (a state_dict's `_metadata`): recorded, nothing else. */
function buildStateDict(target: PickleValue, state: PickleValue, context: PickleContext): PickleValue {
  const dict = asDict(target);
  if (dict?.type === 'collections.OrderedDict' && asDict(state) !== undefined) {
    dict.state = state;
    return dict;
  }
  throw new ReflectkitError('PTH_UNSAFE', `BUILD (__setstate__) on a ${describePickleValue(target)} at byte ${context.offset} of ${context.source}`, {
    path: context.source,
    expected: 'BUILD only to attach _metadata to a state_dict',
    received: describePickleValue(target),
  });
}

function readMetadata(dict: PickleDict): Array<[string, Record<string, number>]> | undefined {
  const attributes = asDict(dict.state);
  const metadata = asDict(attributes?.entries.get('_metadata'));
  if (metadata === undefined) return undefined;
  const out: Array<[string, Record<string, number>]> = [];
  for (const [key, value] of metadata.entries) {
    const fields = asDict(value);
    if (typeof key !== 'string' || fields === undefined) continue;
    const record: Record<string, number> = {};
    for (const [k, v] of fields.entries) if (typeof k === 'string' && typeof v === 'number') record[k] = v;
    out.push([key, record]);
  }
  return out;
}

/**
 * Reads a state_dict's `data.pkl`: the names, types, shapes and storage locations of its tensors, in
 * order. Runs nothing; only {@link STATE_DICT_GLOBALS} may appear.
 *
 * @throws ReflectkitError `PTH_UNSAFE` for anything outside the whitelist, `PTH_FORMAT` for anything
 *   that is not a dict of tensors.
 */
export function parseStateDictPickle(pickle: Uint8Array, source = 'data.pkl'): PthIndex {
  const storages = new Map<string, PthStorageRef>();
  const root = unpickle(pickle, {
    source,
    globals: STATE_DICT_GLOBALS,
    build: buildStateDict,
    persistentLoad: (pid, context) => {
      const items = tupleItems(pid);
      if (items?.length !== 5 || items[0] !== 'storage') throw formatError(`a persistent id ${describePickleValue(pid)}`, context, "('storage', type, key, location, numel)");
      const type = asGlobal(items[1]);
      const dtype = type?.module === 'torch' ? STORAGE_DTYPES.get(type.name) : undefined;
      if (dtype === undefined) throw formatError(`a storage of type ${describePickleValue(items[1])}`, context, `one of torch.${[...STORAGE_DTYPES.keys()].join(', torch.')}`);
      const [key, location] = [items[2], items[3]];
      const numel = nonNegativeInt(items[4]);
      if (typeof key !== 'string' || !/^[0-9A-Za-z_.-]{1,64}$/.test(key) || typeof location !== 'string' || numel === undefined) {
        throw formatError('a storage reference with a bad key, location or size', context);
      }
      const known = storages.get(key);
      if (known !== undefined && (known.dtype !== dtype || known.numel !== numel)) throw formatError(`storage ${key} is referenced with two types or sizes`, context);
      const storage = known ?? { key, dtype, numel, location };
      storages.set(key, storage);
      return { kind: 'object', type: STORAGE, value: storage };
    },
  });
  const dict = asDict(root);
  if (dict === undefined) {
    throw formatError(`the file holds a ${describePickleValue(root)}`, source, 'a state_dict (torch.save(model.state_dict(), path))');
  }
  const tensors: PthTensorRecord[] = [];
  for (const [key, value] of dict.entries) {
    if (typeof key !== 'string') throw formatError(`a key is ${describePickleValue(key)}`, source, 'string keys');
    const ref = asObject(value, TENSOR)?.value as TensorRefValue | undefined;
    if (ref === undefined) {
      throw formatError(`${key} holds ${describePickleValue(value)}, not a tensor`, source, 'a state_dict: a dict of tensors (torch.save(model.state_dict(), path))');
    }
    tensors.push({ name: key, dtype: ref.storage.dtype, shape: ref.shape, stride: ref.stride, storageOffset: ref.storageOffset, storage: ref.storage });
  }
  const metadata = readMetadata(dict);
  return { tensors, ...(metadata === undefined ? {} : { metadata }) };
}

/** C-order strides of a shape. */
export function contiguousStrides(shape: readonly number[]): number[] {
  const stride = new Array<number>(shape.length);
  let s = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    stride[d] = s;
    s *= shape[d]!;
  }
  return stride;
}

/** Elements of a shape. */
export function elementCount(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** Whether a tensor's values are one run of its storage in C order. */
export function isContiguous(record: Pick<PthTensorRecord, 'shape' | 'stride'>): boolean {
  const expected = contiguousStrides(record.shape);
  return record.shape.every((n, d) => n <= 1 || record.stride[d] === expected[d]);
}

/** The run of storage elements a tensor reads: `[start, start + count)`. */
export function storageSpan(record: PthTensorRecord): { start: number; count: number } {
  if (record.shape.includes(0)) return { start: record.storageOffset, count: 0 };
  let last = record.storageOffset;
  for (let d = 0; d < record.shape.length; d++) last += (record.shape[d]! - 1) * record.stride[d]!;
  return { start: record.storageOffset, count: last - record.storageOffset + 1 };
}

/** float16 bits → number. */
function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exponent = (h >> 10) & 0x1f;
  const fraction = h & 0x3ff;
  if (exponent === 0) return sign * fraction * 2 ** -24;
  if (exponent === 0x1f) return fraction === 0 ? sign * Infinity : NaN;
  return sign * (1 + fraction / 1024) * 2 ** (exponent - 15);
}

const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * Converts `count` elements of `dtype` from `bytes` into `out[outOffset…]` as float32.
 * `littleEndian` is the file's byte order.
 */
export function convertElements(dtype: PthDtype, bytes: Uint8Array, count: number, out: Float32Array, outOffset: number, littleEndian: boolean): void {
  if (dtype === 'float32' && littleEndian === LITTLE_ENDIAN_HOST) {
    new Uint8Array(out.buffer, out.byteOffset + outOffset * 4, count * 4).set(bytes.subarray(0, count * 4));
    return;
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const le = littleEndian;
  switch (dtype) {
    case 'float32':
      for (let i = 0; i < count; i++) out[outOffset + i] = view.getFloat32(4 * i, le);
      break;
    case 'float64':
      for (let i = 0; i < count; i++) out[outOffset + i] = view.getFloat64(8 * i, le);
      break;
    case 'float16':
      for (let i = 0; i < count; i++) out[outOffset + i] = halfToFloat(view.getUint16(2 * i, le));
      break;
    case 'bfloat16': {
      const scratch = new DataView(new ArrayBuffer(4));
      for (let i = 0; i < count; i++) {
        scratch.setUint32(0, view.getUint16(2 * i, le) << 16);
        out[outOffset + i] = scratch.getFloat32(0);
      }
      break;
    }
    case 'int64':
      for (let i = 0; i < count; i++) out[outOffset + i] = Number(view.getBigInt64(8 * i, le));
      break;
    case 'int32':
      for (let i = 0; i < count; i++) out[outOffset + i] = view.getInt32(4 * i, le);
      break;
  }
}

/**
 * A tensor's values from the bytes of its storage span ({@link storageSpan}), honouring strides and the
 * storage offset. Always a new array.
 */
export function tensorFromSpan(record: PthTensorRecord, span: Uint8Array, littleEndian: boolean): Float32Array {
  const n = elementCount(record.shape);
  const out = new Float32Array(n);
  if (isContiguous(record)) {
    convertElements(record.dtype, span, n, out, 0, littleEndian);
    return out;
  }
  // Strided: convert the span, then walk the index in C order.
  const values = new Float32Array(storageSpan(record).count);
  convertElements(record.dtype, span, values.length, values, 0, littleEndian);
  const rank = record.shape.length;
  const index = new Array<number>(rank).fill(0);
  let source = 0; // element offset from the span's start
  for (let i = 0; i < n; i++) {
    out[i] = values[source]!;
    for (let d = rank - 1; d >= 0; d--) {
      index[d]!++;
      source += record.stride[d]!;
      if (index[d]! < record.shape[d]!) break;
      source -= record.stride[d]! * record.shape[d]!;
      index[d] = 0;
    }
  }
  return out;
}

/** The archive's records, found the way torch finds them: under the first entry's top folder. */
export interface PthArchive {
  prefix: string;
  pickle: LocatedEntry;
  byteorder?: LocatedEntry;
  version?: LocatedEntry;
  entries: Map<string, LocatedEntry>;
}

/** Locates `data.pkl` and the other records in a `.pth`'s zip directory. @throws ReflectkitError `PTH_FORMAT`. */
export function locatePthRecords(entries: Map<string, LocatedEntry>, path = ''): PthArchive {
  const first = entries.keys().next().value as string | undefined;
  const slash = first?.indexOf('/') ?? -1;
  if (first === undefined || slash <= 0) throw formatError('the zip archive has no top folder', path, 'a torch.save archive (<name>/data.pkl, <name>/data/…)');
  const prefix = first.slice(0, slash);
  const pickle = entries.get(`${prefix}/data.pkl`);
  if (pickle === undefined) throw formatError(`the archive has no ${prefix}/data.pkl`, path, 'a torch.save archive');
  const byteorder = entries.get(`${prefix}/byteorder`);
  const version = entries.get(`${prefix}/version`) ?? entries.get(`${prefix}/.data/version`);
  return { prefix, pickle, entries, ...(byteorder === undefined ? {} : { byteorder }), ...(version === undefined ? {} : { version }) };
}

/** Checks the small text records: byte order (`little`/`big`) and format version (1 to 10). */
export function checkPthRecords(byteorder: Uint8Array | undefined, version: Uint8Array | undefined, path = ''): { littleEndian: boolean } {
  const order = byteorder === undefined ? 'little' : new TextDecoder().decode(byteorder).trim();
  if (order !== 'little' && order !== 'big') throw formatError(`byteorder is ${JSON.stringify(order.slice(0, 20))}`, path, 'little or big');
  if (version !== undefined) {
    const v = Number(new TextDecoder().decode(version).trim());
    if (!Number.isInteger(v) || v < 1 || v > 10) throw formatError(`archive version ${JSON.stringify(new TextDecoder().decode(version).slice(0, 20))}`, path, 'a torch archive version from 1 to 10');
  }
  return { littleEndian: order === 'little' };
}

/** The storage file of a tensor, checked against the size the pickle declares. */
export function storageEntry(archive: PthArchive, record: PthTensorRecord, path = ''): LocatedEntry {
  const entry = archive.entries.get(`${archive.prefix}/data/${record.storage.key}`);
  if (entry === undefined) throw formatError(`${record.name}: storage ${record.storage.key} is missing`, path);
  const bytes = record.storage.numel * pthItemSize(record.storage.dtype);
  if (entry.size !== bytes) {
    throw formatError(`${record.name}: storage ${record.storage.key} holds ${entry.size} bytes`, path, `${bytes} bytes (${record.storage.numel} × ${record.storage.dtype})`);
  }
  return entry;
}

/**
 * Decodes a whole `.pth` held in memory (a browser download, a Hub fetch) into its tensors, in the
 * state_dict's order. Each tensor is a new array; the input is not retained.
 *
 * @throws ReflectkitError `PTH_FORMAT` or `PTH_UNSAFE`.
 */
export function decodePth(bytes: Uint8Array, path = ''): PthTensor[] {
  const archive = locatePthRecords(readZipDirectory(bytes, path), path);
  const slice = (e: LocatedEntry) => bytes.subarray(e.dataOffset, e.dataOffset + e.size);
  const { littleEndian } = checkPthRecords(archive.byteorder && slice(archive.byteorder), archive.version && slice(archive.version), path);
  const index = parseStateDictPickle(slice(archive.pickle), `${archive.prefix}/data.pkl`);
  return index.tensors.map((record) => {
    const entry = storageEntry(archive, record, path);
    const { start, count } = storageSpan(record);
    const size = pthItemSize(record.dtype);
    const span = bytes.subarray(entry.dataOffset + start * size, entry.dataOffset + (start + count) * size);
    return { name: record.name, dtype: record.dtype, shape: [...record.shape], data: tensorFromSpan(record, span, littleEndian) };
  });
}

/** Bytes per piece when tensors are handed to the zip writer. */
const PIECE_BYTES = 16 << 20;

function* floatPieces(data: Float32Array | PthChunkedData): Iterable<Uint8Array> {
  if (data instanceof Float32Array) {
    const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    for (let at = 0; at < bytes.length; at += PIECE_BYTES) yield bytes.subarray(at, Math.min(bytes.length, at + PIECE_BYTES));
    return;
  }
  let total = 0;
  for (const chunk of data.chunks()) {
    total += chunk.length;
    if (total > data.length) break;
    yield new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  }
  if (total !== data.length) throw new ReflectkitError('BAD_SHAPE', `chunked data gave ${total} values`, { expected: `${data.length}` });
}

function* int64Pieces(data: Float32Array | PthChunkedData, name: string): Iterable<Uint8Array> {
  const arrays = data instanceof Float32Array ? [data] : data.chunks();
  for (const array of arrays) {
    const out = new BigInt64Array(array.length);
    for (let i = 0; i < array.length; i++) {
      const v = array[i]!;
      if (!Number.isInteger(v)) throw new ReflectkitError('BAD_SHAPE', `${name} is int64 but holds ${v}`, { path: name, expected: 'integers' });
      out[i] = BigInt(v);
    }
    if (!LITTLE_ENDIAN_HOST) throw new ReflectkitError('BAD_SHAPE', 'int64 tensors are written only on little-endian hosts', { path: name });
    yield new Uint8Array(out.buffer);
  }
}

function checkInputs(tensors: readonly PthTensorInput[]): void {
  const names = new Set<string>();
  for (const t of tensors) {
    if (t.name === '' || names.has(t.name)) throw new ReflectkitError('BAD_SHAPE', `tensor name ${JSON.stringify(t.name)} is empty or repeated`, { path: t.name, expected: 'unique, non-empty names' });
    names.add(t.name);
    if (t.shape.some((n) => !Number.isSafeInteger(n) || n < 0)) throw new ReflectkitError('BAD_SHAPE', `${t.name} has shape (${t.shape.join(', ')})`, { path: t.name, expected: 'non-negative integers' });
    const n = elementCount(t.shape);
    if (t.data.length !== n) throw new ReflectkitError('BAD_SHAPE', `${t.name} has ${t.data.length} values for shape (${t.shape.join(', ')})`, { path: t.name, expected: `${n} values` });
  }
}

/** The `data.pkl` torch writes for a state_dict of these tensors: an OrderedDict of `_rebuild_tensor_v2` calls, storage `i` for tensor `i`. */
export function encodeStateDictPickle(tensors: readonly Pick<PthTensorInput, 'name' | 'dtype' | 'shape'>[], metadata?: PthMetadata): Uint8Array {
  const w = new PickleWriter().proto();
  const orderedDict = () => w.global('collections', 'OrderedDict').tuple(0).reduce();
  orderedDict();
  if (tensors.length > 0) {
    w.mark();
    tensors.forEach((t, i) => {
      const dtype = t.dtype ?? 'float32';
      w.string(t.name).global('torch._utils', '_rebuild_tensor_v2');
      w.mark(); // the 6 arguments
      w.mark().string('storage').global('torch', DTYPES[dtype].storage).string(String(i)).string('cpu').int(elementCount(t.shape)).tuple(5);
      w.persistentId();
      w.int(0).intTuple(t.shape).intTuple(contiguousStrides(t.shape)).bool(false);
      orderedDict();
      w.tuple(6).reduce();
    });
    w.setItems();
  }
  if (metadata !== undefined) {
    w.emptyDict().string('_metadata');
    orderedDict();
    if (metadata.length > 0) {
      w.mark();
      for (const [prefix, fields] of metadata) {
        w.string(prefix).emptyDict();
        const keys = Object.keys(fields);
        if (keys.length > 0) {
          w.mark();
          for (const k of keys) w.string(k).int(fields[k]!);
          w.setItems();
        }
      }
      w.setItems();
    }
    w.setItem().build();
  }
  return w.finish();
}

/**
 * The bytes of a `.pth` file, in pieces, as torch 2.x lays it out: `data.pkl`, `.format_version` (unless a tensor is empty),
 * `.storage_alignment`, `byteorder`, `data/0…n-1` (one storage per tensor, each starting on a 64-byte
 * boundary), `version` (3). Tensor data is passed through without copying (int64 is converted).
 *
 * @throws ReflectkitError `BAD_SHAPE` for repeated names or data that does not match a shape.
 */
export function* pthChunks(tensors: readonly PthTensorInput[], options: PthWriteOptions = {}): Generator<Uint8Array> {
  checkInputs(tensors);
  const archive = options.archiveName ?? 'archive';
  if (!/^[A-Za-z0-9_][A-Za-z0-9_.-]*$/.test(archive)) {
    throw new ReflectkitError('INVALID_OPTION', `archive name ${JSON.stringify(archive)}`, { path: 'archiveName', expected: 'letters, digits, _ . - (not first)' });
  }
  const text = (s: string) => [new TextEncoder().encode(s)];
  const entries: StoredZipEntry[] = [
    { name: `${archive}/data.pkl`, chunks: [encodeStateDictPickle(tensors, options.metadata)] },
    // `.format_version` 1 lets torch compute storage offsets from miniz's layout (data descriptor after every
    // non-empty storage only); fflate also writes one after an empty entry, so with an empty tensor torch
    // is left to read each offset from the directory instead.
    ...(tensors.some((t) => elementCount(t.shape) === 0) ? [] : [{ name: `${archive}/.format_version`, chunks: text('1') }]),
    { name: `${archive}/.storage_alignment`, chunks: text('64') },
    { name: `${archive}/byteorder`, chunks: text(LITTLE_ENDIAN_HOST ? 'little' : 'big') },
    ...tensors.map((t, i) => ({
      name: `${archive}/data/${i}`,
      chunks: { [Symbol.iterator]: () => ((t.dtype ?? 'float32') === 'int64' ? int64Pieces(t.data, t.name) : floatPieces(t.data))[Symbol.iterator]() },
    })),
    { name: `${archive}/version`, chunks: text('3\n') },
  ];
  yield* storedZip(entries, 64, archive);
}

/** A whole `.pth` in memory (see {@link pthChunks}). */
export function encodePth(tensors: readonly PthTensorInput[], options: PthWriteOptions = {}): Uint8Array {
  const pieces: Uint8Array[] = [];
  let length = 0;
  for (const piece of pthChunks(tensors, options)) {
    pieces.push(piece);
    length += piece.length;
  }
  const out = new Uint8Array(length);
  let offset = 0;
  for (const piece of pieces) {
    out.set(piece, offset);
    offset += piece.length;
  }
  return out;
}
