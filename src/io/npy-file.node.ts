import type { FileHandle } from 'node:fs/promises';
import { ReflectkitError } from '../errors.js';
import { AtomicFile, ioError, withFileForReading } from './atomic-file.node.js';
import { encodeNpyHeader, MAX_NPY_HEADER_BYTES, npyHeaderLength, parseNpyHeader, type NpyArray, type NpyDtype, type NpyHeader } from './npy.js';

/** Reads and validates the header of an open `.npy` file against the file's size. */
async function headerOf(handle: FileHandle, path: string): Promise<NpyHeader> {
  let size: number;
  let head: Uint8Array;
  try {
    size = (await handle.stat()).size;
    const preamble = new Uint8Array(Math.min(size, 12));
    await readFully(handle, preamble, 0);
    const headerEnd = npyHeaderLength(preamble) ?? preamble.length;
    head = new Uint8Array(Math.min(size, headerEnd, MAX_NPY_HEADER_BYTES));
    await readFully(handle, head, 0);
  } catch (error) {
    throw ioError('read', path, error); // e.g. EISDIR: the path is a folder
  }
  return parseNpyHeader(head, size, path);
}

/** Fills `target` from `position` on; a file that ends first leaves the rest zero (the header check then fails). */
async function readFully(handle: FileHandle, target: Uint8Array, position: number): Promise<void> {
  for (let done = 0; done < target.length; ) {
    const { bytesRead } = await handle.read(target, done, target.length - done, position + done);
    if (bytesRead === 0) return;
    done += bytesRead;
  }
}

/**
 * Reads the header of a `.npy` file and checks it against the file's size, without reading the data.
 *
 * @throws ReflectkitError `NPY_FORMAT` for a malformed or unsupported file, `IO_ERROR` when unreadable.
 */
export function readNpyHeader(path: string): Promise<NpyHeader> {
  return withFileForReading(path, (handle) => headerOf(handle, path));
}

/**
 * Reads a float32 or float64 `.npy` file. The header is validated against the file size before the data
 * is allocated; nothing is ever unpickled or evaluated.
 *
 * @throws ReflectkitError `NPY_FORMAT` or `IO_ERROR`.
 */
export function readNpy(path: string): Promise<NpyArray> {
  return withFileForReading(path, async (handle) => {
    const header = await headerOf(handle, path);
    const data = header.dtype === 'f4' ? new Float32Array(header.size) : new Float64Array(header.size);
    const target = new Uint8Array(data.buffer);
    let offset = 0;
    try {
      while (offset < target.length) {
        const { bytesRead } = await handle.read(target, offset, target.length - offset, header.dataOffset + offset);
        if (bytesRead === 0) throw new ReflectkitError('NPY_FORMAT', 'file ended early', { path, expected: `${header.dataBytes} data bytes` });
        offset += bytesRead;
      }
    } catch (error) {
      if (error instanceof ReflectkitError) throw error;
      throw ioError('read', path, error);
    }
    return { data, shape: header.shape, dtype: header.dtype };
  });
}

/**
 * Streams a float array of known shape to a `.npy` file: the header is written first, then the data in
 * any number of appends; {@link NpyWriter.close} checks the element count and renames the file into
 * place atomically. Memory use is that of one append.
 */
export class NpyWriter {
  private written = 0;
  private readonly size: number;

  private constructor(
    private readonly file: AtomicFile,
    /** Element type written (`f4` float32 or `f8` float64). */
    readonly dtype: NpyDtype,
    /** Shape of the whole array, C order, e.g. `(N, 2, Q)`. */
    readonly shape: readonly number[],
  ) {
    this.size = shape.reduce((a, b) => a * b, 1);
  }

  /** Starts writing `path` (under a temporary name until closed). */
  static async open(path: string, dtype: NpyDtype, shape: readonly number[]): Promise<NpyWriter> {
    const file = await AtomicFile.create(path);
    const writer = new NpyWriter(file, dtype, shape);
    try {
      await file.write(encodeNpyHeader(dtype, shape));
    } catch (error) {
      await file.discard();
      throw error;
    }
    return writer;
  }

  /** Final path. */
  get path(): string {
    return this.file.path;
  }

  /** Appends elements in C order. */
  async append(values: Float32Array | Float64Array): Promise<void> {
    if ((this.dtype === 'f4') !== (values instanceof Float32Array)) {
      throw new ReflectkitError('BAD_SHAPE', `cannot append ${values.constructor.name} to a ${this.dtype} file`, {
        path: this.path,
        expected: this.dtype === 'f4' ? 'Float32Array' : 'Float64Array',
      });
    }
    if (this.written + values.length > this.size) {
      throw new ReflectkitError('BAD_SHAPE', `more elements than shape (${this.shape.join(', ')}) holds`, {
        path: this.path,
        expected: `${this.size} elements in all`,
      });
    }
    await this.file.write(new Uint8Array(values.buffer, values.byteOffset, values.byteLength));
    this.written += values.length;
  }

  /** Completes the file: checks the count, flushes, renames into place ({@link NpyWriter.seal}, then {@link NpyWriter.publish}). */
  async close(): Promise<void> {
    await this.publish();
  }

  /**
   * Checks the count and flushes the data to disk, still under the temporary name (see
   * {@link AtomicFile.seal}): files written together are all sealed before any is published.
   */
  async seal(): Promise<void> {
    if (this.written !== this.size) {
      await this.file.discard();
      throw new ReflectkitError('BAD_SHAPE', `${this.written} of ${this.size} elements were written`, {
        path: this.path,
        expected: `${this.size} elements`,
      });
    }
    await this.file.seal();
  }

  /** Renames the file into place, sealing it first if that is not done yet. */
  async publish(): Promise<void> {
    await this.seal();
    await this.file.publish();
  }

  /** Abandons the file; any earlier file at the path is left untouched. */
  async discard(): Promise<void> {
    await this.file.discard();
  }
}

/** Writes a whole array to a `.npy` file atomically. */
export async function writeNpy(path: string, data: Float32Array | Float64Array, shape: readonly number[]): Promise<void> {
  const size = shape.reduce((a, b) => a * b, 1);
  if (size !== data.length) {
    throw new ReflectkitError('BAD_SHAPE', `shape (${shape.join(', ')}) does not hold ${data.length} elements`, {
      path,
      expected: `a shape whose product is ${data.length}`,
    });
  }
  const writer = await NpyWriter.open(path, data instanceof Float32Array ? 'f4' : 'f8', shape);
  try {
    await writer.append(data);
    await writer.close();
  } catch (error) {
    await writer.discard();
    throw error;
  }
}
