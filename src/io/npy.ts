import { dump as npyjsDump } from 'npyjs';
import { ReflectkitError } from '../errors.js';

/** Element types reflectkit reads and writes: little-endian float32 and float64. */
export type NpyDtype = 'f4' | 'f8';

/** A decoded `.npy` array: C-order data and its shape. */
export interface NpyArray<T extends Float32Array | Float64Array = Float32Array | Float64Array> {
  /** Elements in C (row-major) order. */
  data: T;
  /** Dimensions. */
  shape: number[];
  /** Element type. */
  dtype: NpyDtype;
}

/** What a `.npy` header says, validated. */
export interface NpyHeader {
  /** Element type. */
  dtype: NpyDtype;
  /** Dimensions. */
  shape: number[];
  /** Byte offset of the data. */
  dataOffset: number;
  /** Number of elements (product of the shape). */
  size: number;
  /** Bytes of data the header promises. */
  dataBytes: number;
  /** Format version, e.g. `[1, 0]`. */
  version: [number, number];
}

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY
const ITEM_SIZE: Record<NpyDtype, number> = { f4: 4, f8: 8 };
/** Largest header this reader accepts (numpy writes 64-byte aligned headers of about 128 bytes). */
export const MAX_NPY_HEADER_BYTES = 65536;

function formatError(message: string, expected: string, path = ''): ReflectkitError {
  return new ReflectkitError('NPY_FORMAT', message, { path, expected });
}

/** Bytes a header needs before the data, read from the preamble; `undefined` if `bytes` is too short to tell. */
export function npyHeaderLength(bytes: Uint8Array): number | undefined {
  if (bytes.length < 10) return undefined;
  const major = bytes[6]!;
  if (major === 1) return 10 + (bytes[8]! | (bytes[9]! << 8));
  if (bytes.length < 12) return undefined;
  return 12 + (bytes[8]! | (bytes[9]! << 8) | (bytes[10]! << 16)) + bytes[11]! * 0x1000000;
}

/**
 * Parses and validates a `.npy` header without evaluating it: only the literal dict numpy writes is
 * accepted (`descr`, `fortran_order`, `shape`), with dtype `<f4` or `<f8` (`|`/`=` never apply to floats),
 * C order, and a shape of non-negative integers. Anything else (big-endian, Fortran order, object or
 * structured dtype, a pickle) is a `NPY_FORMAT` error that says what was found.
 *
 * @param bytes the start of the file (at least the whole header).
 * @param fileLength total file length, to check that the data is all there; omit to skip that check.
 */
export function parseNpyHeader(bytes: Uint8Array, fileLength?: number, path = ''): NpyHeader {
  if (bytes.length < 10 || MAGIC.some((b, i) => bytes[i] !== b)) {
    throw formatError('not a .npy file (bad magic string)', 'a file starting with \\x93NUMPY', path);
  }
  const major = bytes[6]!;
  const minor = bytes[7]!;
  if (major < 1 || major > 3 || minor !== 0) {
    throw formatError(`unsupported .npy format version ${major}.${minor}`, 'version 1.0, 2.0 or 3.0', path);
  }
  const headerEnd = npyHeaderLength(bytes);
  if (headerEnd === undefined || headerEnd > MAX_NPY_HEADER_BYTES) {
    throw formatError('header length field is missing or too large', `a header under ${MAX_NPY_HEADER_BYTES} bytes`, path);
  }
  if (bytes.length < headerEnd) {
    throw formatError('file ends inside the header', `at least ${headerEnd} bytes`, path);
  }
  const start = major === 1 ? 10 : 12;
  let text = '';
  for (let i = start; i < headerEnd; i++) {
    const c = bytes[i]!;
    if (c > 0x7e || (c < 0x20 && c !== 0x0a)) throw formatError('header contains non-ASCII bytes', 'an ASCII dict literal', path);
    text += String.fromCharCode(c);
  }
  const dict = parseHeaderDict(text.trim(), path);
  const descr = dict.descr;
  let dtype: NpyDtype;
  if (descr === '<f4') dtype = 'f4';
  else if (descr === '<f8') dtype = 'f8';
  else if (descr === '>f4' || descr === '>f8') {
    throw formatError(`big-endian dtype ${descr}`, "little-endian '<f4' or '<f8' (save with arr.astype('<f4'))", path);
  } else {
    throw formatError(`unsupported dtype ${descr}`, "'<f4' (float32) or '<f8' (float64)", path);
  }
  if (dict.fortranOrder) {
    throw formatError('Fortran-ordered array', 'C order (save np.ascontiguousarray(arr))', path);
  }
  let size = 1;
  for (const n of dict.shape) size *= n;
  const dataBytes = size * ITEM_SIZE[dtype];
  if (!Number.isSafeInteger(dataBytes)) throw formatError(`shape (${dict.shape.join(', ')}) is too large`, 'a shape that fits in memory', path);
  if (fileLength !== undefined && fileLength !== headerEnd + dataBytes) {
    const what = fileLength < headerEnd + dataBytes ? 'truncated' : 'longer than its header says';
    throw formatError(
      `file is ${what}: ${fileLength - headerEnd} data bytes for shape (${dict.shape.join(', ')}) of ${dtype}`,
      `${dataBytes} data bytes`,
      path,
    );
  }
  return { dtype, shape: dict.shape, dataOffset: headerEnd, size, dataBytes, version: [major, minor] };
}

/** Parses numpy's header dict literal, e.g. `{'descr': '<f4', 'fortran_order': False, 'shape': (3, 2), }`. */
function parseHeaderDict(text: string, path: string): { descr: string; fortranOrder: boolean; shape: number[] } {
  const bad = (): never => {
    throw formatError(`malformed header ${JSON.stringify(text.slice(0, 120))}`, "{'descr': …, 'fortran_order': …, 'shape': (…)}", path);
  };
  let i = 0;
  const skip = (): void => {
    while (i < text.length && (text[i] === ' ' || text[i] === '\n')) i++;
  };
  const expect = (c: string): void => {
    skip();
    if (text[i] !== c) bad();
    i++;
  };
  const string = (): string => {
    skip();
    const quote = text[i];
    if (quote !== "'" && quote !== '"') bad();
    const end = text.indexOf(quote!, i + 1);
    if (end < 0) bad();
    const value = text.slice(i + 1, end);
    i = end + 1;
    return value;
  };
  const fields = new Map<string, unknown>();
  expect('{');
  for (;;) {
    skip();
    if (text[i] === '}') {
      i++;
      break;
    }
    const key = string();
    expect(':');
    skip();
    if (key === 'descr') {
      if (text[i] !== "'" && text[i] !== '"') bad(); // a list here means a structured dtype
      fields.set(key, string());
    } else if (key === 'fortran_order') {
      if (text.startsWith('True', i)) {
        fields.set(key, true);
        i += 4;
      } else if (text.startsWith('False', i)) {
        fields.set(key, false);
        i += 5;
      } else bad();
    } else if (key === 'shape') {
      expect('(');
      const dims: number[] = [];
      for (;;) {
        skip();
        if (text[i] === ')') {
          i++;
          break;
        }
        // Python's int literals: no leading zeros (`(02,)` is a SyntaxError for numpy's literal_eval).
        const m = /^(?:0|[1-9]\d*)(?!\d)/.exec(text.slice(i, i + 20));
        if (!m) bad();
        const n = Number(m![0]);
        if (!Number.isSafeInteger(n)) bad();
        dims.push(n);
        i += m![0].length;
        skip();
        if (text[i] === ',') i++;
        else if (text[i] !== ')' || dims.length === 1) bad(); // `(3)` is the int 3, not a tuple: numpy refuses it
      }
      fields.set(key, dims);
    } else {
      bad();
    }
    skip();
    if (text[i] === ',') i++;
    else if (text[i] !== '}') bad();
  }
  skip();
  if (i !== text.length) bad();
  const descr = fields.get('descr');
  const fortranOrder = fields.get('fortran_order');
  const shape = fields.get('shape');
  if (typeof descr !== 'string' || typeof fortranOrder !== 'boolean' || !Array.isArray(shape)) bad();
  return { descr: descr as string, fortranOrder: fortranOrder as boolean, shape: shape as number[] };
}

/**
 * The bytes of a numpy format 1.0 header for a C-order little-endian array, padded so that the data
 * starts on a 64-byte boundary as numpy does.
 */
export function encodeNpyHeader(dtype: NpyDtype, shape: readonly number[]): Uint8Array {
  const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  return npyHeaderFromDict(`{'descr': '<${dtype}', 'fortran_order': False, 'shape': ${shapeText}, }`);
}

/** A format 1.0 header holding the dict literal `dict`, padded with spaces and a newline to a multiple of 64 bytes. */
export function npyHeaderFromDict(dict: string): Uint8Array {
  const total = Math.ceil((10 + dict.length + 1) / 64) * 64;
  const text = dict.padEnd(total - 10 - 1, ' ') + '\n';
  const out = new Uint8Array(total);
  out.set(MAGIC, 0);
  out[6] = 1;
  out[7] = 0;
  out[8] = text.length & 0xff;
  out[9] = text.length >> 8;
  for (let k = 0; k < text.length; k++) out[10 + k] = text.charCodeAt(k);
  return out;
}

/**
 * Decodes a whole `.npy` file held in memory (browser, fetch, Hub download). The header is validated
 * first (see {@link parseNpyHeader}), so nothing is allocated for a size the file does not hold; the data
 * is then viewed in place (when `bytes` is a whole, aligned buffer) or copied. Never evaluates anything.
 *
 * @throws ReflectkitError `NPY_FORMAT`.
 */
export function decodeNpy(bytes: Uint8Array, path = ''): NpyArray {
  const header = parseNpyHeader(bytes, bytes.byteLength, path);
  // A typed array needs its element alignment: a header whose length is not a multiple of the item
  // size (numpy reads those too) or a view into a larger buffer gets a copy of the data bytes only.
  const whole = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength;
  const inPlace = whole && header.dataOffset % ITEM_SIZE[header.dtype] === 0;
  // (Uint8Array's slice, which copies: a Node Buffer's slice is a view into its pooled memory.)
  const buffer = inPlace ? (bytes.buffer as ArrayBuffer) : Uint8Array.prototype.slice.call(bytes, header.dataOffset).buffer;
  const offset = inPlace ? header.dataOffset : 0;
  const data = header.dtype === 'f4' ? new Float32Array(buffer, offset, header.size) : new Float64Array(buffer, offset, header.size);
  return { data, shape: header.shape, dtype: header.dtype };
}

/**
 * Encodes a C-order float array as a `.npy` file in memory (npyjs's writer). `np.load` reads it.
 *
 * @throws ReflectkitError `BAD_SHAPE` when the shape does not match the data length.
 */
export function encodeNpy(data: Float32Array | Float64Array, shape: readonly number[]): Uint8Array {
  const size = shape.reduce((a, b) => a * b, 1);
  if (size !== data.length || shape.some((n) => !Number.isSafeInteger(n) || n < 0)) {
    throw new ReflectkitError('BAD_SHAPE', `shape (${shape.join(', ')}) does not hold ${data.length} elements`, {
      path: 'shape',
      expected: `non-negative integers whose product is ${data.length}`,
    });
  }
  return new Uint8Array(npyjsDump(data, [...shape]));
}
