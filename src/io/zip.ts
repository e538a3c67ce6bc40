import { Zip, ZipPassThrough } from 'fflate';
import { ReflectkitError } from '../errors.js';

/**
 * The zip container of PyTorch's `.pth` files: reading its central directory from byte windows (so that
 * a Node file handle can read one storage at a time and a browser can read a whole buffer the same way),
 * and writing stored (uncompressed) entries whose data starts on a 64-byte boundary, as torch's own
 * writer pads them (storages mapped by `torch.load(mmap=True)` are then aligned).
 *
 * Reading is ours (a few dozen lines over the PKWARE APPNOTE records: end of central directory, its zip64
 * form, central and local headers): fflate's streaming reader goes through the file front to back and
 * cannot find the end of torch's stored entries, which carry their sizes only in data descriptors.
 * Writing uses fflate's `Zip` and `ZipPassThrough` (headers, CRC-32, data descriptors, directory); we only
 * add the alignment padding as an extra field, as torch does (`FB` + `Z` bytes).
 */

/** One entry of the central directory. */
export interface ZipEntry {
  name: string;
  /** 0 stored, 8 deflate… */
  method: number;
  flags: number;
  crc: number;
  compressedSize: number;
  size: number;
  /** Offset of the local header. */
  headerOffset: number;
}

/** Where the central directory is. */
export interface CentralDirectoryLocation {
  offset: number;
  size: number;
  count: number;
}

/** Bytes to read from the end of a file to find its central directory (end record, longest comment, zip64 records). */
export const ZIP_TAIL_BYTES = 22 + 0xffff + 20 + 56;
/** Length of a local file header before its name and extra field. */
export const LOCAL_HEADER_BYTES = 30;

const EOCD = 0x06054b50;
const ZIP64_LOCATOR = 0x07064b50;
const ZIP64_EOCD = 0x06064b50;
const CENTRAL = 0x02014b50;
const LOCAL = 0x04034b50;

function zipError(message: string, path: string, expected = 'a zip archive as torch.save writes it'): ReflectkitError {
  return new ReflectkitError('PTH_FORMAT', message, { path, expected });
}

function u64(view: DataView, at: number): number {
  const lo = view.getUint32(at, true);
  const hi = view.getUint32(at + 4, true);
  return hi >= 0x200000 ? Number.MAX_SAFE_INTEGER : hi * 0x100000000 + lo;
}

function viewOf(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/**
 * Finds the central directory from the last bytes of a file.
 *
 * @param tail the file's last bytes (up to {@link ZIP_TAIL_BYTES}).
 * @param fileSize the whole file's size (`tail` ends there).
 * @throws ReflectkitError `PTH_FORMAT` when there is no valid end record.
 */
export function findCentralDirectory(tail: Uint8Array, fileSize: number, path = ''): CentralDirectoryLocation {
  const view = viewOf(tail);
  const tailStart = fileSize - tail.length;
  for (let i = tail.length - 22; i >= 0; i--) {
    if (view.getUint32(i, true) !== EOCD) continue;
    const commentLength = view.getUint16(i + 20, true);
    if (i + 22 + commentLength !== tail.length) continue;
    let count = view.getUint16(i + 10, true);
    let size = view.getUint32(i + 12, true);
    let offset = view.getUint32(i + 16, true);
    let limit = tailStart + i; // the directory ends before the end record (or the zip64 record)
    if (view.getUint16(i + 4, true) !== 0 || view.getUint16(i + 6, true) !== 0 || view.getUint16(i + 8, true) !== count) throw zipError('a multi-disk zip archive', path);
    if (count === 0xffff || size === 0xffffffff || offset === 0xffffffff) {
      const at = i - 20;
      if (at < 0 || view.getUint32(at, true) !== ZIP64_LOCATOR) throw zipError('a zip64 archive without its zip64 locator', path);
      const recordAt = u64(view, at + 8) - tailStart;
      if (recordAt < 0 || recordAt + 56 > at || view.getUint32(recordAt, true) !== ZIP64_EOCD) throw zipError('the zip64 end record is missing or misplaced', path);
      count = u64(view, recordAt + 32);
      size = u64(view, recordAt + 40);
      offset = u64(view, recordAt + 48);
      limit = tailStart + recordAt;
    }
    if (offset + size > limit || size < 46 * count) {
      throw zipError(`the central directory (${count} entries, ${size} bytes at ${offset}) does not fit in the file`, path);
    }
    return { offset, size, count };
  }
  const legacy = tail.length > 0 && tailStart === 0 && tail[0] === 0x80;
  throw zipError(
    legacy ? 'a pickle, not a zip: torch\'s legacy format (torch < 1.6, or _use_new_zipfile_serialization=False)' : 'no zip end-of-central-directory record',
    path,
    legacy ? 'a .pth saved by torch ≥ 1.6 with its default zip format (load and re-save it with torch.save)' : undefined,
  );
}

/**
 * Parses the central directory's bytes.
 *
 * @throws ReflectkitError `PTH_FORMAT` for a malformed directory or duplicate names.
 */
export function parseCentralDirectory(bytes: Uint8Array, location: CentralDirectoryLocation, path = ''): ZipEntry[] {
  const view = viewOf(bytes);
  const entries: ZipEntry[] = [];
  const seen = new Set<string>();
  const utf8 = new TextDecoder('utf-8', { fatal: true });
  let at = 0;
  for (let k = 0; k < location.count; k++) {
    if (at + 46 > bytes.length || view.getUint32(at, true) !== CENTRAL) throw zipError(`central directory entry ${k} is malformed`, path);
    const nameLength = view.getUint16(at + 28, true);
    const extraLength = view.getUint16(at + 30, true);
    const commentLength = view.getUint16(at + 32, true);
    const next = at + 46 + nameLength + extraLength + commentLength;
    if (next > bytes.length) throw zipError(`central directory entry ${k} runs past the directory`, path);
    const disk = view.getUint16(at + 34, true); // 0xffff: in the zip64 field (only ever 0 here)
    if (disk !== 0 && disk !== 0xffff) throw zipError(`central directory entry ${k} is on disk ${disk} of a multi-disk archive`, path);
    let name: string;
    try {
      name = utf8.decode(bytes.subarray(at + 46, at + 46 + nameLength));
    } catch {
      throw zipError(`central directory entry ${k} has a name that is not UTF-8`, path);
    }
    let size = view.getUint32(at + 24, true);
    let compressedSize = view.getUint32(at + 20, true);
    let headerOffset = view.getUint32(at + 42, true);
    // zip64 extended information (id 1): the 8-byte values of the fields that read 0xffffffff, in this order.
    let e = at + 46 + nameLength;
    const extraEnd = e + extraLength;
    while (e + 4 <= extraEnd) {
      const id = view.getUint16(e, true);
      const length = view.getUint16(e + 2, true);
      if (e + 4 + length > extraEnd) throw zipError(`entry ${name} has a malformed extra field`, path);
      if (id === 1) {
        let f = e + 4;
        const read = (): number => {
          if (f + 8 > e + 4 + length) throw zipError(`entry ${name} has a short zip64 field`, path);
          const v = u64(view, f);
          f += 8;
          return v;
        };
        if (size === 0xffffffff) size = read();
        if (compressedSize === 0xffffffff) compressedSize = read();
        if (headerOffset === 0xffffffff) headerOffset = read();
      }
      e += 4 + length;
    }
    if (seen.has(name)) throw zipError(`two entries are named ${name}`, path);
    seen.add(name);
    entries.push({
      name,
      method: view.getUint16(at + 10, true),
      flags: view.getUint16(at + 8, true),
      crc: view.getUint32(at + 16, true),
      compressedSize,
      size,
      headerOffset,
    });
    at = next;
  }
  return entries;
}

/**
 * The offset of an entry's data, from the first {@link LOCAL_HEADER_BYTES} of its local header. Only
 * stored entries are accepted (torch never compresses).
 *
 * @throws ReflectkitError `PTH_FORMAT` for a bad header, a compressed entry or data past the end of the file.
 */
export function entryDataOffset(entry: ZipEntry, localHeader: Uint8Array, fileSize: number, path = ''): number {
  if (localHeader.length < LOCAL_HEADER_BYTES || viewOf(localHeader).getUint32(0, true) !== LOCAL) {
    throw zipError(`the local header of ${entry.name} is missing`, path);
  }
  if (entry.method !== 0) throw zipError(`${entry.name} is compressed (method ${entry.method})`, path, 'stored entries, as torch.save writes them');
  // Bits 0 and 6: encrypted. The bytes would be read as values otherwise (torch refuses these too).
  if ((entry.flags & 0x41) !== 0) throw zipError(`${entry.name} is encrypted`, path, 'stored entries, as torch.save writes them');
  if (entry.size !== entry.compressedSize) throw zipError(`${entry.name} is stored with two different sizes`, path);
  const view = viewOf(localHeader);
  const start = entry.headerOffset + LOCAL_HEADER_BYTES + view.getUint16(26, true) + view.getUint16(28, true);
  if (start + entry.size > fileSize) throw zipError(`${entry.name} runs past the end of the file (truncated?)`, path);
  return start;
}

/** An entry and where its data starts. */
export interface LocatedEntry extends ZipEntry {
  dataOffset: number;
}

/** Reads the directory of a zip archive held in memory. @throws ReflectkitError `PTH_FORMAT`. */
export function readZipDirectory(bytes: Uint8Array, path = ''): Map<string, LocatedEntry> {
  const tail = bytes.subarray(Math.max(0, bytes.length - ZIP_TAIL_BYTES));
  const location = findCentralDirectory(tail, bytes.length, path);
  const entries = parseCentralDirectory(bytes.subarray(location.offset, location.offset + location.size), location, path);
  const out = new Map<string, LocatedEntry>();
  for (const entry of entries) {
    const header = bytes.subarray(entry.headerOffset, entry.headerOffset + LOCAL_HEADER_BYTES);
    out.set(entry.name, { ...entry, dataOffset: entryDataOffset(entry, header, bytes.length, path) });
  }
  return out;
}

/** A file to store: its name and its bytes, in pieces (each piece must stay unchanged until written). */
export interface StoredZipEntry {
  name: string;
  chunks: Iterable<Uint8Array>;
}

/** The DOS epoch: a fixed timestamp so that the same tensors give the same bytes. */
const FIXED_TIME = new Date(1980, 0, 1, 0, 0, 0);
/** Extra field id torch pads with ('F', 'B'). */
const PADDING_ID = 0x4246;
/** Largest archive written without zip64 records. */
const MAX_ZIP_BYTES = 0xffffffff;

/**
 * Writes a zip archive of stored entries, yielding its bytes in order. Each entry's data starts on a
 * multiple of `alignment` bytes from the start of the archive (padding in an `FB` extra field, as torch).
 * Pieces of the caller's data are passed through without copying; consume each yielded piece before
 * asking for the next.
 *
 * @throws ReflectkitError `PTH_FORMAT` when the archive would exceed 4 GiB (zip64 is not written).
 */
export function* storedZip(entries: Iterable<StoredZipEntry>, alignment = 64, path = ''): Generator<Uint8Array> {
  const out: Uint8Array[] = [];
  let written = 0;
  let failure: unknown;
  const zip = new Zip((error, chunk) => {
    if (error) failure = error;
    else out.push(chunk);
  });
  function* drain(): Generator<Uint8Array> {
    if (failure !== undefined) throw failure;
    for (const chunk of out) {
      written += chunk.length;
      if (written > MAX_ZIP_BYTES) throw zipError('the archive would exceed 4 GiB, which needs zip64 records this writer does not write', path, 'under 4 GiB');
      yield chunk;
    }
    out.length = 0;
  }
  const encoder = new TextEncoder();
  for (const entry of entries) {
    const nameLength = encoder.encode(entry.name).length;
    const padding = (alignment - ((written + LOCAL_HEADER_BYTES + nameLength + 4) % alignment)) % alignment;
    const file = new ZipPassThrough(entry.name);
    file.mtime = FIXED_TIME;
    file.extra = { [PADDING_ID]: new Uint8Array(padding).fill(0x5a) };
    zip.add(file);
    for (const chunk of entry.chunks) {
      if (chunk.length === 0) continue;
      file.push(chunk, false);
      yield* drain();
    }
    file.push(new Uint8Array(0), true);
    yield* drain();
  }
  zip.end();
  yield* drain();
}
