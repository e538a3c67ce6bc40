/**
 * MongoDB with the embedded store as its outbox: a record is never lost because MongoDB is down, and
 * {@link syncHistory} pushes what waited, without duplicates.
 */
import { ReflectkitError } from '../errors.js';
import { FileHistoryStore } from './history-files.node.js';
import { MongoHistoryStore } from './history-mongo.node.js';
import {
  checkListOptions,
  checkRecordId,
  checkUserId,
  compareNewestFirst,
  duplicateIdError,
  isDuplicateRecordError,
  normalizeName,
  positionOf,
  prepareRecord,
  recordNotFound,
  type HistoryEntry,
  type HistoryListOptions,
  type HistoryPage,
  type HistoryRecord,
  type HistoryStore,
} from './history.js';

/** Where {@link addToHistory} put a record. */
export type HistoryPlacement = 'mongodb' | 'embedded' | 'embedded (pending sync)';

/** Options of {@link ResilientHistoryStore}. */
export interface ResilientHistoryStoreOptions {
  /** The database. */
  mongo: MongoHistoryStore;
  /** The embedded store: the outbox while MongoDB cannot be reached. */
  embedded: FileHistoryStore;
  /** Told once per outage (the first call that finds MongoDB unreachable), and of index problems. */
  onWarning?: (message: string) => void;
  /** After an outage, how long calls go straight to the embedded store before MongoDB is tried again; default 30000 ms. */
  retryAfterMs?: number;
}

/** Options of {@link syncHistory}. */
export interface HistorySyncOptions {
  /** Push every record of the embedded store, not only the pending ones (e.g. a history kept before MongoDB was configured). */
  all?: boolean;
  /** Only this user's records. */
  userId?: string;
}

/** What {@link syncHistory} did. */
export interface HistorySyncReport {
  /** Records inserted into MongoDB. */
  pushed: number;
  /** Records MongoDB had already (same `_id`: an insert whose answer was lost, or another sync): marked synced, not copied. */
  alreadyThere: number;
  /** Records MongoDB refused (another record of the user has the same `model_id`); they stay pending. */
  conflicts: {
    /** The record's owner. */
    userId: string;
    /** The record id. */
    id: string;
    /** Why MongoDB refused it. */
    message: string;
  }[];
  /** Records still pending in the embedded store afterwards. */
  remaining: number;
}

/** True for errors after which the embedded store takes over: MongoDB unreachable or refusing, not a duplicate. */
function isOutage(error: unknown): boolean {
  return error instanceof ReflectkitError && error.code === 'HISTORY_UNAVAILABLE' && !isDuplicateRecordError(error);
}

/** Runs `op`, turning `NOT_FOUND` into undefined. */
async function orMissing<T>(op: () => Promise<T>): Promise<T | undefined> {
  try {
    return await op();
  } catch (error) {
    if (error instanceof ReflectkitError && error.code === 'NOT_FOUND') return undefined;
    throw error;
  }
}

/**
 * Pushes the embedded store's pending records (or all of them) to MongoDB and drops each local copy once
 * MongoDB holds it. Each record keeps its `_id`, so a record that is there already (a duplicate-key answer)
 * is counted as `alreadyThere`, never copied twice: running it twice, or in two processes at once, gives no
 * duplicates. A local rename of such a record is applied to MongoDB. `HISTORY_UNAVAILABLE` when MongoDB
 * cannot be reached (what was pushed before stays pushed; the rest stays pending).
 */
export async function syncHistory(stores: { mongo: MongoHistoryStore; embedded: FileHistoryStore }, options: HistorySyncOptions = {}): Promise<HistorySyncReport> {
  const { mongo, embedded } = stores;
  const onlyUser = options.userId === undefined ? undefined : checkUserId(options.userId);
  const refs = (options.all === true ? await embedded.allRecords() : await embedded.pendingRecords()).filter((r) => onlyUser === undefined || r.userId === onlyUser);
  const report: HistorySyncReport = { pushed: 0, alreadyThere: 0, conflicts: [], remaining: 0 };
  for (const { userId, id } of refs) {
    const record = await orMissing(() => embedded.get(userId, id));
    if (record === undefined) {
      await embedded.forget(userId, id); // a pending mark without its record (a crash while adding): nothing to push
      continue;
    }
    try {
      const outcome = await mongo.insertRecord(record);
      if (outcome === 'inserted') report.pushed += 1;
      else {
        report.alreadyThere += 1;
        if (record.updated_at !== undefined) await orMissing(() => mongo.rename(userId, id, record.name));
      }
    } catch (error) {
      if (isDuplicateRecordError(error)) {
        report.conflicts.push({ userId, id, message: (error as Error).message });
        continue;
      }
      if (error instanceof ReflectkitError) {
        throw new ReflectkitError(error.code, `${error.message.replace(/^[A-Z_]+: /, '')} (sync stopped after ${report.pushed + report.alreadyThere} of ${refs.length} records; the rest stay pending)`, { cause: error });
      }
      throw error;
    }
    await embedded.forget(userId, id);
  }
  report.remaining = (await embedded.pendingRecords()).filter((r) => onlyUser === undefined || r.userId === onlyUser).length;
  return report;
}

/** Two newest-first pages of the same position range as one page of `limit` (MongoDB's copy wins on equal ids). */
function mergePages(remote: HistoryPage, local: HistoryPage, limit: number): HistoryPage {
  const seen = new Set(remote.items.map((r) => r.id));
  const combined = [...remote.items, ...local.items.filter((r) => !seen.has(r.id))].sort(compareNewestFirst);
  const items = combined.slice(0, limit);
  const last = items.at(-1);
  const more = combined.length > limit || remote.nextCursor !== undefined || local.nextCursor !== undefined;
  return more && last !== undefined ? { items, nextCursor: positionOf(last) } : { items };
}

/**
 * MongoDB first, the embedded store when MongoDB cannot be reached, so that no record is ever lost.
 *
 * - `add` inserts into MongoDB. When MongoDB cannot be reached (down, gone mid-run, refusing the login), the
 *   record goes to the embedded store marked pending and the call succeeds; `onWarning` is told once per
 *   outage. For `retryAfterMs` after a failure, calls skip MongoDB (no timeout per call); then it is tried again.
 * - What a user sees while MongoDB is reachable: `list` shows MongoDB's records merged with those of the
 *   embedded store that MongoDB does not have yet (newest first, one cursor for both); `get`, `rename` and
 *   `remove` find a record in either.
 * - While MongoDB cannot be reached: `list` shows only the embedded store's records, with `offline: true`;
 *   `get`, `rename` and `remove` work on those; a record that is not there (it may be in MongoDB) is
 *   `HISTORY_UNAVAILABLE`, never a false `NOT_FOUND`.
 * - {@link sync} pushes the pending records ({@link syncHistory}); the embedded store then holds only the
 *   records MongoDB does not have.
 *
 * A `model_id` is unique per user in each store; a pending record whose `model_id` MongoDB already has for
 * the user is reported by the sync as a conflict and stays pending.
 */
export class ResilientHistoryStore implements HistoryStore {
  /** `mongodb+embedded`. */
  readonly kind = 'mongodb+embedded';
  /** The database. */
  readonly mongo: MongoHistoryStore;
  /** The embedded store (outbox). */
  readonly embedded: FileHistoryStore;
  private readonly onWarning: (message: string) => void;
  private readonly retryAfterMs: number;
  private downUntil = 0;
  private warned = false;

  /** Combines the two stores; nothing is connected until the first call. */
  constructor(options: ResilientHistoryStoreOptions) {
    this.mongo = options.mongo;
    this.embedded = options.embedded;
    this.onWarning = options.onWarning ?? (() => undefined);
    this.retryAfterMs = options.retryAfterMs ?? 30_000;
  }

  /** True while calls skip MongoDB after an outage. */
  get offline(): boolean {
    return Date.now() < this.downUntil;
  }

  /** Runs `op` on MongoDB; `{ ok: false }` (and one warning per outage) when MongoDB cannot be reached. */
  private async viaMongo<T>(op: () => Promise<T>): Promise<{ ok: true; value: T } | { ok: false; error?: ReflectkitError }> {
    if (this.offline) return { ok: false };
    try {
      const value = await op();
      this.warned = false;
      return { ok: true, value };
    } catch (error) {
      if (!isOutage(error)) throw error;
      this.downUntil = Date.now() + this.retryAfterMs;
      if (!this.warned) {
        this.warned = true;
        this.onWarning(
          `${(error as Error).message.replace(/^HISTORY_UNAVAILABLE: /, '')}. Using the embedded history store ${this.embedded.dir} until MongoDB is back: ` +
            'new records are kept there, marked pending, and `reflectkit history sync` pushes them.',
        );
      }
      return { ok: false, error: error as ReflectkitError };
    }
  }

  /** `HISTORY_UNAVAILABLE`: MongoDB is unreachable and the embedded store does not have the record. */
  private unknownOffline(id: string): ReflectkitError {
    return new ReflectkitError('HISTORY_UNAVAILABLE', `MongoDB at ${this.mongo.redactedUri} cannot be reached and record ${id} is not in the embedded store; try again when MongoDB is back`, { path: 'id' });
  }

  /** {@inheritDoc HistoryStore.add} */
  async add(userId: string, entry: HistoryEntry): Promise<HistoryRecord> {
    return (await this.addWithPlacement(userId, entry)).record;
  }

  /** Like {@link add}, also saying where the record went: `mongodb` or `embedded (pending sync)`. */
  async addWithPlacement(userId: string, entry: HistoryEntry): Promise<{
    /** The record as stored. */
    record: HistoryRecord;
    /** Where it went. */
    store: HistoryPlacement;
  }> {
    const record = prepareRecord(userId, entry);
    const remote = await this.viaMongo(() => this.mongo.insertRecord(record));
    if (remote.ok) {
      if (remote.value === 'existing' && entry.id !== undefined) throw duplicateIdError(record.id, 'MongoDB');
      return { record, store: 'mongodb' };
    }
    await this.embedded.insertRecord(record, { pending: true });
    return { record, store: 'embedded (pending sync)' };
  }

  /** One page of the user's records, newest first, without the large result fields; `offline: true` when only the embedded store could be read. */
  async list(userId: string, options?: HistoryListOptions): Promise<HistoryPage> {
    checkUserId(userId);
    const { limit } = checkListOptions(options);
    const [remote, local] = await Promise.all([this.viaMongo(() => this.mongo.list(userId, options)), this.embedded.list(userId, options)]);
    return remote.ok ? mergePages(remote.value, local, limit) : { ...local, offline: true };
  }

  /** {@inheritDoc HistoryStore.get} */
  async get(userId: string, id: string): Promise<HistoryRecord> {
    checkUserId(userId);
    const recordId = checkRecordId(id);
    const remote = await this.viaMongo(() => orMissing(() => this.mongo.get(userId, recordId)));
    if (remote.ok && remote.value !== undefined) return remote.value;
    const local = await orMissing(() => this.embedded.get(userId, recordId));
    if (local !== undefined) return local;
    throw remote.ok ? recordNotFound(recordId) : this.unknownOffline(recordId);
  }

  /** {@inheritDoc HistoryStore.rename} */
  async rename(userId: string, id: string, name: string | null): Promise<HistoryRecord> {
    checkUserId(userId);
    const recordId = checkRecordId(id);
    normalizeName(name);
    const remote = await this.viaMongo(() => orMissing(() => this.mongo.rename(userId, recordId, name)));
    const local = await orMissing(() => this.embedded.rename(userId, recordId, name));
    if (remote.ok && remote.value !== undefined) return remote.value;
    if (local !== undefined) return local;
    throw remote.ok ? recordNotFound(recordId) : this.unknownOffline(recordId);
  }

  /** {@inheritDoc HistoryStore.remove} */
  async remove(userId: string, id: string): Promise<void> {
    checkUserId(userId);
    const recordId = checkRecordId(id);
    const remote = await this.viaMongo(() => orMissing(() => this.mongo.remove(userId, recordId).then(() => true)));
    const local = await orMissing(() => this.embedded.remove(userId, recordId).then(() => true));
    if ((remote.ok && remote.value === true) || local === true) return;
    throw remote.ok ? recordNotFound(recordId) : this.unknownOffline(recordId);
  }

  /** Pushes the pending records to MongoDB ({@link syncHistory}); MongoDB is tried even during an outage. */
  async sync(options: HistorySyncOptions = {}): Promise<HistorySyncReport> {
    const report = await syncHistory(this, options);
    this.downUntil = 0;
    this.warned = false;
    return report;
  }

  /** Closes both stores. */
  async close(): Promise<void> {
    await Promise.all([this.mongo.close(), this.embedded.close()]);
  }
}

/** Options of {@link openHistoryStore}. */
export interface OpenHistoryStoreOptions {
  /** MongoDB connection string; `undefined`: `REFLECTKIT_MONGODB_URI`; `null` or `""`: none (the embedded store alone). */
  mongoUri?: string | null;
  /** The embedded store's folder (the CLI's default: `REFLECTKIT_HISTORY_DIR`, else `~/.reflectkit/history`). */
  dir: string;
  /** Database; default `PyReflect`. */
  database?: string;
  /** Collection; default `generations`. */
  collection?: string;
  /** MongoDB server selection timeout; default 5000 ms. */
  serverSelectionTimeoutMS?: number;
  /** See {@link ResilientHistoryStoreOptions.retryAfterMs}. */
  retryAfterMs?: number;
  /** Told once per MongoDB outage, and of index problems. */
  onWarning?: (message: string) => void;
}

/**
 * The history store for a configuration: with a MongoDB URI (the option, else `REFLECTKIT_MONGODB_URI`) a
 * {@link ResilientHistoryStore} over MongoDB and the embedded store in `dir`; without one the
 * {@link FileHistoryStore} alone. Nothing is connected or written until the first call.
 */
export function openHistoryStore(options: OpenHistoryStoreOptions): FileHistoryStore | ResilientHistoryStore {
  const embedded = new FileHistoryStore({ dir: options.dir });
  const uri = options.mongoUri === undefined ? process.env.REFLECTKIT_MONGODB_URI : options.mongoUri;
  if (uri === undefined || uri === null || uri.trim() === '') return embedded;
  const mongo = new MongoHistoryStore({
    uri: uri.trim(),
    ...(options.database === undefined ? {} : { database: options.database }),
    ...(options.collection === undefined ? {} : { collection: options.collection }),
    ...(options.serverSelectionTimeoutMS === undefined ? {} : { serverSelectionTimeoutMS: options.serverSelectionTimeoutMS }),
    ...(options.onWarning === undefined ? {} : { onWarning: options.onWarning }),
  });
  return new ResilientHistoryStore({
    mongo,
    embedded,
    ...(options.onWarning === undefined ? {} : { onWarning: options.onWarning }),
    ...(options.retryAfterMs === undefined ? {} : { retryAfterMs: options.retryAfterMs }),
  });
}

/**
 * Adds a record to any history store and says where it went: `mongodb`, `embedded (pending sync)` (MongoDB
 * was unreachable), or `embedded` (the store has no MongoDB).
 */
export async function addToHistory(store: HistoryStore, userId: string, entry: HistoryEntry): Promise<{
  /** The record as stored. */
  record: HistoryRecord;
  /** Where it went. */
  store: HistoryPlacement;
}> {
  if (store instanceof ResilientHistoryStore) return store.addWithPlacement(userId, entry);
  const record = await store.add(userId, entry);
  return { record, store: store.kind === 'mongodb' ? 'mongodb' : 'embedded' };
}
