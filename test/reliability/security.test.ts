/**
 * Security across modules: user scoping in every history query (embedded store, MongoDB through FerretDB,
 * the resilient combination, syncHistory, the CLI), tokens and passwords never in any output, and no path
 * traversal from user-supplied names (model ids, repository ids, run names, bundle manifests, history ids,
 * user ids as file names). Real parts only: FerretDB behind a wire tap that decodes every command the
 * stores send, the Hub protocol server, the CLI in child processes.
 */
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { cpSync, existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, sep } from 'node:path';
import { inspect, promisify } from 'node:util';
import fc from 'fast-check';
import { MongoClient, ObjectId, type Document } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ReflectkitError } from '../../src/errors.js';
import { useBackend } from '../../src/nn/backend.js';
import { createCnn } from '../../src/nn/cnn.js';
import { loadBundle, saveBundle } from '../../src/nn/model-folder.node.js';
import { parsePipelineConfig } from '../../src/pipeline/config.js';
import type { PipelineEvent } from '../../src/pipeline/events.js';
import { resumePipeline, runPipeline } from '../../src/pipeline/run.node.js';
import { NrSldScaler } from '../../src/preprocess/scaler.js';
import { FileHistoryStore, decodeIdFromFileName, encodeIdForFileName } from '../../src/store/history-files.node.js';
import { MongoHistoryStore } from '../../src/store/history-mongo.node.js';
import { ResilientHistoryStore } from '../../src/store/history-sync.node.js';
import { positionOf, prepareRecord, type HistoryRecord, type HistoryStore } from '../../src/store/history.js';
import { HubStore } from '../../src/store/hub.node.js';
import { rejection } from '../helpers/errors.js';
import { startFerretDb, type FerretDb } from '../helpers/ferretdb.js';
import { startHubServer, type HubServer } from '../helpers/hub-server.js';
import { freshUser, sampleResult } from '../store/history-contract.js';
import { startTappedFerretDb, type TappedCommand, type TappedFerretDb, type WireTap } from './mongo-wire-tap.js';

const ROOT = join(import.meta.dirname, '..', '..');
const RUNNER = join(ROOT, 'test', 'helpers', 'run-cli.ts');
const execFileAsync = promisify(execFile);
const scratch = mkdtempSync(join(tmpdir(), 'reflectkit-security-'));
const fresh = (name: string): string => mkdtempSync(join(scratch, `${name}-`));

/** Counts of generated and listed cases, printed at the end (recorded in docs/reliability.md). */
const counts: Record<string, number> = {};
const count = (what: string, n = 1): void => {
  counts[what] = (counts[what] ?? 0) + n;
};

/** The CLI in a child process (asynchronous: the servers answer from this process). */
async function cli(args: string[], env: Record<string, string | undefined> = {}): Promise<{ status: number; stdout: string; stderr: string }> {
  const merged: Record<string, string | undefined> = { ...process.env, REFLECTKIT_MONGODB_URI: undefined, REFLECTKIT_USER: undefined, HF_TOKEN: undefined, ...env };
  const childEnv = Object.fromEntries(Object.entries(merged).filter((e): e is [string, string] => e[1] !== undefined));
  try {
    const { stdout, stderr } = await execFileAsync(process.execPath, ['--import', 'tsx', RUNNER, ...args], { cwd: ROOT, env: childEnv, maxBuffer: 1 << 24 });
    return { status: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string };
    return { status: typeof e.code === 'number' ? e.code : -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

/** Every file under `dir` (relative path → SHA-1 of its bytes); folders as `dir`. */
function snapshot(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (at: string): void => {
    for (const entry of readdirSync(at, { withFileTypes: true })) {
      const path = join(at, entry.name);
      if (entry.isDirectory()) {
        out.set(relative(dir, path), 'dir');
        walk(path);
      } else out.set(relative(dir, path), createHash('sha1').update(readFileSync(path)).digest('hex'));
    }
  };
  if (existsSync(dir)) walk(dir);
  return out;
}

/** Every file under `dir` with its bytes. */
function filesUnder(dir: string): Array<{ path: string; bytes: Buffer }> {
  const out: Array<{ path: string; bytes: Buffer }> = [];
  const walk = (at: string): void => {
    for (const entry of readdirSync(at, { withFileTypes: true })) {
      const path = join(at, entry.name);
      if (entry.isDirectory()) walk(path);
      else out.push({ path, bytes: readFileSync(path) });
    }
  };
  if (existsSync(dir)) walk(dir);
  return out;
}

/** An error's every face: message, stack, each cause, JSON and util.inspect. */
function faces(error: unknown): string[] {
  const out: string[] = [];
  let current: unknown = error;
  for (let depth = 0; current !== undefined && current !== null && depth < 8; depth++) {
    out.push(String((current as Error).message), String((current as Error).stack));
    current = (current as { cause?: unknown }).cause;
  }
  out.push(JSON.stringify(error), inspect(error, { depth: null, showHidden: true }));
  return out;
}

/** Expects none of `secrets` in any of `texts` (strings or bytes), naming where one was found. */
function expectNoSecret(where: string, texts: Array<string | Buffer>, secrets: readonly string[]): void {
  for (const text of texts) {
    for (const secret of secrets) {
      const found = typeof text === 'string' ? text.includes(secret) : text.includes(Buffer.from(secret));
      expect(found, `${where} holds the secret ${secret.slice(0, 4)}…`).toBe(false);
    }
  }
}

// ─────────────────────────────── user scoping ───────────────────────────────

let server: TappedFerretDb;
let ferret: FerretDb;
let tap: WireTap;
let raw: MongoClient;

beforeAll(async () => {
  server = await startTappedFerretDb();
  ({ ferret, tap, raw } = server);
});

afterAll(async () => {
  await server?.close();
  console.log(`security.test.ts cases: ${JSON.stringify(counts)}`);
});

type Kind = 'embedded' | 'mongodb' | 'mongodb+embedded';

/** A store of `kind` on a fresh folder and collection, MongoDB through the wire tap. */
function openStore(kind: Kind, options: { serverSelectionTimeoutMS?: number } = {}): { store: HistoryStore; dir: string; collection: string } {
  const dir = join(fresh('history'), 'store');
  const collection = `sec_${randomBytes(4).toString('hex')}`;
  const mongo = () => new MongoHistoryStore({ uri: tap.uri(), collection, serverSelectionTimeoutMS: options.serverSelectionTimeoutMS ?? 5000 });
  if (kind === 'embedded') return { store: new FileHistoryStore({ dir }), dir, collection };
  if (kind === 'mongodb') return { store: mongo(), dir, collection };
  return { store: new ResilientHistoryStore({ mongo: mongo(), embedded: new FileHistoryStore({ dir }), retryAfterMs: 0 }), dir, collection };
}

/** The record filters of a command (the inserted documents for `insert`). */
function filtersOf(command: TappedCommand): Document[] {
  const body = command.body;
  switch (command.name) {
    case 'find':
    case 'count':
      return [(body.filter ?? body.query ?? {}) as Document];
    case 'findAndModify':
      return [body.query as Document];
    case 'delete':
      return (body.deletes as Document[]).map((d) => d.q as Document);
    case 'update':
      return (body.updates as Document[]).map((u) => u.q as Document);
    case 'insert':
      return body.documents as Document[];
    case 'aggregate':
      return [((body.pipeline as Document[])[0]?.$match ?? {}) as Document];
    default:
      return [{}];
  }
}

/**
 * Checks that every record command in `commands` is scoped to `user` (its filter's `user_id` is exactly that
 * string), except the lookup after a duplicate-key insert, which may only read the holder's `user_id`.
 * Returns how many commands were checked.
 */
function expectScoped(commands: TappedCommand[], user: string): number {
  commands.forEach((command, i) => {
    for (const filter of filtersOf(command)) {
      if (filter.user_id === user) continue;
      // The one unscoped read: after an insert refused for a duplicate _id, whose document holds that _id.
      const afterInsert = commands[i - 1]?.name === 'insert';
      expect({ command: command.name, filter, projection: command.body.projection, afterInsert }, `unscoped ${command.name}`).toEqual({
        command: 'find',
        filter: { _id: expect.any(ObjectId) },
        projection: { user_id: 1 },
        afterInsert: true,
      });
    }
  });
  return commands.length;
}

const KINDS: Kind[] = ['embedded', 'mongodb', 'mongodb+embedded'];

describe('user scoping in every history query', () => {
  for (const kind of KINDS) {
    it(`${kind}: user B cannot read, rename, delete or page into user A's records, even with A's exact ids and cursors`, async () => {
      const { store, dir } = openStore(kind);
      const alice = freshUser('alice');
      const bob = freshUser('bob');
      const aRecords: HistoryRecord[] = [];
      const bRecords: HistoryRecord[] = [];
      for (let i = 0; i < 6; i++) {
        aRecords.push(await store.add(alice, { name: `alice secret ${i}`, params: { i, who: 'alice-params' }, result: sampleResult(`alice-model-${i}`), createdAt: `2026-01-0${i + 1}T06:00:00.000Z` }));
      }
      for (let i = 0; i < 4; i++) bRecords.push(await store.add(bob, { name: `bob ${i}`, params: { i }, result: sampleResult(`bob-model-${i}`), createdAt: `2026-01-0${i + 2}T18:00:00.000Z` }));
      const aliceBefore = await Promise.all(aRecords.map((r) => store.get(alice, r.id)));
      const aliceListBefore = await store.list(alice, { limit: 500 });
      const aliceFilesBefore = snapshot(join(dir, 'users', encodeIdForFileName(alice)));
      const tapStart = tap.crud().length;
      let bobCalls = 0;

      for (const record of aRecords) {
        for (const id of [record.id, record.id.toUpperCase()]) {
          for (const [what, call] of [
            ['get', () => store.get(bob, id)],
            ['rename', () => store.rename(bob, id, 'taken over')],
            ['remove', () => store.remove(bob, id)],
          ] as const) {
            const error = await rejection(call());
            expect([what, error.code, error.path]).toEqual([what, 'NOT_FOUND', 'id']);
            for (const face of faces(error)) {
              expect(face).not.toContain(alice);
              expect(face).not.toContain('alice secret');
            }
            count('scoping: guessed-id calls');
            bobCalls++;
          }
        }
      }

      // Listing: only B's records, and A's cursors (or crafted ones) page through B's records only.
      const newestFirst = [...bRecords].sort((a, b) => (positionOf(a) < positionOf(b) ? 1 : -1));
      const bobPage = await store.list(bob, { limit: 500 });
      expect(bobPage.items.map((r) => r.id)).toEqual(newestFirst.map((r) => r.id));
      expect(bobPage.items.every((r) => r.user_id === bob)).toBe(true);
      const aliceCursors: string[] = [];
      let cursor: string | undefined;
      do {
        const page = await store.list(alice, { limit: 2, ...(cursor === undefined ? {} : { cursor }) });
        cursor = page.nextCursor;
        if (cursor !== undefined) aliceCursors.push(cursor);
      } while (cursor !== undefined);
      expect(aliceCursors.length).toBe(2);
      const crafted = ['253402300799999_ffffffffffffffffffffffff', ...aRecords.map((r) => positionOf(r)), `${positionOf(aRecords[3]!).slice(0, 16)}${'0'.repeat(24)}`];
      for (const c of [...aliceCursors, ...crafted]) {
        const page = await store.list(bob, { cursor: c, limit: 500 });
        expect(page.items.map((r) => r.id), c).toEqual(newestFirst.filter((r) => positionOf(r) < c).map((r) => r.id));
        expect(page.items.every((r) => r.user_id === bob && !r.name?.includes('alice'))).toBe(true);
        count('scoping: foreign or crafted cursors');
        bobCalls++;
      }

      // B may use A's model ids (unique per user), which never touches A's records.
      const sameModel = await store.add(bob, { params: {}, result: { model_id: 'alice-model-0' } });
      expect(sameModel.user_id).toBe(bob);

      // B adding a record with A's exact id: MongoDB refuses (one _id space); the embedded store keeps B's own copy.
      if (kind === 'embedded') {
        const own = await store.add(bob, { id: aRecords[0]!.id, params: { hijack: true }, result: {} });
        expect(own.user_id).toBe(bob);
        expect((await store.get(bob, aRecords[0]!.id)).params).toEqual({ hijack: true });
      } else {
        const error = await rejection(store.add(bob, { id: aRecords[0]!.id, params: { hijack: true }, result: {} }));
        expect([error.code, error.path]).toEqual(['HISTORY_UNAVAILABLE', 'id']);
        expect(error.message).not.toContain(alice);
        expect((await rejection(store.get(bob, aRecords[0]!.id))).code).toBe('NOT_FOUND');
      }

      // A's records are exactly as before.
      expect(await Promise.all(aRecords.map((r) => store.get(alice, r.id)))).toEqual(aliceBefore);
      expect(await store.list(alice, { limit: 500 })).toEqual(aliceListBefore);
      if (kind === 'embedded') expect(snapshot(join(dir, 'users', encodeIdForFileName(alice)))).toEqual(aliceFilesBefore);
      else {
        // Every command B's calls put on the wire carried B's user id in its filter (or was the duplicate-key lookup).
        const bobCommands = tap.crud().slice(tapStart).filter((c) => !filtersOf(c).some((f) => f.user_id === alice));
        // Each of B's calls sent at least one command.
        expect(expectScoped(bobCommands, bob)).toBeGreaterThanOrEqual(bobCalls);
        count('scoping: wire commands checked', bobCommands.length);
      }
      await store.close();
    });
  }

  const BAD_USERS: unknown[] = [
    '{"$ne": null}', { $ne: null }, { $gt: '' }, ['alice'], '../alice', '..', '.', 'a/../b', '/etc', 'C:\\x', 'alice\0', 'alice\n', ' alice', '',
    '$where', 'alice$', '..%2Falice', 'ａlice', 'al\u2024\u2024ice', 'x'.repeat(129), 'x'.repeat(100_000), 42, null, undefined,
  ];
  const GOOD_ID = '6750f1c2a1b2c3d4e5f60718';
  const BAD_IDS: unknown[] = [
    '{"$gt": ""}', { $gt: '' }, { $ne: null }, '../../etc/passwd', `${GOOD_ID}/..`, `../${GOOD_ID}`, 'f'.repeat(23), 'f'.repeat(25), 'g'.repeat(24),
    `${GOOD_ID.slice(0, 23)}\0`, 'x'.repeat(100_000), '', ` ${GOOD_ID}`, `${GOOD_ID}\n`, new ObjectId(GOOD_ID), 12345, null,
  ];

  for (const kind of KINDS) {
    it(`${kind}: injection-style and traversal user ids, record ids and cursors are refused before any query or path`, async () => {
      const { store, dir } = openStore(kind);
      const before = tap.crud().length;
      const calls: Array<[string, () => Promise<unknown>, string, string]> = [];
      for (const user of BAD_USERS) {
        const u = user as string;
        calls.push(
          ['add', () => store.add(u, { params: {}, result: {} }), 'INVALID_ID', 'userId'],
          ['list', () => store.list(u), 'INVALID_ID', 'userId'],
          ['get', () => store.get(u, GOOD_ID), 'INVALID_ID', 'userId'],
          ['rename', () => store.rename(u, GOOD_ID, 'n'), 'INVALID_ID', 'userId'],
          ['remove', () => store.remove(u, GOOD_ID), 'INVALID_ID', 'userId'],
        );
        // (sync without a user id syncs every user: only defined ids are refused)
        if (store instanceof ResilientHistoryStore && u !== undefined) calls.push(['sync', () => store.sync({ userId: u }), 'INVALID_ID', 'userId']);
        if (store instanceof FileHistoryStore) {
          calls.push(['insertRecord', () => store.insertRecord({ ...prepareRecord('alice', { params: {}, result: {} }), user_id: u }), 'INVALID_ID', 'userId']);
          calls.push(['isPending', () => store.isPending(u, GOOD_ID), 'INVALID_ID', 'userId'], ['forget', () => store.forget(u, GOOD_ID), 'INVALID_ID', 'userId']);
        }
        if (store instanceof MongoHistoryStore) calls.push(['insertRecord', () => store.insertRecord({ ...prepareRecord('alice', { params: {}, result: {} }), user_id: u }), 'INVALID_ID', 'userId']);
      }
      for (const id of BAD_IDS) {
        const i = id as string;
        calls.push(
          ['get', () => store.get('alice', i), 'INVALID_ID', 'id'],
          ['rename', () => store.rename('alice', i, 'n'), 'INVALID_ID', 'id'],
          ['remove', () => store.remove('alice', i), 'INVALID_ID', 'id'],
          ['add', () => store.add('alice', { id: i, params: {}, result: {} }), typeof id === 'string' ? 'INVALID_ID' : 'INVALID_OPTION', 'id'],
          ['list', () => store.list('alice', { cursor: i }), 'INVALID_OPTION', 'cursor'],
        );
        if (store instanceof FileHistoryStore || store instanceof MongoHistoryStore) {
          calls.push(['insertRecord', () => (store as FileHistoryStore).insertRecord({ ...prepareRecord('alice', { params: {}, result: {} }), id: i }), 'INVALID_ID', 'id']);
        }
      }
      for (const model of ['../../etc', '/abs', 'a\\b', '..', '{"$ne":null}', 'x'.repeat(129)]) {
        calls.push(['add', () => store.add('alice', { params: {}, result: { model_id: model } }), 'INVALID_ID', 'result.model_id']);
      }
      calls.push(['add', () => store.add('alice', { params: { $where: 'sleep(1)' }, result: {} }), 'INVALID_OPTION', 'params.$where']);
      calls.push(['add', () => store.add('alice', { params: {}, result: { 'a.b': { $ne: 1 } } }), 'INVALID_OPTION', 'result.a.b']);
      for (const [what, call, code, path] of calls) {
        const error = await rejection(call());
        expect([what, error.code, error.path]).toEqual([what, code, path]);
      }
      count(`injection: refused calls (${kind})`, calls.length);
      expect(tap.crud().length - before).toBe(0); // no query reached MongoDB
      expect(existsSync(dir)).toBe(false); // no path was made
      await store.close();
    });
  }

  it('embedded store: any string as a user id is refused (INVALID_ID, nothing written) or kept in its own safe folder (fast-check)', async () => {
    const dir = join(fresh('fc-users'), 'store');
    const store = new FileHistoryStore({ dir });
    const pieces = fc.constantFrom('..', '.', '/', '\\', '\0', '%2F', '@', '-', '_', 'A', 'a', 'Z', '0', 'é', '．', '\u2024', 'CON', 'u-', 'x-', ' ');
    const userIds = fc.oneof(fc.string({ maxLength: 140 }), fc.string({ unit: 'binary', maxLength: 40 }), fc.array(pieces, { maxLength: 30 }).map((p) => p.join('')));
    const seen = new Map<string, string>();
    let accepted = 0;
    let refused = 0;
    await fc.assert(
      fc.asyncProperty(userIds, async (user) => {
        const before = snapshot(dir);
        try {
          await store.add(user, { params: {}, result: {} });
        } catch (error) {
          expect(error).toBeInstanceOf(ReflectkitError);
          expect([(error as ReflectkitError).code, (error as ReflectkitError).path]).toEqual(['INVALID_ID', 'userId']);
          expect(snapshot(dir)).toEqual(before);
          refused++;
          return;
        }
        accepted++;
        const folder = encodeIdForFileName(user);
        expect(folder).toMatch(/^[ux]-[a-z0-9_-]{1,220}$/);
        expect(decodeIdFromFileName(folder)).toBe(user);
        // Two user ids never share a folder, even on a case-insensitive file system.
        const other = seen.get(folder.toLowerCase());
        expect(other === undefined || other === user).toBe(true);
        seen.set(folder.toLowerCase(), user);
        for (const path of snapshot(dir).keys()) {
          if (before.has(path) || path === 'users') continue;
          expect(path.split(sep).slice(0, 2)).toEqual(['users', folder]);
        }
      }),
      { numRuns: 250, seed: 20261207 },
    );
    count('fast-check: user ids as file names', accepted + refused);
    expect(accepted).toBeGreaterThan(10);
    expect(refused).toBeGreaterThan(10);
  });

  it('MongoDB stopped mid-run: B still cannot reach A\'s records, and a sync scoped to B pushes only B\'s, never over A\'s', async () => {
    const collection = `sec_sync_${randomBytes(4).toString('hex')}`;
    const dir = join(fresh('sync'), 'store');
    const mongo = new MongoHistoryStore({ uri: tap.uri(), collection, serverSelectionTimeoutMS: 800 });
    const store = new ResilientHistoryStore({ mongo, embedded: new FileHistoryStore({ dir }), retryAfterMs: 0 });
    const alice = freshUser('alice');
    const bob = freshUser('bob');
    const online = await store.add(alice, { name: 'alice online', params: { a: 1 }, result: { model_id: 'alice-online' } });
    const docs = raw.db('PyReflect').collection(collection);
    const onlineDoc = await docs.findOne({ _id: new ObjectId(online.id) });
    let pendingAlice: HistoryRecord;
    let pendingBob: HistoryRecord;
    let hijack: HistoryRecord;
    await ferret.stop();
    try {
      pendingAlice = await store.add(alice, { name: 'alice pending', params: { a: 2 }, result: { model_id: 'alice-pending' } });
      pendingBob = await store.add(bob, { name: 'bob pending', params: { b: 1 }, result: {} });
      for (const id of [online.id, pendingAlice.id]) {
        for (const call of [() => store.rename(bob, id, 'mine'), () => store.remove(bob, id), () => store.get(bob, id)]) {
          // Offline, a record the embedded store lacks may be in MongoDB: "unavailable", never A's record.
          const error = await rejection(call());
          expect(error.code).toBe('HISTORY_UNAVAILABLE');
          for (const face of faces(error)) expect(face).not.toContain('alice');
        }
      }
      // B, offline, adds a record under A's MongoDB id: it goes to B's own pending folder, and is all B sees.
      hijack = await store.add(bob, { id: online.id, name: 'bob hijack', params: { hijack: true }, result: {} });
      expect(hijack.user_id).toBe(bob);
      expect(await store.get(bob, online.id)).toEqual(hijack);
      const bobOffline = await store.list(bob, { limit: 500 });
      expect(bobOffline.offline).toBe(true);
      expect(bobOffline.items.map((r) => r.id).sort()).toEqual([pendingBob.id, hijack.id].sort());
    } finally {
      await ferret.restart();
    }
    await store.close();
    // A new process's store (a fresh client) over the same folder and collection.
    const next = new ResilientHistoryStore({ mongo: new MongoHistoryStore({ uri: tap.uri(), collection }), embedded: new FileHistoryStore({ dir }), retryAfterMs: 0 });
    // A sync scoped to B pushes B's records only; the hijack collides with A's _id and stays pending as a conflict.
    const bobSync = await next.sync({ userId: bob });
    expect(bobSync.pushed).toBe(1);
    expect(bobSync.conflicts.map((c) => [c.userId, c.id])).toEqual([[bob, online.id]]);
    expect(bobSync.conflicts[0]!.message).not.toContain(alice);
    expect(await next.embedded.isPending(alice, pendingAlice!.id)).toBe(true);
    expect(await docs.findOne({ _id: new ObjectId(online.id) })).toEqual(onlineDoc);
    expect(await docs.countDocuments({ user_id: alice })).toBe(1);
    // The full sync pushes A's pending record as A's.
    const all = await next.sync();
    expect(all.pushed).toBe(1);
    expect(all.conflicts.map((c) => c.userId)).toEqual([bob]);
    expect((await docs.findOne({ _id: new ObjectId(pendingAlice!.id) }))?.user_id).toBe(alice);
    expect((await next.list(alice)).items.map((r) => r.id).sort()).toEqual([online.id, pendingAlice!.id].sort());
    expect((await next.list(bob)).items.map((r) => r.id).sort()).toEqual([pendingBob!.id, hijack!.id].sort());
    expect((await next.get(bob, online.id)).params).toEqual({ hijack: true });
    expect((await next.get(alice, online.id)).name).toBe('alice online');
    await next.close();
  });

  it('the CLI scopes every history command to --user / REFLECTKIT_USER and refuses injection-style ids before any query', async () => {
    const collection = `sec_cli_${randomBytes(4).toString('hex')}`;
    const dir = join(fresh('cli-history'), 'store');
    const mongo = new MongoHistoryStore({ uri: tap.uri(), collection });
    const setup = new ResilientHistoryStore({ mongo, embedded: new FileHistoryStore({ dir }) });
    const alice = await setup.add('alice', { name: 'alice secret', params: {}, result: { model_id: 'a1' }, createdAt: '2026-02-01T00:00:00.000Z' });
    await setup.add('alice', { name: 'alice older', params: {}, result: {}, createdAt: '2026-01-15T00:00:00.000Z' });
    const bob = await setup.add('bob', { name: 'bob run', params: {}, result: {}, createdAt: '2026-01-10T00:00:00.000Z' });
    const aliceCursor = (await setup.list('alice', { limit: 1 })).nextCursor!;
    await setup.close();
    const docs = raw.db('PyReflect').collection(collection);
    const aliceDoc = await docs.findOne({ _id: new ObjectId(alice.id) });
    const common = ['--dir', dir, '--mongodb', tap.uri(), '--collection', collection];

    const show = await cli(['history', 'show', alice.id, '--user', 'bob', '--json', ...common]);
    const rename = await cli(['history', 'rename', alice.id, 'pwned', '--user', 'bob', ...common]);
    const rm = await cli(['history', 'rm', alice.id, ...common], { REFLECTKIT_USER: 'bob' });
    for (const run of [show, rename, rm]) {
      expect(run.status, run.stderr).toBe(2);
      expect(run.stderr).toContain('NOT_FOUND');
      expect(run.stderr + run.stdout).not.toContain('alice');
    }
    const paged = await cli(['history', 'list', '--user', 'bob', '--cursor', aliceCursor, '--json', ...common]);
    expect(paged.status, paged.stderr).toBe(0);
    expect((JSON.parse(paged.stdout) as { items: HistoryRecord[] }).items.map((r) => r.id)).toEqual([bob.id]);
    expect(await docs.findOne({ _id: new ObjectId(alice.id) })).toEqual(aliceDoc);

    const before = tap.crud().length;
    const injected = [
      await cli(['history', 'show', '{"$ne":null}', '--user', 'bob', '--json', ...common]),
      await cli(['history', 'list', '--user', '{"$ne": null}', '--json', ...common]),
      await cli(['history', 'list', '--json', ...common], { REFLECTKIT_USER: '../alice' }),
      await cli(['history', 'rm', `../${alice.id}`, '--user', 'bob', '--json', ...common]),
      await cli(['history', 'sync', '--user', 'alice/../bob', '--json', ...common]),
    ];
    for (const run of injected) {
      expect(run.status, run.stderr).toBe(2);
      expect((JSON.parse(run.stderr) as { error: { code: string } }).error.code).toBe('INVALID_ID');
    }
    count('cli: scoping and injection runs', 9);
    expect(tap.crud().length).toBe(before);
  });
});

// ─────────────────────── tokens and passwords never leak ───────────────────────

describe('tokens and passwords never appear in any output', () => {
  const TOKEN = `hf_SecTok${randomBytes(8).toString('hex')}`;
  const PASSWORD = `Pw:${randomBytes(4).toString('hex')}@Sx/9`;
  const SECRETS = [TOKEN, PASSWORD, encodeURIComponent(PASSWORD)];
  let secured: FerretDb;
  let hub: HubServer;
  let securedRaw: MongoClient;
  let bundleDir: string;
  const saved: Record<string, string | undefined> = {};

  const setEnv = (values: Record<string, string | undefined>): void => {
    for (const [key, value] of Object.entries(values)) {
      if (!(key in saved)) saved[key] = process.env[key];
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
  };

  beforeAll(async () => {
    secured = await startFerretDb({ auth: { username: 'alice', password: PASSWORD, database: 'PyReflect' } });
    securedRaw = new MongoClient(secured.uri);
    hub = await startHubServer({ tokens: { [TOKEN]: { user: 'alice' } } });
    await useBackend('wasm');
    bundleDir = join(fresh('bundle'), 'model');
    const cnn = createCnn({ layers: 1, kernelSize: 3, inputPoints: 16, outputPoints: 8, seed: 5 });
    const scaler = NrSldScaler.fromPyreflect({ nr: { x: { min: 0.01, max: 0.2 }, y: { min: -8, max: 0 } }, sld: { x: { min: 0, max: 300 }, y: { min: 0, max: 6 } } });
    await saveBundle(bundleDir, cnn, scaler, { modelId: 'sec-model-1' });
    cnn.model.dispose();
  });

  afterAll(async () => {
    for (const [key, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
    await securedRaw?.close();
    await hub?.close();
    await secured?.destroy();
  });

  const wrongUri = (): string => secured.uri.replace(encodeURIComponent(PASSWORD), encodeURIComponent(`${PASSWORD}-wrong`));
  const redacted = (): string => secured.uri.replace(encodeURIComponent(PASSWORD), '***');

  /** The small pipeline run of these tests: 40 curves, a 1-block CNN, wasm in this thread. */
  const smallRun = (extra: Record<string, unknown>) => ({
    generator: { numCurves: 40, numQPoints: 32, sldOutputPoints: 48, workers: 0 },
    training: { epochs: 1, batchSize: 16, layers: 1, kernelSize: 3, head: 'bottleneck', bottleneckChannels: 2 },
    seed: 3,
    backend: 'wasm',
    ...extra,
  });

  it('runPipeline with a Hub token (echoed back by the Hub in errors) and a MongoDB password: in no event, file, record, bundle or result', async () => {
    const root = fresh('pipeline-secrets');
    const out = join(root, 'out');
    const historyDir = join(root, 'history');
    setEnv({ HF_TOKEN: TOKEN, HF_ENDPOINT: hub.url, REFLECTKIT_MONGODB_URI: undefined });
    hub.inject({ method: 'POST', path: /\/commit\/main$/, fault: { kind: 'status', status: 500, message: `upstream refused Authorization: Bearer ${TOKEN}` } });
    hub.inject({ method: 'POST', path: /\/paths-info\/main$/, fault: { kind: 'status', status: 503, message: `token ${TOKEN} is being rotated` } });
    hub.inject({ method: 'POST', path: /\/preupload\/main$/, fault: { kind: 'rate-limit', retryAfterS: 1 } });
    const name = '  ../../../escape/..\\evil\u0000<script>alert(1)</script>  ';
    const events: PipelineEvent[] = [];
    const result = await runPipeline(
      smallRun({ name, storage: { hub: { repo: 'alice/sec-models' }, history: { userId: 'alice', dir: historyDir, mongodbUri: secured.uri, collection: 'sec_pipeline' } } }),
      { outDir: out, trainingWorkers: 0, onEvent: (e) => events.push(e) },
    );
    hub.clearFaults();
    // The faults were met (retries logged, with the echoed secret scrubbed) and the run still reached every target.
    const logs = events.filter((e): e is Extract<PipelineEvent, { type: 'log' }> => e.type === 'log').map((e) => e.message);
    expect(logs.filter((m) => /retry 1 of/.test(m)).length).toBeGreaterThanOrEqual(3);
    expect(logs.some((m) => m.includes('Bearer ***'))).toBe(true);
    expect(result.history?.store).toBe('mongodb');
    expect(result.hub?.browse).toContain('alice/sec-models');

    // The run name never became a path: one run folder under --out, named by time, and nothing else anywhere.
    expect(readdirSync(root).filter((n) => n !== 'history')).toEqual(['out']);
    expect(readdirSync(out)).toEqual([expect.stringMatching(/^run-\d{8}-\d{6}-[0-9a-f]{4}$/)]);
    expect(existsSync(join(scratch, 'escape'))).toBe(false);
    expect(result.name).toBe(name.trim());

    // The MongoDB URI is kept without its password wherever the config is kept.
    const state = JSON.parse(readFileSync(join(result.runDir, 'pipeline.json'), 'utf8')) as { config: { storage: { history: { mongodbUri: string } } } };
    expect(state.config.storage.history.mongodbUri).toBe(redacted());
    const documents = await securedRaw.db('PyReflect').collection('sec_pipeline').find({}).toArray();
    expect(documents.length).toBe(1);
    expect((documents[0]!.params as { reflectkit: typeof state.config }).reflectkit.storage.history.mongodbUri).toBe(redacted());
    expect(documents[0]!.name).toBe(name.trim());

    const hubFiles = [...hub.repo('dataset', 'alice/sec-models')!.files.values()].map((f) => f.bytes);
    expect(hubFiles.length).toBeGreaterThanOrEqual(5);
    const files = filesUnder(root);
    expect(files.length).toBeGreaterThan(10);
    expectNoSecret('the run folder and history folder', [...files.map((f) => f.bytes), ...files.map((f) => f.path)], SECRETS);
    expectNoSecret('the events and the result', [JSON.stringify(events), inspect(events, { depth: null }), JSON.stringify(result), inspect(result, { depth: null })], SECRETS);
    expectNoSecret('the MongoDB documents', [JSON.stringify(documents), ...documents.map((d) => Buffer.from(JSON.stringify(d)))], SECRETS);
    expectNoSecret('the files on the Hub and the request lines', [...hubFiles, JSON.stringify(hub.requests)], SECRETS);
    count('secrets: pipeline outputs scanned', files.length + hubFiles.length + events.length + documents.length);
  });

  it('a resumed run takes the MongoDB password from REFLECTKIT_MONGODB_URI, never from its folder; without it the record waits, pending, with a warning', async () => {
    setEnv({ HF_TOKEN: undefined, REFLECTKIT_MONGODB_URI: undefined });
    const root = fresh('pipeline-resume');
    const runDir = join(root, 'run');
    const controller = new AbortController();
    const config = smallRun({ storage: { history: { userId: 'alice', dir: join(root, 'history'), mongodbUri: secured.uri, collection: 'sec_resume' } } });
    const stopped = await rejection(
      runPipeline(config, { runDir, trainingWorkers: 0, signal: controller.signal, onEvent: (e) => e.type === 'phase' && e.phase === 'train' && e.status === 'start' && controller.abort() }),
    );
    expect(stopped.code).toBe('ABORTED');
    expect(readFileSync(join(runDir, 'pipeline.json'), 'utf8')).toContain(redacted());
    const copy = join(root, 'copy');
    cpSync(runDir, copy, { recursive: true });

    setEnv({ REFLECTKIT_MONGODB_URI: secured.uri });
    const withEnv: PipelineEvent[] = [];
    const resumed = await resumePipeline(runDir, { trainingWorkers: 0, onEvent: (e) => withEnv.push(e) });
    expect(resumed.history?.store).toBe('mongodb');
    expect(withEnv.filter((e) => e.type === 'log' && e.level === 'warn')).toEqual([]);
    expect(await securedRaw.db('PyReflect').collection('sec_resume').countDocuments({ _id: new ObjectId(resumed.history!.id) })).toBe(1);

    setEnv({ REFLECTKIT_MONGODB_URI: undefined });
    const without: PipelineEvent[] = [];
    const waited = await resumePipeline(copy, { trainingWorkers: 0, onEvent: (e) => without.push(e) });
    expect(waited.history?.store).toBe('embedded (pending sync)');
    const warnings = without.filter((e): e is Extract<PipelineEvent, { type: 'log' }> => e.type === 'log' && e.level === 'warn').map((e) => e.message);
    expect(warnings[0]).toContain('pipeline.json keeps the MongoDB URI without its password');
    // MongoDB is not even tried with the redacted password (a failed login can lock an account): one warning.
    expect(warnings.length).toBe(1);
    const embedded = new FileHistoryStore({ dir: join(root, 'history') });
    expect(await embedded.isPending('alice', waited.history!.id)).toBe(true);
    const files = filesUnder(root);
    expectNoSecret('the resumed run folders', files.map((f) => f.bytes), SECRETS);
    expectNoSecret('the resumed runs\' events', [JSON.stringify(withEnv), JSON.stringify(without), inspect(without, { depth: null })], SECRETS);
  });

  it('errors (message, causes, JSON, util.inspect, stack), log lines and the stores themselves never show the token or the password', async () => {
    setEnv({ HF_TOKEN: undefined, HF_ENDPOINT: undefined });
    const errors: unknown[] = [];
    const logs: string[] = [];
    // MongoDB: a wrong password, an unreachable server, a malformed URI, a config that is not a MongoDB URI.
    const wrong = new MongoHistoryStore({ uri: wrongUri(), serverSelectionTimeoutMS: 2000 });
    errors.push(await rejection(wrong.list('alice')), await rejection(wrong.add('alice', { params: {}, result: {} })));
    const unreachable = new MongoHistoryStore({ uri: `mongodb://alice:${encodeURIComponent(PASSWORD)}@127.0.0.1:9/`, serverSelectionTimeoutMS: 300 });
    errors.push(await rejection(unreachable.get('alice', '6750f1c2a1b2c3d4e5f60718')));
    try {
      new MongoHistoryStore({ uri: `mongodb://alice:${encodeURIComponent(PASSWORD)}@[::1` });
    } catch (error) {
      errors.push(error);
    }
    try {
      parsePipelineConfig({ storage: { history: { mongodbUri: `postgres://alice:${PASSWORD}@db/` } } });
    } catch (error) {
      errors.push(error);
    }
    // The Hub: a refusal that echoes the token, 5xx until the retries run out, a hang, a cut body.
    const store = (retries: number) => new HubStore({ repo: 'alice/sec-errors', token: TOKEN, hubUrl: hub.url, retries, retryDelayMs: 1, timeoutMs: 400, onLog: (m) => logs.push(m) });
    await store(0).uploadFiles('m1', [{ name: 'config.json', path: join(bundleDir, 'config.json') }]);
    hub.inject({ path: /\/tree\//, fault: { kind: 'status', status: 403, message: `token ${TOKEN} may not read this` } });
    errors.push(await rejection(store(2).listBundles()));
    hub.inject({ path: /\/tree\//, times: 3, fault: { kind: 'status', status: 500, message: `Bearer ${TOKEN} rejected upstream` } });
    errors.push(await rejection(store(2).pullBundle('m1', join(fresh('pull'), 'x'))));
    hub.inject({ path: /\/tree\//, times: 2, fault: { kind: 'hang' } });
    errors.push(await rejection(store(1).hasBundle('m1')));
    hub.inject({ path: /\/tree\//, times: 2, fault: { kind: 'truncate', mode: 'reset' } });
    errors.push(await rejection(store(1).listBundles()));
    hub.clearFaults();
    expect(errors.length).toBe(9);
    for (const error of errors) expect(error).toBeInstanceOf(ReflectkitError);
    expect(errors.map((e) => (e as ReflectkitError).code)).toEqual(['HISTORY_UNAVAILABLE', 'HISTORY_UNAVAILABLE', 'HISTORY_UNAVAILABLE', 'INVALID_OPTION', 'INVALID_CONFIG', 'HUB_REQUEST', 'HUB_REQUEST', 'HUB_REQUEST', 'HUB_REQUEST']);
    expect(logs.some((m) => m.includes('***'))).toBe(true);
    expectNoSecret('the errors', errors.flatMap(faces), SECRETS);
    expectNoSecret('the Hub log lines', logs, SECRETS);
    // The stores as a log would show them.
    const resilient = new ResilientHistoryStore({ mongo: new MongoHistoryStore({ uri: secured.uri }), embedded: new FileHistoryStore({ dir: fresh('inspect') }) });
    const shown = [inspect(wrong, { depth: null }), JSON.stringify(wrong), inspect(resilient, { depth: null }), JSON.stringify(resilient), inspect(store(1), { depth: null, showHidden: true }), JSON.stringify(store(1))];
    expect(shown[0]).toContain('alice:***@');
    expectNoSecret('the stores', shown, SECRETS);
    count('secrets: error faces and log lines scanned', errors.length * 5 + logs.length + shown.length);
    await Promise.all([wrong.close(), unreachable.close(), resilient.close()]);
  });

  it('the CLI (run, hub push|pull|list, history list|show|sync) prints neither the token nor the password, also when the Hub echoes it and MongoDB refuses', async () => {
    const root = fresh('cli-secrets');
    const env = { HF_TOKEN: TOKEN, HF_ENDPOINT: hub.url };
    const config = join(root, 'config.json');
    writeFileSync(config, JSON.stringify(smallRun({ name: 'cli secrets', storage: { hub: { repo: 'alice/sec-cli' }, history: { userId: 'alice', dir: join(root, 'history'), mongodbUri: secured.uri, collection: 'sec_cli' } } })));
    const runs: Array<{ label: string; run: Awaited<ReturnType<typeof cli>> }> = [];

    hub.inject({ method: 'POST', path: /\/commit\/main$/, fault: { kind: 'status', status: 500, message: `internal error; Authorization: Bearer ${TOKEN}` } });
    const run = await cli(['run', config, '--out', join(root, 'runs')], env);
    runs.push({ label: 'run', run });
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/History: record [0-9a-f]{24} \(mongodb\)/);
    expect(run.stderr).toContain('Bearer ***');

    hub.inject({ method: 'POST', path: /\/commit\/main$/, fault: { kind: 'status', status: 502, message: `gateway saw token ${TOKEN}` } });
    const push = await cli(['hub', 'push', bundleDir, '--repo', 'alice/sec-cli2'], env);
    runs.push({ label: 'hub push', run: push });
    expect(push.status, push.stderr).toBe(0);
    expect(push.stderr).toMatch(/answered 502 "gateway saw token \*\*\*"/);
    hub.inject({ path: /\/tree\//, fault: { kind: 'status', status: 403, message: `Bearer ${TOKEN} cannot list` } });
    const list = await cli(['hub', 'list', '--repo', 'alice/sec-cli2', '--json'], env);
    runs.push({ label: 'hub list', run: list });
    expect(list.status).toBe(1);
    expect(list.stderr).toContain('HUB_REQUEST');
    hub.inject({ path: /\/tree\//, fault: { kind: 'status', status: 401, message: `invalid token ${TOKEN}` } });
    const pull = await cli(['hub', 'pull', 'sec-model-1', '--repo', 'alice/sec-cli2', '--out', join(root, 'pulled')], env);
    runs.push({ label: 'hub pull', run: pull });
    expect(pull.status).toBe(1);
    expect(pull.stderr).toContain('check the token');
    hub.clearFaults();

    const dir = join(root, 'cli-history');
    const pending = prepareRecord('alice', { name: 'waiting', params: {}, result: {} });
    await new FileHistoryStore({ dir }).insertRecord(pending, { pending: true });
    const good = await cli(['history', 'list', '--user', 'alice', '--dir', dir, '--mongodb', secured.uri, '--collection', 'sec_cli'], env);
    runs.push({ label: 'history list', run: good });
    expect(good.status, good.stderr).toBe(0);
    expect(good.stdout).toContain('cli secrets');
    const refused = await cli(['history', 'list', '--user', 'alice', '--dir', dir, '--mongodb', wrongUri()], env);
    runs.push({ label: 'history list (wrong password)', run: refused });
    expect(refused.status).toBe(0);
    expect(refused.stderr).toMatch(/^reflectkit: warning: MongoDB at mongodb:\/\/alice:\*\*\*@/);
    const show = await cli(['history', 'show', '6750f1c2a1b2c3d4e5f60718', '--user', 'alice', '--dir', dir, '--mongodb', wrongUri(), '--json'], env);
    runs.push({ label: 'history show (wrong password)', run: show });
    expect(show.status).toBe(1);
    expect(show.stderr).toContain('HISTORY_UNAVAILABLE');
    const sync = await cli(['history', 'sync', '--dir', dir, '--mongodb', wrongUri(), '--json'], env);
    runs.push({ label: 'history sync (wrong password)', run: sync });
    expect(sync.status).toBe(1);
    expect(sync.stderr).toContain('HISTORY_UNAVAILABLE');
    for (const { label, run: r } of runs) expectNoSecret(`reflectkit ${label}`, [r.stdout, r.stderr], [...SECRETS, `${PASSWORD}-wrong`, encodeURIComponent(`${PASSWORD}-wrong`)]);
    // Everything the commands wrote (config.json is the user's own input, which holds the password).
    expectNoSecret('the CLI run folders', filesUnder(root).filter((f) => f.path !== config).map((f) => f.bytes), SECRETS);
    count('secrets: CLI runs', runs.length);
  });
});

// ─────────────────────────────── path traversal ───────────────────────────────

describe('no path traversal from user-supplied names', () => {
  let hub: HubServer;
  let bundleDir: string;
  const TOKEN = `hf_Trav${randomBytes(8).toString('hex')}`;

  beforeAll(async () => {
    hub = await startHubServer({ tokens: { [TOKEN]: { user: 'alice' } } });
    await useBackend('wasm');
    bundleDir = join(fresh('trav-bundle'), 'model');
    const cnn = createCnn({ layers: 1, kernelSize: 3, inputPoints: 16, outputPoints: 8, seed: 7 });
    const scaler = NrSldScaler.fromPyreflect({ nr: { x: { min: 0.01, max: 0.2 }, y: { min: -8, max: 0 } }, sld: { x: { min: 0, max: 300 }, y: { min: 0, max: 6 } } });
    await saveBundle(bundleDir, cnn, scaler, { modelId: 'trav-model' });
    cnn.model.dispose();
  });
  afterAll(async () => {
    await hub?.close();
  });

  const hubStore = () => new HubStore({ repo: 'alice/trav', token: TOKEN, hubUrl: hub.url, retries: 0, retryDelayMs: 1 });
  const BAD_MODEL_IDS = [
    '../../etc', '../x', '/etc/passwd', '..%2F..%2Fetc', '%2e%2e', 'a\0b', '..\\..\\x', 'a\\b', 'C:\\x', 'a/b', 'models/../x', '.', '..', '', '.hidden',
    'a..b', '\u2024\u2024', '．．', 'ｍodel', 'x'.repeat(129), ' model', 'model\n', 'model ', 'mo del',
  ];

  it('model ids: every Hub call refuses a traversal id (INVALID_ID) before any request or file', async () => {
    const root = fresh('trav-ids');
    const evil = join(fresh('trav-evil'), 'model');
    cpSync(bundleDir, evil, { recursive: true });
    const evilManifest = join(fresh('trav-evil'), 'model');
    cpSync(bundleDir, evilManifest, { recursive: true });
    const bundleConfig = JSON.parse(readFileSync(join(evil, 'config.json'), 'utf8')) as { modelId: string; files: Record<string, unknown> };
    writeFileSync(join(evil, 'config.json'), JSON.stringify({ ...bundleConfig, modelId: '../../outside' }));
    writeFileSync(join(evilManifest, 'config.json'), JSON.stringify({ ...bundleConfig, files: { ...bundleConfig.files, '../secret.txt': { bytes: 1, sha256: '0'.repeat(64) } } }));
    const before = snapshot(scratch);
    const requests = hub.requests.length;
    const store = hubStore();
    let n = 0;
    for (const id of BAD_MODEL_IDS) {
      const calls: Array<() => unknown> = [
        () => store.pullBundle(id, join(root, 'pulled')),
        () => store.pushBundle(bundleDir, { modelId: id }),
        () => store.uploadFiles(id, [{ name: 'config.json', path: join(bundleDir, 'config.json') }]),
        () => store.uploadTrainingData(id, { nr: join(bundleDir, 'config.json'), sld: join(bundleDir, 'config.json') }),
        () => store.hasBundle(id),
        () => store.urls(id),
      ];
      for (const call of calls) {
        const error = await rejection((async () => call())());
        expect([id, error.code, error.path]).toEqual([id, 'INVALID_ID', 'modelId']);
        n++;
      }
    }
    // Uploaded file names and the bundle's own model id go through the same rules.
    for (const name of ['../x', 'a/b', 'a\\b', '..', '.', '', 'x\0']) {
      const error = await rejection(store.uploadFiles('ok-model', [{ name, path: join(bundleDir, 'config.json') }]));
      expect([error.code, error.path]).toEqual(['INVALID_ID', 'files[0].name']);
      n++;
    }
    // A local bundle whose config names a traversal model id, or a manifest file outside the folder.
    expect((await rejection(store.pushBundle(evil))).code).toBe('INVALID_ID');
    expect((await rejection(store.pushBundle(evilManifest))).code).toBe('CHECKPOINT_INVALID');
    n += 2;
    expect(hub.requests.length).toBe(requests);
    expect(snapshot(scratch)).toEqual(before);
    count('traversal: refused Hub calls', n);
  });

  it('the hub commands refuse traversal model ids and repositories with exit code 2, before any request or file', async () => {
    const root = fresh('trav-cli');
    const requests = hub.requests.length;
    const env = { HF_TOKEN: TOKEN, HF_ENDPOINT: hub.url };
    const runs = [
      await cli(['hub', 'pull', '../../etc', '--repo', 'alice/trav', '--out', join(root, 'out'), '--json'], env),
      await cli(['hub', 'push', bundleDir, '--model-id', '..\\..\\x', '--repo', 'alice/trav', '--json'], env),
      await cli(['hub', 'list', '--repo', 'alice/../../etc', '--json'], env),
    ];
    for (const run of runs) {
      expect(run.status, run.stderr).toBe(2);
      expect((JSON.parse(run.stderr) as { error: { code: string } }).error.code).toBe('INVALID_ID');
    }
    expect(hub.requests.length).toBe(requests);
    expect(snapshot(root)).toEqual(new Map());
    count('traversal: CLI hub runs', runs.length);
  });

  it('model ids (fast-check): any string is refused, or every Hub URL made from it stays in models/{id}/', () => {
    const store = hubStore();
    const pieces = fc.constantFrom('..', '.', '/', '\\', '%2F', '%2e', '\0', '?', '#', 'a', 'Z', '9', '-', '_', '．', ' ');
    let accepted = 0;
    let refused = 0;
    fc.assert(
      fc.property(fc.oneof(fc.string({ maxLength: 140 }), fc.array(pieces, { maxLength: 20 }).map((p) => p.join(''))), (id) => {
        let urls: ReturnType<HubStore['urls']>;
        try {
          urls = store.urls(id, ['config.json']);
        } catch (error) {
          expect(error).toBeInstanceOf(ReflectkitError);
          expect((error as ReflectkitError).code).toBe('INVALID_ID');
          refused++;
          return;
        }
        accepted++;
        expect(new URL(urls.files['config.json']!).pathname).toBe(`/datasets/alice/trav/resolve/main/models/${id}/config.json`);
        expect(new URL(urls.browse).pathname).toBe(`/datasets/alice/trav/tree/main/models/${id}`);
      }),
      { numRuns: 2000, seed: 20261207 },
    );
    count('fast-check: model ids in Hub URLs', accepted + refused);
    expect(accepted).toBeGreaterThan(50);
    expect(refused).toBeGreaterThan(50);
  });

  it('repository ids, and the config\'s hub repo, user id, database and collection, refuse traversal and injection', () => {
    let n = 0;
    for (const repo of ['../x', 'a/..', '../../a/b', 'a/b/c', '/a/b', 'a/b/', 'a/.', './b', 'a%2F..%2Fb/c', 'a\\b/c', 'a/b\0', 'ａ/b', 'a/b?x=1', 'a/b#x', '', 'a']) {
      try {
        new HubStore({ repo, token: TOKEN, hubUrl: hub.url });
        throw new Error(`accepted ${repo}`);
      } catch (error) {
        expect([repo, (error as ReflectkitError).code, (error as ReflectkitError).path]).toEqual([repo, 'INVALID_ID', 'repo']);
      }
      n++;
    }
    const bad: Array<[Record<string, unknown>, string]> = [
      [{ hub: { repo: '../../etc/x' } }, 'storage.hub.repo'],
      [{ hub: { repo: 'a/b/../../c' } }, 'storage.hub.repo'],
      [{ history: { userId: '../alice' } }, 'storage.history.userId'],
      [{ history: { userId: '{"$ne":null}' } }, 'storage.history.userId'],
      [{ history: { database: '{"$ne":1}' } }, 'storage.history.database'],
      [{ history: { database: '../admin' } }, 'storage.history.database'],
      [{ history: { collection: 'gen/../x' } }, 'storage.history.collection'],
      [{ history: { collection: '$cmd' } }, 'storage.history.collection'],
    ];
    for (const [storage, path] of bad) {
      try {
        parsePipelineConfig({ storage });
        throw new Error(`accepted ${JSON.stringify(storage)}`);
      } catch (error) {
        expect([(error as ReflectkitError).code, (error as ReflectkitError).path]).toEqual(['INVALID_CONFIG', path]);
      }
      n++;
    }
    expect(() => new MongoHistoryStore({ uri: 'mongodb://127.0.0.1:9/', collection: 'system.users' })).toThrow(/INVALID_OPTION at collection/);
    count('traversal: refused repo ids and config fields', n + 1);
  });

  /** Puts files straight into a repository of the Hub server, as a malicious (or broken) uploader could. */
  function plant(repoName: string, files: Record<string, Buffer>): void {
    const repo = hub.repo('dataset', repoName) ?? hub.addRepo('dataset', repoName, false);
    for (const [path, bytes] of Object.entries(files)) repo.files.set(path, { bytes, lfs: false, commit: 'planted' });
  }

  it('a malicious Hub repository (manifest or listing naming ../, backslashes, dot names) never writes outside the target folder', async () => {
    const store = new HubStore({ repo: 'mallory/evil', hubUrl: hub.url, retries: 0, retryDelayMs: 1 });
    const config = readFileSync(join(bundleDir, 'config.json'));
    const bundleConfig = JSON.parse(config.toString('utf8')) as { files: Record<string, { bytes: number; sha256: string }> };
    const files = Object.fromEntries(Object.keys(bundleConfig.files).map((name) => [name, readFileSync(join(bundleDir, name))]));
    const cases: Array<[string, Record<string, Buffer>, string]> = [];
    // 1. The manifest lists a file outside the folder.
    const outside = Buffer.from('pwned\n');
    const manifest = { ...bundleConfig, files: { ...bundleConfig.files, '../../pwned.txt': { bytes: outside.length, sha256: createHash('sha256').update(outside).digest('hex') } } };
    cases.push(['manifest ../', { 'models/m1/config.json': Buffer.from(JSON.stringify(manifest)), ...Object.fromEntries(Object.entries(files).map(([n, b]) => [`models/m1/${n}`, b])) }, 'm1']);
    // 2–4. The listing names files with backslashes or dots (a Windows path, the folder itself, its parent).
    for (const [i, name] of ['..\\..\\pwned.txt', '..', '.'].entries()) {
      cases.push([`listing ${name}`, { [`models/m${i + 2}/config.json`]: config, ...Object.fromEntries(Object.entries(files).map(([n, b]) => [`models/m${i + 2}/${n}`, b])), [`models/m${i + 2}/${name}`]: outside }, `m${i + 2}`]);
    }
    for (const [label, planted, modelId] of cases) {
      plant('mallory/evil', planted);
      const root = fresh('trav-pull');
      const target = join(root, 'bundle');
      const error = await rejection(store.pullBundle(modelId, target));
      expect([label, error.code]).toEqual([label, 'HUB_VERIFY']);
      expect(snapshot(root), label).toEqual(new Map());
      expect(existsSync(join(scratch, 'pwned.txt')) || existsSync(join(root, 'pwned.txt'))).toBe(false);
    }
    count('traversal: malicious Hub repositories', cases.length);

    // A pulled bundle whose config names a traversal model id is pulled as data, but never loaded.
    plant('mallory/evil', { 'models/m9/config.json': Buffer.from(JSON.stringify({ ...bundleConfig, modelId: '../../../tmp/evil' })), ...Object.fromEntries(Object.entries(files).map(([n, b]) => [`models/m9/${n}`, b])) });
    const pulled = join(fresh('trav-load'), 'bundle');
    await store.pullBundle('m9', pulled);
    expect(readdirSync(pulled).sort()).toEqual([...Object.keys(files), 'config.json'].sort());
    const error = await rejection(loadBundle(pulled));
    expect(error.code).toBe('CHECKPOINT_INVALID');
  });

  it('history: tricky but valid user and model ids become safe file names inside the store folder only', async () => {
    const dir = join(fresh('trav-history'), 'store');
    const store = new FileHistoryStore({ dir });
    const users = ['a..b', 'a.', 'A', 'a', 'CON', 'nul', 'a@b.c', 'x'.repeat(128), '0', 'a-', 'u-x', 'x-aa', 'A.B@c-d_e'];
    const models = ['A.B', 'con', 'x'.repeat(128), 'm-1', 'M-1', 'prn.txt'];
    for (const user of users) {
      for (const model of models) await store.add(user, { params: {}, result: { model_id: model } });
      expect((await store.list(user)).items.length).toBe(models.length);
    }
    const entries = [...snapshot(dir).keys()];
    const userFolders = readdirSync(join(dir, 'users'));
    expect(userFolders.length).toBe(users.length);
    for (const folder of userFolders) {
      expect(folder).toMatch(/^[ux]-[a-z0-9_-]+$/);
      expect(users).toContain(decodeIdFromFileName(folder));
      expect(readdirSync(join(dir, 'users', folder, 'models')).every((m) => /^[ux]-[a-z0-9_-]+$/.test(m))).toBe(true);
    }
    expect(entries.every((p) => p === 'users' || p.startsWith(`users${sep}`))).toBe(true);
    expect(readdirSync(dir)).toEqual(['users']);
    count('traversal: tricky valid ids stored', users.length * models.length);
  });
});
