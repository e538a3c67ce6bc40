import type { FileHandle } from 'node:fs/promises';
import { basename } from 'node:path';
import { ReflectkitError } from '../errors.js';
import { AtomicFile, ioError, withFileForReading } from './atomic-file.node.js';
import {
  checkPthRecords,
  convertElements,
  elementCount,
  isContiguous,
  locatePthRecords,
  parseStateDictPickle,
  pthChunks,
  pthItemSize,
  storageEntry,
  storageSpan,
  tensorFromSpan,
  type PthIndex,
  type PthTensor,
  type PthTensorInput,
  type PthWriteOptions,
} from './pth.js';
import { entryDataOffset, findCentralDirectory, LOCAL_HEADER_BYTES, parseCentralDirectory, ZIP_TAIL_BYTES, type LocatedEntry } from './zip.js';

/** Bytes read at a time when converting a storage (float64, float16, int64…) to float32. */
const READ_CHUNK = 16 << 20;
/** Largest small record (data.pkl, version, byteorder) read whole: a state_dict's pickle is a few kB per tensor. */
const MAX_RECORD_BYTES = 256 << 20;

async function readAt(handle: FileHandle, target: Uint8Array, position: number, path: string): Promise<void> {
  let done = 0;
  try {
    while (done < target.length) {
      const { bytesRead } = await handle.read(target, done, Math.min(target.length - done, 1 << 30), position + done);
      if (bytesRead === 0) throw new ReflectkitError('PTH_FORMAT', 'the file ended early', { path, expected: `${target.length} bytes at ${position}` });
      done += bytesRead;
    }
  } catch (error) {
    if (error instanceof ReflectkitError) throw error;
    throw ioError('read', path, error);
  }
}

async function readBytes(handle: FileHandle, position: number, length: number, path: string): Promise<Uint8Array> {
  const out = new Uint8Array(length);
  await readAt(handle, out, position, path);
  return out;
}

interface OpenPth {
  handle: FileHandle;
  index: PthIndex;
  entries: Map<string, LocatedEntry>;
  archive: ReturnType<typeof locatePthRecords>;
  littleEndian: boolean;
}

/** Opens a `.pth`, reads its directory and its pickle (not the storages), runs `use`, closes it. */
async function withPth<T>(path: string, use: (pth: OpenPth) => Promise<T>): Promise<T> {
  return withFileForReading(path, async (handle) => {
    const { size } = await handle.stat();
    const tailLength = Math.min(size, ZIP_TAIL_BYTES);
    const location = findCentralDirectory(await readBytes(handle, size - tailLength, tailLength, path), size, path);
    const directory = parseCentralDirectory(await readBytes(handle, location.offset, location.size, path), location, path);
    const entries = new Map<string, LocatedEntry>();
    for (const entry of directory) {
      const header = await readBytes(handle, entry.headerOffset, Math.min(LOCAL_HEADER_BYTES, Math.max(0, size - entry.headerOffset)), path);
      entries.set(entry.name, { ...entry, dataOffset: entryDataOffset(entry, header, size, path) });
    }
    const archive = locatePthRecords(entries, path);
    const small = async (e: LocatedEntry | undefined, what: string) => {
      if (e === undefined) return undefined;
      if (e.size > MAX_RECORD_BYTES) throw new ReflectkitError('PTH_FORMAT', `${what} is ${e.size} bytes`, { path, expected: `under ${MAX_RECORD_BYTES} bytes` });
      return readBytes(handle, e.dataOffset, e.size, path);
    };
    const { littleEndian } = checkPthRecords(await small(archive.byteorder, 'byteorder'), await small(archive.version, 'version'), path);
    const index = parseStateDictPickle((await small(archive.pickle, 'data.pkl'))!, `${archive.prefix}/data.pkl`);
    return use({ handle, index, entries, archive, littleEndian });
  });
}

/**
 * Reads the names, types and shapes of a `.pth` state_dict without reading its storages.
 *
 * @throws ReflectkitError `PTH_FORMAT`, `PTH_UNSAFE` or `IO_ERROR`.
 */
export function readPthIndex(path: string): Promise<PthIndex> {
  return withPth(path, async ({ index, archive }) => {
    for (const record of index.tensors) storageEntry(archive, record, path);
    return index;
  });
}

/**
 * Reads a `.pth` state_dict (as `torch.save(model.state_dict(), path)` writes it) into float32 tensors,
 * in the state_dict's order. Reads the directory and the pickle first, then each tensor's bytes straight
 * from the file: a float32 tensor is read into its own array, other types in 16 MiB pieces, so memory
 * holds the tensors and one piece, never the file. Nothing in the file is ever executed.
 *
 * @throws ReflectkitError `PTH_FORMAT` (malformed, truncated, not a state_dict), `PTH_UNSAFE` (a pickle
 *   that names anything outside the whitelist) or `IO_ERROR`.
 */
export function readPth(path: string): Promise<PthTensor[]> {
  return withPth(path, async ({ handle, index, archive, littleEndian }) => {
    const tensors: PthTensor[] = [];
    for (const record of index.tensors) {
      const entry = storageEntry(archive, record, path);
      const size = pthItemSize(record.dtype);
      const { start, count } = storageSpan(record);
      const position = entry.dataOffset + start * size;
      const n = elementCount(record.shape);
      let data: Float32Array;
      if (!isContiguous(record)) {
        data = tensorFromSpan(record, await readBytes(handle, position, count * size, path), littleEndian);
      } else if (record.dtype === 'float32' && littleEndian) {
        data = new Float32Array(n);
        await readAt(handle, new Uint8Array(data.buffer), position, path);
      } else {
        data = new Float32Array(n);
        const perChunk = Math.floor(READ_CHUNK / size);
        const buffer = new Uint8Array(Math.min(n, perChunk) * size);
        for (let done = 0; done < n; done += perChunk) {
          const k = Math.min(perChunk, n - done);
          const piece = buffer.subarray(0, k * size);
          await readAt(handle, piece, position + done * size, path);
          convertElements(record.dtype, piece, k, data, done, littleEndian);
        }
      }
      tensors.push({ name: record.name, dtype: record.dtype, shape: [...record.shape], data });
    }
    return tensors;
  });
}

/**
 * Writes tensors as a `.pth` that `torch.load(path, weights_only=True)` reads into a state_dict (and
 * `mmap=True` maps: storages start on 64-byte boundaries). Streams through a temporary file renamed into
 * place at the end; tensor data is written from the caller's arrays without copies (chunked data one
 * piece at a time). The archive folder is the file name's stem, as torch names it.
 *
 * @throws ReflectkitError `BAD_SHAPE` for inconsistent tensors, `PTH_FORMAT` past 4 GiB, `IO_ERROR`.
 */
export async function writePth(path: string, tensors: readonly PthTensorInput[], options: PthWriteOptions = {}): Promise<void> {
  const stem = basename(path).replace(/\.[^.]*$/, '').replace(/[^A-Za-z0-9_.-]/g, '_').replace(/^[.-]+/, '') || 'archive';
  const chunks = pthChunks(tensors, { archiveName: stem, ...options });
  const file = await AtomicFile.create(path);
  try {
    for (const chunk of chunks) await file.write(chunk);
    await file.commit();
  } catch (error) {
    await file.discard();
    throw error;
  }
}
