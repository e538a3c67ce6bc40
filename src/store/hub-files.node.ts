import { createHash, type Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { ReflectkitError } from '../errors.js';
import { ioError } from '../io/atomic-file.node.js';

/** Size and hashes of a file's bytes, as the Hub reports them. */
export interface FileDigest {
  /** Size in bytes. */
  bytes: number;
  /** SHA-256 of the content, lowercase hex: the Hub's LFS `oid`. */
  sha256: string;
  /** SHA-1 of `blob {bytes}\0` + content, lowercase hex: the git blob id, the Hub's `oid` of a regular file. */
  gitSha1: string;
}

/** Hashes that are fed chunks and give a {@link FileDigest}. */
class Digester {
  private readonly sha256: Hash = createHash('sha256');
  private readonly sha1: Hash;
  bytes = 0;

  /** `expectedBytes` goes into the git blob header; a different final size gives a different (wrong) blob id. */
  constructor(expectedBytes: number) {
    this.sha1 = createHash('sha1').update(`blob ${expectedBytes}\0`);
  }

  update(chunk: Uint8Array): void {
    this.sha256.update(chunk);
    this.sha1.update(chunk);
    this.bytes += chunk.byteLength;
  }

  digest(): FileDigest {
    return { bytes: this.bytes, sha256: this.sha256.digest('hex'), gitSha1: this.sha1.digest('hex') };
  }
}

/**
 * Size, SHA-256 and git blob SHA-1 of a local file, read once as a stream.
 *
 * @throws ReflectkitError `IO_ERROR` when the file is missing, unreadable, or changes size while read.
 */
export async function digestFile(path: string): Promise<FileDigest> {
  let size: number;
  try {
    const info = await stat(path);
    if (!info.isFile()) throw Object.assign(new Error('not a file'), { code: 'EISDIR' });
    size = info.size;
  } catch (error) {
    throw ioError('read', path, error);
  }
  const digester = new Digester(size);
  try {
    for await (const chunk of createReadStream(path, { highWaterMark: 4 << 20 })) digester.update(chunk as Buffer);
  } catch (error) {
    throw ioError('read', path, error);
  }
  if (digester.bytes !== size) {
    throw new ReflectkitError('IO_ERROR', `${path} changed size while it was read (${size} → ${digester.bytes} bytes)`, { path });
  }
  return digester.digest();
}

/**
 * Writes a downloaded body to `path` (created or truncated), hashing it on the way. `expectedBytes` is the
 * size the Hub announced (it enters the git blob id). Errors of the stream propagate as they are (the
 * caller decides whether to retry); file-system errors are `IO_ERROR`.
 */
export async function writeStreamToFile(stream: ReadableStream<Uint8Array>, path: string, expectedBytes: number): Promise<FileDigest> {
  let handle;
  try {
    handle = await open(path, 'w');
  } catch (error) {
    throw ioError('create', path, error);
  }
  const digester = new Digester(expectedBytes);
  try {
    for await (const chunk of stream as unknown as AsyncIterable<Uint8Array>) {
      digester.update(chunk);
      let offset = 0;
      while (offset < chunk.byteLength) {
        const { bytesWritten } = await handle.write(chunk, offset, chunk.byteLength - offset).catch((error: unknown) => {
          throw ioError('write', path, error);
        });
        offset += bytesWritten;
      }
    }
    await handle.sync().catch((error: unknown) => {
      throw ioError('write', path, error);
    });
  } finally {
    await handle.close().catch(() => undefined);
  }
  return digester.digest();
}
