/**
 * The embedded history store: plain JSON files in a folder, no server. The default history of the CLI and
 * the pipeline, and the outbox of {@link ResilientHistoryStore} while MongoDB cannot be reached.
 */
import { link, mkdir, readFile, readdir, rm } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { ReflectkitError } from '../errors.js';
import { ioError, temporaryPath, writeFileAtomic } from '../io/atomic-file.node.js';
import {
  checkListOptions,
  checkRecordId,
  checkUserId,
  duplicateIdError,
  duplicateModelError,
  modelIdOf,
  normalizeName,
  positionOf,
  prepareRecord,
  recordNotFound,
  summarize,
  type HistoryEntry,
  type HistoryListOptions,
  type HistoryPage,
  type HistoryRecord,
  type HistoryStore,
  type HistorySummary,
} from './history.js';

/** Options of {@link FileHistoryStore}. */
export interface FileHistoryStoreOptions {
  /**
   * The store's folder, created on the first write. The CLI and the pipeline use `REFLECTKIT_HISTORY_DIR`,
   * else `~/.reflectkit/history` (one history per account, shared by every run folder).
   */
  dir: string;
}

/** A record of some user, as {@link FileHistoryStore.pendingRecords} and {@link FileHistoryStore.allRecords} name it. */
export interface StoredRecordRef {
  /** The owner. */
  userId: string;
  /** The record id. */
  id: string;
}

const BASE32 = 'abcdefghijklmnopqrstuvwxyz234567';
/** Ids kept readable in file names: lower case only, so that case-insensitive file systems cannot merge two of them. */
const PLAIN_NAME = /^[a-z0-9][a-z0-9_-]*$/;
const INDEX_NAME = /^(\d{15}_[0-9a-f]{24})\.json$/;
const DAY_NAME = /^\d{4}-\d{2}-\d{2}$/;

/**
 * An id (user or model, already validated) as a file name that is safe on every file system: `u-<id>` when it
 * is lower-case letters, digits, `_` and `-`; otherwise `x-` and its bytes in lower-case base32 (no case, no
 * dots, at most 207 characters for 128 bytes). Two different ids never give the same name, even ignoring case.
 */
export function encodeIdForFileName(id: string): string {
  if (PLAIN_NAME.test(id)) return `u-${id}`;
  let out = 'x-';
  let bits = 0;
  let value = 0;
  for (const byte of new TextEncoder().encode(id)) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += BASE32[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += BASE32[(value << (5 - bits)) & 31];
  return out;
}

/** The id of a file name made by {@link encodeIdForFileName}, or undefined for any other name. */
export function decodeIdFromFileName(name: string): string | undefined {
  if (name.startsWith('u-')) return PLAIN_NAME.test(name.slice(2)) ? name.slice(2) : undefined;
  if (!name.startsWith('x-')) return undefined;
  const bytes: number[] = [];
  let bits = 0;
  let value = 0;
  for (const char of name.slice(2)) {
    const digit = BASE32.indexOf(char);
    if (digit < 0) return undefined;
    value = ((value << 5) | digit) & 0xffff;
    bits += 5;
    if (bits >= 8) {
      bytes.push((value >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  const id = new TextDecoder().decode(new Uint8Array(bytes));
  return encodeIdForFileName(id) === name ? id : undefined;
}

/** The errno code of a file-system error. */
function errno(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException)?.code;
}

/** The names in a folder, or none when it does not exist. */
async function namesIn(folder: string): Promise<string[]> {
  try {
    return await readdir(folder);
  } catch (error) {
    if (errno(error) === 'ENOENT' || errno(error) === 'ENOTDIR') return [];
    throw ioError('list', folder, error);
  }
}

/** A JSON file's value, or undefined when the file does not exist. */
async function readJson(path: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if (errno(error) === 'ENOENT') return undefined;
    throw ioError('read', path, error);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new ReflectkitError('IO_ERROR', `${path} is not valid JSON: ${(error as Error).message}`, { path, cause: error });
  }
}

/** Deletes a file; a missing one is fine. */
async function removeFile(path: string): Promise<void> {
  try {
    await rm(path, { force: true });
  } catch (error) {
    throw ioError('delete', path, error);
  }
}

/** Creates a folder and its parents. */
async function makeFolder(path: string): Promise<void> {
  try {
    await mkdir(path, { recursive: true });
  } catch (error) {
    throw ioError('create', path, error);
  }
}

/**
 * The embedded history store: one JSON file per record, no server, safe for several processes at once.
 *
 * Layout (version 1) of `dir`:
 * ```
 * users/<user>/records/<id>.json                            the record in full (the truth)
 * users/<user>/index/<yyyy-mm-dd>/<ms15>_<id>.json          its summary (no nr/sld/training/chi), named by position
 * users/<user>/models/<model>                               the id of the record holding this model_id (uniqueness)
 * users/<user>/pending/<id>                                 empty: the record still has to be pushed to MongoDB
 * ```
 * `<user>` and `<model>` are the ids as safe file names (`u-<id>` for lower-case ids, else `x-` and the id's bytes in
 * lower-case base32); `<ms15>` is `created_at` in milliseconds, 15 digits.
 * Listing reads the day folders (UTC) newest first and only the page's summary files, never every record, so
 * a page costs one folder listing per day touched plus `limit` small files (about 3 ms for a page of 50
 * out of 100,000 records made over four months; about 100 ms when all 100,000 fall on one day, whose folder
 * is then listed whole: benchmarks/RESULTS.md, "History"). Every file is written
 * atomically (temporary file, fsync, rename); a record is added pending marker first, record, model claim,
 * then summary, and removed in the reverse order, so a crash leaves at worst an unlisted record that is
 * still pushed by a sync (and listed again when the same record is added again), never a listed record
 * without its data. A `model_id` is claimed with an atomic
 * exclusive link, so two processes cannot both add it for one user.
 */
export class FileHistoryStore implements HistoryStore {
  /** `embedded`. */
  readonly kind = 'embedded';
  /** The store's folder (absolute). */
  readonly dir: string;

  /** Checks the options; touches nothing on disk until the first write. */
  constructor(options: FileHistoryStoreOptions) {
    if (typeof options?.dir !== 'string' || options.dir.trim() === '') {
      throw new ReflectkitError('INVALID_OPTION', 'the history folder is missing', { path: 'dir', expected: 'a folder path' });
    }
    this.dir = resolve(options.dir);
  }

  /** The folder of a user (validated). */
  private userDir(userId: string): string {
    return join(this.dir, 'users', encodeIdForFileName(checkUserId(userId)));
  }

  private recordPath(userDir: string, id: string): string {
    return join(userDir, 'records', `${id}.json`);
  }

  private indexPath(userDir: string, record: { created_at: string; id: string }): string {
    return join(userDir, 'index', record.created_at.slice(0, 10), `${positionOf(record)}.json`);
  }

  /** {@inheritDoc HistoryStore.add} */
  async add(userId: string, entry: HistoryEntry): Promise<HistoryRecord> {
    return this.insertRecord(prepareRecord(userId, entry));
  }

  /**
   * Stores a record already validated and normalised (by `prepareRecord`) as it is; `pending` marks it for {@link syncHistory}.
   * A record id already here, or a `model_id` this user already has, is refused (`HISTORY_UNAVAILABLE` at
   * `id` / `result.model_id`); a record id already here whose summary a crash left unwritten gets it back first.
   */
  async insertRecord(record: HistoryRecord, options: { pending?: boolean } = {}): Promise<HistoryRecord> {
    const user = this.userDir(record.user_id);
    const id = checkRecordId(record.id);
    const path = this.recordPath(user, id);
    const existing = (await readJson(path)) as HistoryRecord | undefined;
    if (existing !== undefined) {
      // A crash between the record and its summary left it unlisted: a retried add (same id) lists it again.
      if (existing.user_id === record.user_id && (await readJson(this.indexPath(user, existing))) === undefined) {
        await makeFolder(dirname(this.indexPath(user, existing)));
        await writeFileAtomic(this.indexPath(user, existing), JSON.stringify(summarize(existing)));
      }
      throw duplicateIdError(id, 'the embedded history store');
    }
    const pendingPath = join(user, 'pending', id);
    if (options.pending === true) {
      await makeFolder(dirname(pendingPath));
      await writeFileAtomic(pendingPath, '');
    }
    try {
      await makeFolder(dirname(path));
      await writeFileAtomic(path, JSON.stringify(record));
      const modelId = modelIdOf(record);
      if (modelId !== undefined) await this.claimModel(user, modelId, id);
    } catch (error) {
      await removeFile(path);
      if (options.pending === true) await removeFile(pendingPath);
      throw error;
    }
    const index = this.indexPath(user, record);
    try {
      await makeFolder(dirname(index));
      await writeFileAtomic(index, JSON.stringify(summarize(record)));
    } catch (error) {
      // Unlisted, the record would exist without showing up: a failed add leaves nothing behind.
      const modelId = modelIdOf(record);
      await Promise.all([
        removeFile(path),
        modelId === undefined ? undefined : this.releaseModel(user, modelId, id),
        options.pending === true ? removeFile(pendingPath) : undefined,
      ]).catch(() => undefined);
      throw error;
    }
    return record;
  }

  /** Removes the `models/<model>` claim when it names `id`. */
  private async releaseModel(user: string, modelId: string, id: string): Promise<void> {
    const claim = join(user, 'models', encodeIdForFileName(modelId));
    const owner = await readFile(claim, 'utf8').catch(() => '');
    if (owner.trim() === id) await removeFile(claim);
  }

  /** Makes `models/<model>` name `id`, unless a record of this user that still exists holds it. */
  private async claimModel(user: string, modelId: string, id: string): Promise<void> {
    const path = join(user, 'models', encodeIdForFileName(modelId));
    await makeFolder(dirname(path));
    const temporary = temporaryPath(path);
    await writeFileAtomic(temporary, id);
    try {
      await link(temporary, path);
      return;
    } catch (error) {
      if (errno(error) !== 'EEXIST') throw ioError('create', path, error);
    } finally {
      await removeFile(temporary);
    }
    let owner: string;
    try {
      owner = (await readFile(path, 'utf8')).trim();
    } catch (error) {
      throw ioError('read', path, error);
    }
    if (owner !== id && /^[0-9a-f]{24}$/.test(owner) && (await readJson(this.recordPath(user, owner))) !== undefined) {
      throw duplicateModelError(modelId, 'the embedded history store');
    }
    await writeFileAtomic(path, id); // a claim left by a crash or a removed record: take it over
  }

  /** {@inheritDoc HistoryStore.list} */
  async list(userId: string, options?: HistoryListOptions): Promise<HistoryPage> {
    const { limit, cursor } = checkListOptions(options);
    const index = join(this.userDir(userId), 'index');
    const firstDay = cursor === undefined ? undefined : new Date(cursor.ms).toISOString().slice(0, 10);
    const days = (await namesIn(index))
      .filter((d) => DAY_NAME.test(d) && (firstDay === undefined || d <= firstDay))
      .sort()
      .reverse();
    const positions: { day: string; position: string }[] = [];
    for (const day of days) {
      const here = (await namesIn(join(index, day)))
        .map((name) => INDEX_NAME.exec(name)?.[1])
        .filter((p): p is string => p !== undefined && (cursor === undefined || p < cursor.position))
        .sort()
        .reverse();
      for (const position of here) {
        positions.push({ day, position });
        if (positions.length > limit) break;
      }
      if (positions.length > limit) break;
    }
    const page = positions.slice(0, limit);
    const read = await Promise.all(page.map(({ day, position }) => readJson(join(index, day, `${position}.json`))));
    const items = read.filter((item): item is HistorySummary => item !== undefined);
    const last = page.at(-1);
    return positions.length > limit && last !== undefined ? { items, nextCursor: last.position } : { items };
  }

  /** {@inheritDoc HistoryStore.get} */
  async get(userId: string, id: string): Promise<HistoryRecord> {
    const user = this.userDir(userId);
    const recordId = checkRecordId(id);
    const record = (await readJson(this.recordPath(user, recordId))) as HistoryRecord | undefined;
    if (record === undefined || record.user_id !== userId) throw recordNotFound(recordId);
    return record;
  }

  /** True when this user's record is here. */
  async has(userId: string, id: string): Promise<boolean> {
    return (await readJson(this.recordPath(this.userDir(userId), checkRecordId(id)))) !== undefined;
  }

  /** {@inheritDoc HistoryStore.rename} */
  async rename(userId: string, id: string, name: string | null): Promise<HistoryRecord> {
    const user = this.userDir(userId);
    const recordId = checkRecordId(id);
    const newName = normalizeName(name);
    const record = await this.get(userId, recordId);
    const updated: HistoryRecord = { ...record, name: newName, updated_at: new Date().toISOString() };
    await writeFileAtomic(this.recordPath(user, recordId), JSON.stringify(updated));
    try {
      await writeFileAtomic(this.indexPath(user, updated), JSON.stringify(summarize(updated)));
    } catch (error) {
      // The listing would show the old name and the record the new one: put the record back as it was.
      await writeFileAtomic(this.recordPath(user, recordId), JSON.stringify(record)).catch(() => undefined);
      throw error;
    }
    return updated;
  }

  /** {@inheritDoc HistoryStore.remove} */
  async remove(userId: string, id: string): Promise<void> {
    const user = this.userDir(userId);
    const recordId = checkRecordId(id);
    const record = await this.get(userId, recordId);
    await removeFile(this.indexPath(user, record));
    await removeFile(this.recordPath(user, recordId));
    const modelId = modelIdOf(record);
    if (modelId !== undefined) await this.releaseModel(user, modelId, recordId);
    await removeFile(join(user, 'pending', recordId));
  }

  /** True when the record is marked as still to be pushed to MongoDB. */
  async isPending(userId: string, id: string): Promise<boolean> {
    const names = await namesIn(join(this.userDir(userId), 'pending'));
    return names.includes(checkRecordId(id));
  }

  /** Every record marked pending, of every user, oldest id first. */
  async pendingRecords(): Promise<StoredRecordRef[]> {
    return this.refs((user) => namesIn(join(user, 'pending')).then((names) => names.filter((n) => /^[0-9a-f]{24}$/.test(n))));
  }

  /** Every record in the store, of every user, oldest id first. */
  async allRecords(): Promise<StoredRecordRef[]> {
    return this.refs(async (user) =>
      (await namesIn(join(user, 'records'))).flatMap((n) => /^([0-9a-f]{24})\.json$/.exec(n)?.[1] ?? []),
    );
  }

  private async refs(idsOf: (userDir: string) => Promise<string[]>): Promise<StoredRecordRef[]> {
    const out: StoredRecordRef[] = [];
    for (const folder of (await namesIn(join(this.dir, 'users'))).sort()) {
      const userId = decodeIdFromFileName(folder);
      if (userId === undefined) continue;
      for (const id of (await idsOf(join(this.dir, 'users', folder))).sort()) out.push({ userId, id });
    }
    return out;
  }

  /** Drops a record that MongoDB now holds (after a sync): no `NOT_FOUND` when it is gone already. */
  async forget(userId: string, id: string): Promise<void> {
    try {
      await this.remove(userId, id);
    } catch (error) {
      if (!(error instanceof ReflectkitError && error.code === 'NOT_FOUND')) throw error;
      await removeFile(join(this.userDir(userId), 'pending', checkRecordId(id)));
    }
  }

  /** Nothing to release (no handles are kept open). */
  async close(): Promise<void> {}
}
