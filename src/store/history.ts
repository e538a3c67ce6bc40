/**
 * The run history: what pyreflect's web interface keeps in MongoDB (`PyReflect.generations`), as an interface
 * with validation shared by every store. Browser-safe: no Node built-ins here (the stores are `*.node.ts`).
 */
import { z } from 'zod';
import { ReflectkitError } from '../errors.js';
import { parseOrThrow } from '../util/zod-errors.js';

/** One run in the history: the interface's document, with `_id` as a 24-hex string and dates as ISO 8601 UTC strings. */
export interface HistoryRecord {
  /** 24 lowercase hex digits in ObjectId layout (4-byte creation time in seconds first, so ids sort by creation). */
  id: string;
  /** The owner; every query is scoped by it. 1 to 128 ASCII letters, digits, `.`, `_`, `@` or `-`, starting with a letter or a digit (`USER_ID_PATTERN`). */
  user_id: string;
  /** Display name: trimmed, at most 80 characters, `null` when none. */
  name: string | null;
  /** Creation time, ISO 8601 UTC with milliseconds (`2026-12-03T10:15:00.000Z`). */
  created_at: string;
  /** Time of the last rename, when there was one. */
  updated_at?: string;
  /** The run's parameters (JSON). */
  params: Record<string, unknown>;
  /** The run's result (JSON); `model_id`, when present, is unique per user. */
  result: Record<string, unknown>;
}

/** A record as listed: `result` without its large fields (`nr`, `sld`, `training`, `chi`: `HEAVY_RESULT_FIELDS`), like the interface's list projection. */
export type HistorySummary = HistoryRecord;

/** What {@link HistoryStore.add} takes. */
export interface HistoryEntry {
  /** Display name (trimmed; `""` and `undefined` mean none; at most 80 characters). */
  name?: string | null;
  /** The run's parameters: a JSON object. */
  params: Record<string, unknown>;
  /** The run's result: a JSON object; `model_id` (optional) must be a valid model id, unique per user. */
  result: Record<string, unknown>;
  /** The record id to use (24 hex); default {@link newRecordId} of the creation time. */
  id?: string;
  /** The creation time (ISO 8601 or a Date); default now. Stored with millisecond precision. */
  createdAt?: string | Date;
}

/** Paging options of {@link HistoryStore.list}. */
export interface HistoryListOptions {
  /** Records per page: an integer from 1 to 500 (`HISTORY_MAX_LIMIT`); default 50 (`HISTORY_DEFAULT_LIMIT`). */
  limit?: number;
  /** The `nextCursor` of the previous page; omitted for the first page. */
  cursor?: string;
}

/** One page of {@link HistoryStore.list}, newest first. */
export interface HistoryPage {
  /** The records of this page, newest first (`created_at` descending, then `id` descending). */
  items: HistorySummary[];
  /** Pass as `cursor` to get the next page; absent on the last page. */
  nextCursor?: string;
  /**
   * Set by stores that combine MongoDB with the embedded store when MongoDB could not be reached: the page
   * then holds only the records of the embedded store.
   */
  offline?: boolean;
}

/**
 * A history store. Every method validates its ids first (`INVALID_ID`, before any query or path), scopes
 * everything by `userId`, and reports another user's record as `NOT_FOUND`, exactly like a missing one.
 */
export interface HistoryStore {
  /** What the store is: `embedded`, `mongodb`, or `mongodb+embedded`. */
  readonly kind: string;
  /** Adds a record and returns it as stored. */
  add(userId: string, entry: HistoryEntry): Promise<HistoryRecord>;
  /** One page of the user's records, newest first, without the large result fields. */
  list(userId: string, options?: HistoryListOptions): Promise<HistoryPage>;
  /** One record in full; `NOT_FOUND` when it does not exist or belongs to another user. */
  get(userId: string, id: string): Promise<HistoryRecord>;
  /** Renames a record (`null` or `""` clears the name; sets `updated_at`) and returns it. */
  rename(userId: string, id: string, name: string | null): Promise<HistoryRecord>;
  /** Deletes a record; `NOT_FOUND` when it does not exist or belongs to another user. */
  remove(userId: string, id: string): Promise<void>;
  /** Releases connections and handles; the store is unusable afterwards. */
  close(): Promise<void>;
}

/** The page size when none is given (the interface's limit). */
export const HISTORY_DEFAULT_LIMIT = 50;
/** The largest page size. */
export const HISTORY_MAX_LIMIT = 500;
/** The longest name, in characters (code points), after trimming. */
export const HISTORY_NAME_MAX = 80;
/** The result fields left out of listings (the interface's projection): curves, profiles, loss history, χ². */
export const HEAVY_RESULT_FIELDS = ['nr', 'sld', 'training', 'chi'] as const;
/** The largest record, as JSON (MongoDB's document limit is 16 MiB). */
export const HISTORY_MAX_RECORD_BYTES = 15 * 1024 * 1024;

/**
 * A user id: 1 to 128 characters of ASCII letters, digits, `.`, `_`, `@` and `-`, starting with a letter or a
 * digit (so an e-mail address, a UUID or `local` are valid; `/`, `\`, spaces, `..` at the start are not).
 */
export const USER_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,127}$/;
/** A record id: 24 hex digits (an ObjectId); upper case is accepted and stored in lower case. */
export const RECORD_ID_PATTERN = /^[0-9a-fA-F]{24}$/;
/** A model id in `result.model_id`: the Hub's rule: letters, digits, `.`, `_`, `-`, starting with a letter or digit, at most 128 characters, no `..`. */
export const MODEL_ID_PATTERN = /^(?!.*\.\.)[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
/** A page cursor: the 15-digit creation time in milliseconds, `_`, and the record id of the last record of the previous page. */
export const CURSOR_PATTERN = /^(\d{15})_([0-9a-f]{24})$/;

/** The latest creation time a record can have (9999-12-31T23:59:59.999Z), so times fit 15 digits. */
const MAX_TIME_MS = 253_402_300_799_999;

/** Shows at most 64 characters of a rejected value. */
function shown(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 64 ? `${value.slice(0, 64)}…` : value);
  return typeof value === 'number' || typeof value === 'boolean' || value === null ? String(value) : typeof value;
}

/** Checks a user id ({@link USER_ID_PATTERN}); `INVALID_ID` at `path` otherwise. */
export function checkUserId(value: unknown, path = 'userId'): string {
  if (typeof value !== 'string' || !USER_ID_PATTERN.test(value)) {
    throw new ReflectkitError('INVALID_ID', `user id ${shown(value)}`, {
      path,
      expected: '1 to 128 characters: letters, digits, ".", "_", "@" or "-", starting with a letter or digit',
    });
  }
  return value;
}

/** Checks a record id (24 hex digits) and returns it in lower case; `INVALID_ID` at `path` otherwise. */
export function checkRecordId(value: unknown, path = 'id'): string {
  if (typeof value !== 'string' || !RECORD_ID_PATTERN.test(value)) {
    throw new ReflectkitError('INVALID_ID', `record id ${shown(value)}`, { path, expected: '24 hexadecimal digits' });
  }
  return value.toLowerCase();
}

/** Checks a model id ({@link MODEL_ID_PATTERN}); `INVALID_ID` at `path` otherwise. */
export function checkHistoryModelId(value: unknown, path = 'result.model_id'): string {
  if (typeof value !== 'string' || !MODEL_ID_PATTERN.test(value)) {
    throw new ReflectkitError('INVALID_ID', `model id ${shown(value)}`, {
      path,
      expected: 'letters, digits, ".", "_" or "-", starting with a letter or digit, at most 128 characters, no ".."',
    });
  }
  return value;
}

/**
 * The interface's name rule: trimmed, `""` (or `null`/`undefined`) → `null`, at most 80 characters (code
 * points). `INVALID_ID` at `path` for a longer name or a non-string.
 */
export function normalizeName(value: unknown, path = 'name'): string | null {
  if (value === null || value === undefined) return null;
  if (typeof value !== 'string') throw new ReflectkitError('INVALID_ID', `name ${shown(value)}`, { path, expected: 'a string or null' });
  const trimmed = value.trim();
  if (trimmed === '') return null;
  const length = [...trimmed].length;
  if (length > HISTORY_NAME_MAX) {
    throw new ReflectkitError('INVALID_ID', `name is ${length} characters long`, { path, expected: `at most ${HISTORY_NAME_MAX} characters after trimming` });
  }
  return trimmed;
}

/** The model id of a record's result, or undefined when it has none (`null` counts as none). */
export function modelIdOf(record: { result: Record<string, unknown> }): string | undefined {
  const value = record.result.model_id;
  return typeof value === 'string' ? value : undefined;
}

/** Per-process state of {@link newRecordId}, made on first use (never at import). */
let idState: { random: Uint8Array; counter: number } | undefined;

/**
 * A new record id in ObjectId layout: 4-byte creation time in seconds (big-endian), 5 random bytes per process,
 * and a 3-byte counter that starts at a random value, all from `crypto.getRandomValues`. Ids therefore sort by
 * creation time (and, within one second of one process, by creation order).
 */
export function newRecordId(time: Date = new Date()): string {
  if (idState === undefined) {
    const seed = crypto.getRandomValues(new Uint8Array(8));
    idState = { random: seed.slice(0, 5), counter: (seed[5]! << 16) | (seed[6]! << 8) | seed[7]! };
  }
  const seconds = Math.min(Math.max(Math.floor(time.getTime() / 1000), 0), 0xffffffff);
  idState.counter = (idState.counter + 1) & 0xffffff;
  const bytes = new Uint8Array(12);
  new DataView(bytes.buffer).setUint32(0, seconds);
  bytes.set(idState.random, 4);
  bytes[9] = idState.counter >> 16;
  bytes[10] = (idState.counter >> 8) & 0xff;
  bytes[11] = idState.counter & 0xff;
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

/** Rejects keys MongoDB cannot store or query (`$…`, dotted, NUL) anywhere in a JSON value, with the path. */
function checkKeys(value: unknown, path: string): void {
  if (Array.isArray(value)) {
    value.forEach((item, i) => checkKeys(item, `${path}[${i}]`));
  } else if (typeof value === 'object' && value !== null) {
    for (const [key, item] of Object.entries(value)) {
      const where = `${path}.${key}`;
      if (key.startsWith('$') || key.includes('.') || key.includes('\0') || key === '') {
        throw new ReflectkitError('INVALID_OPTION', `key ${shown(key)} cannot be stored`, { path: where, expected: 'keys that do not start with "$" and hold no "." or NUL' });
      }
      checkKeys(item, where);
    }
  }
}

const jsonObject = z.record(z.string(), z.unknown());
const entrySchema = z.object({
  name: z.unknown().optional(),
  params: jsonObject,
  result: jsonObject,
  id: z.string().optional(),
  createdAt: z.union([z.string(), z.date()]).optional(),
});

/** Parses a creation time (ISO 8601 string or Date) to whole milliseconds; `INVALID_OPTION` at `path` otherwise. */
function timeOf(value: string | Date, path: string): number {
  const ms = value instanceof Date ? value.getTime() : Date.parse(value);
  if (!Number.isFinite(ms) || ms < 0 || ms > MAX_TIME_MS) {
    throw new ReflectkitError('INVALID_OPTION', `creation time ${shown(value instanceof Date ? value.toString() : value)}`, {
      path,
      expected: 'an ISO 8601 date between 1970 and 9999',
    });
  }
  return Math.floor(ms);
}

/** A JSON object as JSON.stringify writes it (NaN → null, Dates → strings, undefined dropped), with its size. */
function asJson(value: Record<string, unknown>, path: string): { value: Record<string, unknown>; bytes: number } {
  let text: string;
  try {
    text = JSON.stringify(value);
  } catch (error) {
    throw new ReflectkitError('INVALID_OPTION', `${path} is not JSON: ${(error as Error).message}`, { path, expected: 'a JSON object', cause: error });
  }
  const parsed = JSON.parse(text) as unknown;
  checkKeys(parsed, path);
  return { value: parsed as Record<string, unknown>, bytes: text.length };
}

/**
 * Validates an entry and makes the record every store writes: the user id, id, name, model id and creation
 * time checked; `params` and `result` normalised to JSON (so MongoDB and the embedded store hold the same
 * values); `INVALID_ID` / `INVALID_OPTION` with the field path otherwise.
 */
export function prepareRecord(userId: string, entry: HistoryEntry): HistoryRecord {
  const user = checkUserId(userId);
  const parsed = parseOrThrow(entrySchema, entry, 'INVALID_OPTION');
  const name = normalizeName(parsed.name);
  const createdMs = parsed.createdAt === undefined ? Date.now() : timeOf(parsed.createdAt, 'createdAt');
  const id = parsed.id === undefined ? newRecordId(new Date(createdMs)) : checkRecordId(parsed.id);
  const params = asJson(parsed.params, 'params');
  const result = asJson(parsed.result, 'result');
  if (result.value.model_id !== undefined && result.value.model_id !== null) checkHistoryModelId(result.value.model_id);
  if (params.bytes + result.bytes > HISTORY_MAX_RECORD_BYTES) {
    throw new ReflectkitError('INVALID_OPTION', `the record is ${params.bytes + result.bytes} bytes of JSON`, { path: 'entry', expected: `at most ${HISTORY_MAX_RECORD_BYTES} bytes` });
  }
  return { id, user_id: user, name, created_at: new Date(createdMs).toISOString(), params: params.value, result: result.value };
}

/** The record without the large result fields ({@link HEAVY_RESULT_FIELDS}), as listings show it. */
export function summarize(record: HistoryRecord): HistorySummary {
  const result: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(record.result)) {
    if (!(HEAVY_RESULT_FIELDS as readonly string[]).includes(key)) result[key] = value;
  }
  return { ...record, result };
}

/** A record's position in the newest-first order: `<15-digit created_at ms>_<id>`; also the cursor format. */
export function positionOf(record: { created_at: string; id: string }): string {
  return `${String(Date.parse(record.created_at)).padStart(15, '0')}_${record.id}`;
}

/** A parsed cursor: records strictly older than this position come next. */
export interface HistoryCursor {
  /** The position string ({@link CURSOR_PATTERN}). */
  position: string;
  /** Its creation time in milliseconds. */
  ms: number;
  /** Its record id. */
  id: string;
}

/** Parses a cursor ({@link CURSOR_PATTERN}); `INVALID_OPTION` at `cursor` otherwise. */
export function parseCursor(value: unknown): HistoryCursor {
  const match = typeof value === 'string' ? CURSOR_PATTERN.exec(value) : null;
  const ms = match ? Number(match[1]) : NaN;
  if (!match || ms > MAX_TIME_MS) {
    throw new ReflectkitError('INVALID_OPTION', `cursor ${shown(value)}`, { path: 'cursor', expected: 'the nextCursor of a previous page' });
  }
  return { position: value as string, ms, id: match[2]! };
}

/** Validated list options: the page size and the parsed cursor. */
export function checkListOptions(options: HistoryListOptions = {}): { limit: number; cursor: HistoryCursor | undefined } {
  const limit = options.limit ?? HISTORY_DEFAULT_LIMIT;
  if (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 1 || limit > HISTORY_MAX_LIMIT) {
    throw new ReflectkitError('INVALID_OPTION', `limit is ${shown(limit)}`, { path: 'limit', expected: `an integer from 1 to ${HISTORY_MAX_LIMIT}` });
  }
  return { limit, cursor: options.cursor === undefined ? undefined : parseCursor(options.cursor) };
}

/** Newest first: `created_at` descending, then `id` descending (the order of {@link positionOf}, reversed). */
export function compareNewestFirst(a: { created_at: string; id: string }, b: { created_at: string; id: string }): number {
  const pa = positionOf(a);
  const pb = positionOf(b);
  return pa < pb ? 1 : pa > pb ? -1 : 0;
}

/** `NOT_FOUND` for a record that does not exist for this user (also when another user has it: never revealed). */
export function recordNotFound(id: string): ReflectkitError {
  return new ReflectkitError('NOT_FOUND', `no history record ${id} for this user`, { path: 'id' });
}

/** `HISTORY_UNAVAILABLE` at `result.model_id`: the user already has a record with this model id. */
export function duplicateModelError(modelId: string, store: string): ReflectkitError {
  return new ReflectkitError('HISTORY_UNAVAILABLE', `${store} already holds a record of this user with model_id ${JSON.stringify(modelId)}`, {
    path: 'result.model_id',
    expected: 'a model_id not yet in this user\'s history',
  });
}

/** `HISTORY_UNAVAILABLE` at `id`: a record with this id exists already. */
export function duplicateIdError(id: string, store: string): ReflectkitError {
  return new ReflectkitError('HISTORY_UNAVAILABLE', `${store} already holds a record with id ${id}`, { path: 'id', expected: 'a new record id' });
}

/** True for the errors of {@link duplicateModelError} and {@link duplicateIdError}: refusals, not outages. */
export function isDuplicateRecordError(error: unknown): boolean {
  return error instanceof ReflectkitError && error.code === 'HISTORY_UNAVAILABLE' && (error.path === 'id' || error.path === 'result.model_id');
}
