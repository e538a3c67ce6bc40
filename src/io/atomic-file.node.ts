import { randomBytes } from 'node:crypto';
import { access, mkdir, open, readdir, rename, rm, type FileHandle } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { ReflectkitError } from '../errors.js';

/** `${path}.<random>.partial`: the temporary name a file is written under before it is renamed into place. */
export function temporaryPath(path: string): string {
  return `${path}.${randomBytes(6).toString('hex')}.partial`;
}

/** What the errno codes a writer meets most often mean, in words. */
const ERRNO_MEANING: Readonly<Record<string, string>> = {
  ENOSPC: 'no space left on device',
  EDQUOT: 'disk quota exceeded',
  EFBIG: 'file too large for this file system or process limit',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EROFS: 'read-only file system',
  EIO: 'input/output error',
  ENOENT: 'no such file or folder',
  ENOTDIR: 'a part of the path is not a folder',
  EISDIR: 'is a folder',
  EMFILE: 'too many open files',
};

/** Wraps a file-system error as `IO_ERROR` with the path; the message names the errno code and its meaning (`ENOSPC (no space left on device)`). */
export function ioError(action: string, path: string, cause: unknown): ReflectkitError {
  const code = (cause as NodeJS.ErrnoException)?.code;
  const meaning = code === undefined ? undefined : ERRNO_MEANING[code];
  const reason = code === undefined ? ((cause as Error)?.message ?? String(cause)) : meaning === undefined ? code : `${code} (${meaning})`;
  return new ReflectkitError('IO_ERROR', `could not ${action} ${path}: ${reason}`, { path, cause });
}

/**
 * Deletes the temporary files ({@link temporaryPath}) of `names` that an earlier, killed writer left in `dir`
 * (a crash never runs the cleanup that a failure does). Best effort: what cannot be listed or deleted stays.
 */
export async function removeStalePartials(dir: string, names: readonly string[]): Promise<void> {
  let entries: string[];
  try {
    entries = await readdir(dir);
  } catch {
    return;
  }
  const stale = entries.filter((entry) => {
    const match = /^(.*)\.[0-9a-f]{12}\.partial$/.exec(entry);
    return match !== null && names.includes(match[1]!);
  });
  await Promise.all(stale.map((entry) => rm(join(dir, entry), { recursive: true, force: true }).catch(() => undefined)));
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
 * Errors name `path` (the temporary name is an implementation detail) and the errno code (ENOSPC, EACCES…).
 */
export class AtomicFile {
  private sealed = false;

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
      throw ioError('create', path, error);
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
      throw ioError('write', this.path, error);
    }
  }

  /**
   * Flushes the data to disk and closes the file, still under its temporary name: after this, only
   * {@link AtomicFile.publish} (a rename, which needs no space) is left. Several files that belong together
   * are all sealed before any is published, so that a full disk fails before `path` changes. On failure the
   * temporary file is deleted.
   */
  async seal(): Promise<void> {
    if (this.sealed) return;
    try {
      await this.handle.sync();
      await this.handle.close();
      this.sealed = true;
    } catch (error) {
      await this.discard();
      throw ioError('write', this.path, error);
    }
  }

  /** Renames the sealed file over `path` (sealing it first if needed). */
  async publish(): Promise<void> {
    await this.seal();
    try {
      await rename(this.temporary, this.path);
    } catch (error) {
      await rm(this.temporary, { force: true }).catch(() => undefined);
      throw ioError('finish', this.path, error);
    }
    await syncFolder(dirname(this.path));
  }

  /** Flushes to disk, closes, and renames over `path` ({@link AtomicFile.seal}, then {@link AtomicFile.publish}). */
  async commit(): Promise<void> {
    await this.publish();
  }

  /** Closes and deletes the temporary file; `path` is left as it was. */
  async discard(): Promise<void> {
    if (!this.sealed) await this.handle.close().catch(() => undefined);
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
