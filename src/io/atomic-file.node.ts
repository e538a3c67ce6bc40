import { randomBytes } from 'node:crypto';
import { access, mkdir, open, rename, rm, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import { ReflectkitError } from '../errors.js';

/** `${path}.<random>.partial`: the temporary name a file is written under before it is renamed into place. */
export function temporaryPath(path: string): string {
  return `${path}.${randomBytes(6).toString('hex')}.partial`;
}

/** Wraps a file-system error as `IO_ERROR` with the path. */
export function ioError(action: string, path: string, cause: unknown): ReflectkitError {
  const reason = (cause as NodeJS.ErrnoException)?.code ?? (cause as Error)?.message ?? String(cause);
  return new ReflectkitError('IO_ERROR', `could not ${action} ${path}: ${reason}`, { path, cause });
}

/** fsyncs a folder so that a rename in it survives a crash (best effort: not every platform allows it). */
async function syncFolder(folder: string): Promise<void> {
  let handle: FileHandle | undefined;
  try {
    handle = await open(folder, 'r');
    await handle.sync();
  } catch {
    // Some platforms cannot open or fsync a folder; the rename is still atomic.
  } finally {
    await handle?.close().catch(() => undefined);
  }
}

/** Opens `path` for reading, runs `use` on the handle, and closes it; an open failure is `IO_ERROR`. */
export async function withFileForReading<T>(path: string, use: (handle: FileHandle) => Promise<T>): Promise<T> {
  let handle: FileHandle;
  try {
    handle = await open(path, 'r');
  } catch (error) {
    throw ioError('open', path, error);
  }
  try {
    return await use(handle);
  } finally {
    await handle.close();
  }
}

/**
 * A file written under a temporary name and renamed over `path` only when {@link AtomicFile.commit}
 * succeeds, so `path` is either its old content or the complete new one, never a half-written file.
 */
export class AtomicFile {
  private constructor(
    /** Final path the file is renamed to on commit. */
    readonly path: string,
    /** Temporary path it is written under, `${path}.<random>.partial`, next to `path`. */
    readonly temporary: string,
    private readonly handle: FileHandle,
  ) {}

  /** Opens a new temporary file next to `path`. */
  static async create(path: string): Promise<AtomicFile> {
    const temporary = temporaryPath(path);
    try {
      return new AtomicFile(path, temporary, await open(temporary, 'wx'));
    } catch (error) {
      throw ioError('create', temporary, error);
    }
  }

  /** Appends bytes. */
  async write(bytes: Uint8Array): Promise<void> {
    let offset = 0;
    try {
      while (offset < bytes.length) {
        const { bytesWritten } = await this.handle.write(bytes, offset, bytes.length - offset);
        offset += bytesWritten;
      }
    } catch (error) {
      throw ioError('write', this.temporary, error);
    }
  }

  /** Flushes to disk, closes, and renames over `path`. */
  async commit(): Promise<void> {
    try {
      await this.handle.sync();
      await this.handle.close();
      await rename(this.temporary, this.path);
    } catch (error) {
      await rm(this.temporary, { force: true }).catch(() => undefined);
      throw ioError('finish', this.path, error);
    }
    await syncFolder(dirname(this.path));
  }

  /** Closes and deletes the temporary file; `path` is left as it was. */
  async discard(): Promise<void> {
    await this.handle.close().catch(() => undefined);
    await rm(this.temporary, { force: true }).catch(() => undefined);
  }
}

/** Writes `bytes` to `path` atomically. */
export async function writeFileAtomic(path: string, bytes: Uint8Array | string): Promise<void> {
  const file = await AtomicFile.create(path);
  try {
    await file.write(typeof bytes === 'string' ? new TextEncoder().encode(bytes) : bytes);
    await file.commit();
  } catch (error) {
    await file.discard();
    throw error;
  }
}

/** Whether `path` exists (any kind of entry). */
export async function pathExists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}

/** Creates `dir` empty, removing whatever a previous, interrupted attempt left there (a staging folder). */
export async function freshFolder(dir: string): Promise<void> {
  try {
    await rm(dir, { recursive: true, force: true });
    await mkdir(dir, { recursive: true });
  } catch (error) {
    throw ioError('create', dir, error);
  }
}
