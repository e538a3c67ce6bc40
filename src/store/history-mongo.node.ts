/**
 * The history in MongoDB, where pyreflect's web interface keeps it: database `PyReflect`, collection
 * `generations`, one document per run, with the indexes the interface never made.
 */
import {
  MongoClient,
  MongoError,
  MongoNetworkError,
  MongoNotConnectedError,
  MongoServerClosedError,
  MongoServerError,
  MongoServerSelectionError,
  MongoTopologyClosedError,
  ObjectId,
  type Collection,
  type Document,
  type Filter,
  type MongoClientOptions,
} from 'mongodb';
import { inspect } from 'node:util';
import { ReflectkitError } from '../errors.js';
import {
  HEAVY_RESULT_FIELDS,
  checkListOptions,
  checkRecordId,
  checkUserId,
  duplicateIdError,
  duplicateModelError,
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

/** Options of {@link MongoHistoryStore}. */
export interface MongoHistoryStoreOptions {
  /** A `mongodb://` or `mongodb+srv://` connection string; its password never appears in an error message. */
  uri: string;
  /** Database name (letters, digits, `_`, `-`; at most 63); default `PyReflect`, the interface's. */
  database?: string;
  /** Collection name (letters, digits, `_`, `.`, `-`; at most 120; not `system.…`); default `generations`. */
  collection?: string;
  /** How long an operation waits for a reachable server before `HISTORY_UNAVAILABLE`; default: the URI's `serverSelectionTimeoutMS`, else 5000 ms. */
  serverSelectionTimeoutMS?: number;
  /**
   * How long opening a connection (TCP, TLS and the handshake) may take; default: the URI's
   * `connectTimeoutMS`, else the server selection timeout (the driver's own default, 30 s, would let a
   * frozen server hold every retried operation that long).
   */
  connectTimeoutMS?: number;
  /** How long a socket may stay silent during an operation; default: the URI's `socketTimeoutMS`, else 30000 ms. */
  socketTimeoutMS?: number;
  /** Further driver options (they override the ones above). */
  clientOptions?: MongoClientOptions;
  /** Told when an index cannot be made (the store still works): duplicates already in the collection, no permission. */
  onWarning?: (message: string) => void;
}

/** A history document as MongoDB holds it (the interface's shape). */
export interface HistoryDocument {
  _id: ObjectId;
  user_id: string;
  name: string | null;
  created_at: Date;
  updated_at?: Date;
  params: Document;
  result: Document;
}

/**
 * The indexes {@link MongoHistoryStore.connect} makes. `user_created` serves the newest-first listing and its
 * cursor (`_id` breaks ties of `created_at`, so a page is an index range, also at 100,000 records); it also
 * serves the interface's own `find({user_id}).sort({created_at: -1})`. `user_model` makes `result.model_id`
 * unique per user; on MongoDB it is partial (only string model ids), so records without one never collide.
 */
export const HISTORY_INDEXES = {
  userCreated: { name: 'reflectkit_user_created', key: { user_id: 1, created_at: -1, _id: -1 } },
  userModel: { name: 'reflectkit_user_model', key: { user_id: 1, 'result.model_id': 1 } },
} as const;

/** The list projection: the interface's, without the large result fields. */
const LIST_PROJECTION: Document = Object.fromEntries(HEAVY_RESULT_FIELDS.map((f) => [`result.${f}`, 0]));

const URI_SCHEME = /^(mongodb(?:\+srv)?:\/\/)/i;
/** Server error codes that mean "not there right now": shutdown in progress, interrupted at shutdown, stepped down, not primary. */
const OUTAGE_CODES = new Set([91, 189, 10107, 11600, 11602, 13435, 13436]);

/** The connection string with its password replaced by `***` (the user name is kept). */
export function redactMongoUri(uri: string): string {
  const scheme = URI_SCHEME.exec(uri)?.[1];
  if (scheme === undefined) return '<not a mongodb:// URI>';
  const at = uri.lastIndexOf('@');
  if (at < scheme.length) return uri;
  const userinfo = uri.slice(scheme.length, at);
  const colon = userinfo.indexOf(':');
  return `${scheme}${colon < 0 ? userinfo : `${userinfo.slice(0, colon)}:***`}${uri.slice(at)}`;
}

/** Removes the password of `uri` (as written and percent-decoded) and any `scheme://user:password@` from `text`. */
export function redactSecrets(text: string, uri: string): string {
  let out = text.replace(/(mongodb(?:\+srv)?:\/\/[^:@\s/]*):[^\s]*@/gi, '$1:***@');
  const scheme = URI_SCHEME.exec(uri)?.[1];
  const at = uri.lastIndexOf('@');
  if (scheme !== undefined && at > scheme.length) {
    const userinfo = uri.slice(scheme.length, at);
    const colon = userinfo.indexOf(':');
    if (colon >= 0) {
      const raw = userinfo.slice(colon + 1);
      let decoded = raw;
      try {
        decoded = decodeURIComponent(raw);
      } catch {
        // not percent-encoded: only the raw form can appear
      }
      for (const secret of [raw, decoded]) if (secret.length >= 3) out = out.split(secret).join('***');
    }
  }
  return out;
}

/**
 * A numeric option of the connection string's query (names are case-insensitive, as the driver reads them),
 * or undefined when absent or not a number ≥ 0.
 */
function uriNumber(uri: string, name: string): number | undefined {
  const query = uri.indexOf('?');
  if (query < 0) return undefined;
  for (const [key, value] of new URLSearchParams(uri.slice(query + 1))) {
    if (key.toLowerCase() !== name.toLowerCase()) continue;
    const n = Number(value);
    return value.trim() !== '' && Number.isFinite(n) && n >= 0 ? n : undefined;
  }
  return undefined;
}

/** True for driver errors that mean the server cannot be reached (as opposed to a refusal). */
function isOutage(error: unknown): boolean {
  const code = (error as { code?: unknown })?.code;
  // A socket error the driver passes on as it is (EPIPE "socket has been ended by the other party", ECONNRESET).
  if (error instanceof Error && !(error instanceof MongoError) && typeof code === 'string' && /^E[A-Z]+$/.test(code)) return true;
  return (
    error instanceof MongoNetworkError ||
    error instanceof MongoServerSelectionError ||
    error instanceof MongoTopologyClosedError ||
    error instanceof MongoNotConnectedError ||
    error instanceof MongoServerClosedError ||
    (error instanceof MongoServerError && typeof error.code === 'number' && OUTAGE_CODES.has(error.code))
  );
}

/** The interface's document for a record. */
function toDocument(record: HistoryRecord): HistoryDocument {
  return {
    _id: new ObjectId(record.id),
    user_id: record.user_id,
    name: record.name,
    created_at: new Date(record.created_at),
    ...(record.updated_at === undefined ? {} : { updated_at: new Date(record.updated_at) }),
    params: record.params,
    result: record.result,
  };
}

/** A date field as ISO 8601 (BSON dates; strings some other writer stored), or undefined. */
function isoOf(value: unknown): string | undefined {
  if (value instanceof Date && Number.isFinite(value.getTime())) return value.toISOString();
  if (typeof value === 'string' && Number.isFinite(Date.parse(value))) return new Date(value).toISOString();
  return undefined;
}

/** BSON values (ObjectId, Date, Long…) as JSON, like every other store returns them. */
function plain(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null ? (JSON.parse(JSON.stringify(value)) as Record<string, unknown>) : {};
}

/** A document as a record; undefined for one whose `_id` is not an ObjectId (not addressable by a record id). */
function fromDocument(doc: Document): HistoryRecord | undefined {
  if (!(doc._id instanceof ObjectId)) return undefined;
  const updated = isoOf(doc.updated_at);
  return {
    id: doc._id.toHexString(),
    user_id: String(doc.user_id),
    name: typeof doc.name === 'string' ? doc.name : null,
    created_at: isoOf(doc.created_at) ?? doc._id.getTimestamp().toISOString(),
    ...(updated === undefined ? {} : { updated_at: updated }),
    params: plain(doc.params),
    result: plain(doc.result),
  };
}

/** What {@link MongoHistoryStore.insertRecord} did: wrote the document, or found this user's document with that id already there. */
export type MongoInsertOutcome = 'inserted' | 'existing';

/**
 * The history in a MongoDB-wire server (MongoDB, FerretDB). Connects on first use (or {@link connect}),
 * creates its indexes once, stores `_id` as an ObjectId and the dates as BSON dates. An unreachable server,
 * or one that refuses (authentication, permissions), is `HISTORY_UNAVAILABLE`, whose message names the
 * server without the password; a duplicate `model_id` for the user, or an id in use, is `HISTORY_UNAVAILABLE`
 * at `result.model_id` / `id`.
 */
export class MongoHistoryStore implements HistoryStore {
  /** `mongodb`. */
  readonly kind = 'mongodb';
  /** The database name. */
  readonly database: string;
  /** The collection name. */
  readonly collectionName: string;
  /** The connection string without its password, for messages. */
  readonly redactedUri: string;
  /**
   * The bounds on waiting for the server, ms, as the driver uses them (each: the option, else the URI's,
   * else the default). An unreachable or frozen server fails an operation with `HISTORY_UNAVAILABLE` after
   * at most about `socketTimeoutMS + 2 × connectTimeoutMS` (one retry on a new connection), and a store that
   * never reached it after `serverSelectionTimeoutMS`.
   */
  readonly timeouts: {
    /** How long an operation waits for a reachable server; default 5000. */
    serverSelectionTimeoutMS: number;
    /** How long opening a connection may take; default the server selection timeout. */
    connectTimeoutMS: number;
    /** How long a socket may stay silent during an operation; default 30000. */
    socketTimeoutMS: number;
  };
  private readonly uri: string;
  private readonly client: MongoClient;
  private readonly onWarning: (message: string) => void;
  private ready: Promise<Collection<HistoryDocument>> | undefined;
  private closed = false;

  /** Checks the options and prepares the client; nothing is sent until the first operation. */
  constructor(options: MongoHistoryStoreOptions) {
    const uri = options?.uri;
    if (typeof uri !== 'string' || !URI_SCHEME.test(uri)) {
      throw new ReflectkitError('INVALID_OPTION', `MongoDB URI ${typeof uri === 'string' ? redactMongoUri(uri) : typeof uri}`, { path: 'mongoUri', expected: 'a mongodb:// or mongodb+srv:// URI' });
    }
    this.uri = uri;
    this.redactedUri = redactMongoUri(uri);
    this.database = options.database ?? 'PyReflect';
    this.collectionName = options.collection ?? 'generations';
    if (!/^[A-Za-z0-9_-]{1,63}$/.test(this.database)) {
      throw new ReflectkitError('INVALID_OPTION', `database ${JSON.stringify(this.database.slice(0, 64))}`, { path: 'database', expected: 'letters, digits, "_" or "-", at most 63' });
    }
    if (!/^[A-Za-z0-9_.-]{1,120}$/.test(this.collectionName) || this.collectionName.startsWith('system.')) {
      throw new ReflectkitError('INVALID_OPTION', `collection ${JSON.stringify(this.collectionName.slice(0, 64))}`, { path: 'collection', expected: 'letters, digits, "_", "." or "-", at most 120, not system.*' });
    }
    this.onWarning = options.onWarning ?? (() => undefined);
    // An option given to the driver overrides the URI's: the defaults apply only where the URI has none.
    const serverSelectionTimeoutMS = options.serverSelectionTimeoutMS ?? uriNumber(uri, 'serverSelectionTimeoutMS') ?? 5000;
    try {
      this.client = new MongoClient(uri, {
        serverSelectionTimeoutMS,
        connectTimeoutMS: options.connectTimeoutMS ?? uriNumber(uri, 'connectTimeoutMS') ?? serverSelectionTimeoutMS,
        socketTimeoutMS: options.socketTimeoutMS ?? uriNumber(uri, 'socketTimeoutMS') ?? 30_000,
        appName: 'reflectkit',
        ignoreUndefined: true,
        ...options.clientOptions,
      });
    } catch (error) {
      throw new ReflectkitError('INVALID_OPTION', `MongoDB URI ${this.redactedUri}: ${redactSecrets((error as Error).message ?? String(error), uri)}`, {
        path: 'mongoUri',
        expected: 'a valid mongodb:// or mongodb+srv:// URI',
      });
    }
    const resolved = this.client.options;
    this.timeouts = { serverSelectionTimeoutMS: resolved.serverSelectionTimeoutMS, connectTimeoutMS: resolved.connectTimeoutMS, socketTimeoutMS: resolved.socketTimeoutMS };
  }

  /** `database.collection`, for messages. */
  private get namespace(): string {
    return `${this.database}.${this.collectionName}`;
  }

  /** A driver error as `HISTORY_UNAVAILABLE`, with the password removed from everything it says. */
  private unavailable(error: unknown, action: string): ReflectkitError {
    if (error instanceof ReflectkitError) return error;
    const message = redactSecrets((error as Error)?.message ?? String(error), this.uri);
    const cause = Object.assign(new Error(message), { name: (error as Error)?.name ?? 'Error', code: (error as { code?: unknown })?.code });
    const where = `${this.redactedUri} (${this.namespace})`;
    const text = isOutage(error) ? `cannot reach MongoDB at ${where} to ${action}: ${message}` : `MongoDB at ${where} refused to ${action}: ${message}`;
    return new ReflectkitError('HISTORY_UNAVAILABLE', text, { cause });
  }

  /** Connects (once) and creates the indexes; `HISTORY_UNAVAILABLE` when the server cannot be reached. */
  async connect(): Promise<void> {
    await this.collection();
  }

  private collection(): Promise<Collection<HistoryDocument>> {
    if (this.closed) return Promise.reject(new ReflectkitError('HISTORY_UNAVAILABLE', `the history store for ${this.redactedUri} is closed`));
    this.ready ??= this.open().catch((error: unknown) => {
      this.ready = undefined;
      throw this.unavailable(error, 'connect');
    });
    return this.ready;
  }

  private async open(): Promise<Collection<HistoryDocument>> {
    await this.client.connect();
    const collection = this.client.db(this.database).collection<HistoryDocument>(this.collectionName);
    await this.createIndexes(collection);
    return collection;
  }

  private async createIndexes(collection: Collection<HistoryDocument>): Promise<void> {
    const { userCreated, userModel } = HISTORY_INDEXES;
    const where = this.namespace;
    const tolerate = (error: unknown, index: string): void => {
      const code = (error as { code?: unknown })?.code;
      if (code === 85 || code === 86) return; // an index with these keys exists under another name or options: keep it
      if (code === 11000) {
        this.onWarning(`${where} already holds several records of one user with the same result.model_id, so the unique index ${index} was not made; remove the duplicates to get it`);
        return;
      }
      if (code === 13) {
        this.onWarning(`not allowed to create the index ${index} on ${where}; listing may be slow`);
        return;
      }
      throw error;
    };
    try {
      await collection.createIndex(userCreated.key, { name: userCreated.name });
    } catch (error) {
      tolerate(error, userCreated.name);
    }
    try {
      await collection.createIndex(userModel.key, { name: userModel.name, unique: true, partialFilterExpression: { 'result.model_id': { $type: 'string' } } });
    } catch (error) {
      // FerretDB 1.x has no partial indexes (code 238, NotImplemented); its SQLite indexes never match two
      // missing model ids, so the plain unique index has the same effect there.
      if ((error as { code?: unknown })?.code !== 238) return tolerate(error, userModel.name);
      try {
        await collection.createIndex(userModel.key, { name: userModel.name, unique: true });
      } catch (plainError) {
        tolerate(plainError, userModel.name);
      }
    }
  }

  /** Adds a record and returns it as stored. A record id that exists already is refused (`HISTORY_UNAVAILABLE` at `id`). */
  async add(userId: string, entry: HistoryEntry): Promise<HistoryRecord> {
    const record = prepareRecord(userId, entry);
    if ((await this.insertRecord(record)) === 'existing' && entry.id !== undefined) throw duplicateIdError(record.id, 'MongoDB');
    return record;
  }

  /**
   * Inserts a record already validated and normalised (by `prepareRecord`) with `_id` = its id. `existing` when this user's document with
   * that `_id` is there already (a retried or synced insert: never a second copy); `HISTORY_UNAVAILABLE` at
   * `result.model_id` for another record with the same model id, at `id` for another user's document.
   */
  async insertRecord(record: HistoryRecord): Promise<MongoInsertOutcome> {
    // Its ids are checked again (it is public): an id that is not a valid user or record id never reaches a query.
    checkUserId(record?.user_id);
    checkRecordId(record.id);
    const collection = await this.collection();
    const document = toDocument(record);
    try {
      await collection.insertOne(document);
      return 'inserted';
    } catch (error) {
      if (!(error instanceof MongoServerError) || error.code !== 11000) throw this.unavailable(error, 'add a record');
    }
    let holder: Document | null;
    try {
      holder = await collection.findOne({ _id: document._id }, { projection: { user_id: 1 } });
    } catch (error) {
      throw this.unavailable(error, 'add a record');
    }
    if (holder === null) throw duplicateModelError(String(record.result.model_id), 'MongoDB');
    if (holder.user_id === record.user_id) return 'existing';
    throw duplicateIdError(record.id, 'MongoDB');
  }

  /** {@inheritDoc HistoryStore.list} */
  async list(userId: string, options?: HistoryListOptions): Promise<HistoryPage> {
    const user = checkUserId(userId);
    const { limit, cursor } = checkListOptions(options);
    const filter: Filter<HistoryDocument> = { user_id: user };
    if (cursor !== undefined) {
      const time = new Date(cursor.ms);
      filter.created_at = { $lte: time };
      filter.$or = [{ created_at: { $lt: time } }, { _id: { $lt: new ObjectId(cursor.id) } }];
    }
    const collection = await this.collection();
    let documents: Document[];
    try {
      documents = await collection.find(filter, { projection: LIST_PROJECTION }).sort({ created_at: -1, _id: -1 }).limit(limit + 1).toArray();
    } catch (error) {
      throw this.unavailable(error, 'list records');
    }
    const page = documents.slice(0, limit).flatMap((doc) => fromDocument(doc) ?? []);
    const last = page.at(-1);
    if (documents.length <= limit || last === undefined) return { items: page };
    return { items: page, nextCursor: positionOf(last) };
  }

  /** {@inheritDoc HistoryStore.get} */
  async get(userId: string, id: string): Promise<HistoryRecord> {
    const user = checkUserId(userId);
    const recordId = checkRecordId(id);
    const collection = await this.collection();
    let document: Document | null;
    try {
      document = await collection.findOne({ _id: new ObjectId(recordId), user_id: user });
    } catch (error) {
      throw this.unavailable(error, 'read a record');
    }
    const record = document === null ? undefined : fromDocument(document);
    if (record === undefined) throw recordNotFound(recordId);
    return record;
  }

  /** {@inheritDoc HistoryStore.rename} */
  async rename(userId: string, id: string, name: string | null): Promise<HistoryRecord> {
    const user = checkUserId(userId);
    const recordId = checkRecordId(id);
    const newName = normalizeName(name);
    const collection = await this.collection();
    let document: Document | null;
    try {
      document = await collection.findOneAndUpdate(
        { _id: new ObjectId(recordId), user_id: user },
        { $set: { name: newName, updated_at: new Date() } },
        { returnDocument: 'after' },
      );
    } catch (error) {
      throw this.unavailable(error, 'rename a record');
    }
    const record = document === null ? undefined : fromDocument(document);
    if (record === undefined) throw recordNotFound(recordId);
    return record;
  }

  /** {@inheritDoc HistoryStore.remove} */
  async remove(userId: string, id: string): Promise<void> {
    const user = checkUserId(userId);
    const recordId = checkRecordId(id);
    const collection = await this.collection();
    let deleted: number;
    try {
      deleted = (await collection.deleteOne({ _id: new ObjectId(recordId), user_id: user })).deletedCount;
    } catch (error) {
      throw this.unavailable(error, 'delete a record');
    }
    if (deleted === 0) throw recordNotFound(recordId);
  }

  /** Closes the connections; later calls are `HISTORY_UNAVAILABLE`. */
  async close(): Promise<void> {
    this.closed = true;
    await this.client.close().catch(() => undefined);
  }

  /** The store as logs may show it (`JSON.stringify`): never the connection string's password nor the driver's client, which holds it. */
  toJSON(): {
    /** `mongodb`. */
    kind: string;
    /** The connection string without its password. */
    uri: string;
    /** The database name. */
    database: string;
    /** The collection name. */
    collection: string;
  } {
    return { kind: this.kind, uri: this.redactedUri, database: this.database, collection: this.collectionName };
  }

  /** What `util.inspect` and `console.log` show: {@link toJSON}'s fields. */
  [inspect.custom](): object {
    return { ...this.toJSON() };
  }
}
