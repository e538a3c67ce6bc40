import { MongoClient, ObjectId, type Collection, type Document } from 'mongodb';
import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FileHistoryStore } from '../../src/store/history-files.node.js';
import { MongoHistoryStore } from '../../src/store/history-mongo.node.js';
import { ResilientHistoryStore, addToHistory, openHistoryStore, syncHistory } from '../../src/store/history-sync.node.js';
import { prepareRecord, type HistoryRecord } from '../../src/store/history.js';
import { rejection } from '../helpers/errors.js';
import { startFerretDb, type FerretDb } from '../helpers/ferretdb.js';
import { freshUser, sampleResult } from './history-contract.js';

const root = mkdtempSync(join(tmpdir(), 'reflectkit-history-sync-'));
let folders = 0;
const newDir = () => join(root, `embedded-${folders++}`);

let server: FerretDb;
let raw: MongoClient;
let collection: Collection<Document>;

beforeAll(async () => {
  server = await startFerretDb();
  raw = new MongoClient(server.uri, { serverSelectionTimeoutMS: 10_000 });
  collection = raw.db('PyReflect').collection('generations');
});
afterAll(async () => {
  await raw?.close();
  await server?.destroy();
});

/** A resilient store on the test server, with a short timeout and its warnings collected. */
function resilient(warnings: string[], dir = newDir(), uri = server.uri): ResilientHistoryStore {
  const store = openHistoryStore({ mongoUri: uri, dir, serverSelectionTimeoutMS: 1000, retryAfterMs: 60_000, onWarning: (m) => warnings.push(m) });
  expect(store).toBeInstanceOf(ResilientHistoryStore);
  return store as ResilientHistoryStore;
}

async function closedPort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const address = s.address();
      s.close(() => resolve(typeof address === 'object' && address !== null ? address.port : 1));
    });
  });
}

describe('ResilientHistoryStore and syncHistory', () => {
  it('keeps every record when MongoDB dies mid-run, and syncs them back without duplicates', async () => {
    const warnings: string[] = [];
    const store = resilient(warnings);
    const user = freshUser();
    const records: HistoryRecord[] = [];

    // The run's first records go to MongoDB.
    for (let i = 0; i < 3; i++) {
      const { record, store: where } = await addToHistory(store, user, { name: `up ${i}`, params: { i }, result: sampleResult(`model-up-${i}`) });
      expect(where).toBe('mongodb');
      records.push(record);
    }
    expect(await collection.countDocuments({ user_id: user })).toBe(3);

    // The server crashes.
    await server.kill();
    for (let i = 0; i < 2; i++) {
      const { record, store: where } = await addToHistory(store, user, { name: `down ${i}`, params: { i }, result: sampleResult(`model-down-${i}`) });
      expect(where).toBe('embedded (pending sync)');
      records.push(record);
    }
    expect(warnings.length).toBe(1);
    expect(warnings[0]).toContain('cannot reach MongoDB at mongodb://127.0.0.1:');
    expect(warnings[0]).toContain('reflectkit history sync');
    expect(store.offline).toBe(true);

    // Reads still work, from the embedded store, and say so.
    const offline = await store.list(user);
    expect(offline.offline).toBe(true);
    expect(offline.items.map((r) => r.name)).toEqual(['down 1', 'down 0']);
    expect(offline.items[0]!.result.nr).toBeUndefined();
    expect((await store.get(user, records[3]!.id)).result.nr).toEqual(sampleResult().nr);
    const unknown = await rejection(store.get(user, records[0]!.id));
    expect(unknown.code).toBe('HISTORY_UNAVAILABLE');
    expect((await store.rename(user, records[4]!.id, 'down 1, renamed offline')).name).toBe('down 1, renamed offline');
    expect((await rejection(store.rename(user, records[0]!.id, 'x'))).code).toBe('HISTORY_UNAVAILABLE');
    expect(await store.embedded.isPending(user, records[3]!.id)).toBe(true);
    expect(warnings.length).toBe(1);

    // The server comes back with its data; the pending records go up once.
    await server.restart();
    expect(await collection.countDocuments({ user_id: user })).toBe(3);
    const first = await syncHistory(store);
    expect(first).toEqual({ pushed: 2, alreadyThere: 0, conflicts: [], remaining: 0 });
    const second = await store.sync();
    expect(second).toEqual({ pushed: 0, alreadyThere: 0, conflicts: [], remaining: 0 });
    expect(await collection.countDocuments({ user_id: user })).toBe(5);
    const ids = (await collection.find({ user_id: user }).toArray()).map((d) => (d._id as ObjectId).toHexString()).sort();
    expect(ids).toEqual(records.map((r) => r.id).sort());
    expect((await collection.findOne({ _id: new ObjectId(records[4]!.id) }))!.name).toBe('down 1, renamed offline');
    expect(store.offline).toBe(false);
    expect(await store.embedded.pendingRecords()).toEqual([]);

    // Nothing was lost: MongoDB lists all five, in full.
    const page = await store.list(user);
    expect(page.offline).toBeUndefined();
    expect(page.items.map((r) => r.id).sort()).toEqual(records.map((r) => r.id).sort());
    for (const record of records) expect((await store.get(user, record.id)).params).toEqual(record.params);
    expect(warnings.length).toBe(1);
    await store.close();
  });

  it('counts a record MongoDB already has (its insert answer was lost) as already there, never a copy', async () => {
    const embedded = new FileHistoryStore({ dir: newDir() });
    const mongo = new MongoHistoryStore({ uri: server.uri });
    const user = freshUser();
    const record = prepareRecord(user, { params: {}, result: { model_id: 'lost-ack' } });
    expect(await mongo.insertRecord(record)).toBe('inserted');
    await embedded.insertRecord(record, { pending: true });
    const report = await syncHistory({ mongo, embedded });
    expect(report).toEqual({ pushed: 0, alreadyThere: 1, conflicts: [], remaining: 0 });
    expect(await collection.countDocuments({ user_id: user })).toBe(1);
    expect(await mongo.insertRecord(record)).toBe('existing');
    await mongo.close();
  });

  it('gives no duplicates when two processes sync the same records at once', async () => {
    const dir = newDir();
    const embedded = new FileHistoryStore({ dir });
    const user = freshUser();
    for (let i = 0; i < 8; i++) await embedded.insertRecord(prepareRecord(user, { params: { i }, result: { model_id: `both-${i}` } }), { pending: true });
    const a = resilient([], dir);
    const b = resilient([], dir);
    const [ra, rb] = await Promise.all([a.sync(), b.sync()]);
    expect(ra.pushed + rb.pushed).toBe(8);
    expect(ra.conflicts.length + rb.conflicts.length).toBe(0);
    expect(await collection.countDocuments({ user_id: user })).toBe(8);
    expect(await embedded.pendingRecords()).toEqual([]);
    await Promise.all([a.close(), b.close()]);
  });

  it('reports a pending record whose model_id MongoDB already has as a conflict, and keeps it pending', async () => {
    const embedded = new FileHistoryStore({ dir: newDir() });
    const mongo = new MongoHistoryStore({ uri: server.uri });
    const user = freshUser();
    await mongo.add(user, { params: {}, result: { model_id: 'taken' } });
    const pending = prepareRecord(user, { params: {}, result: { model_id: 'taken' } });
    await embedded.insertRecord(pending, { pending: true });
    const report = await syncHistory({ mongo, embedded });
    expect(report.pushed).toBe(0);
    expect(report.conflicts).toEqual([{ userId: user, id: pending.id, message: expect.stringContaining('model_id "taken"') as unknown as string }]);
    expect(report.remaining).toBe(1);
    expect(await embedded.isPending(user, pending.id)).toBe(true);
    await mongo.close();
  });

  it('merges MongoDB with records still waiting in the embedded store, one cursor over both', async () => {
    const dir = newDir();
    const user = freshUser();
    const store = resilient([], dir);
    const embedded = new FileHistoryStore({ dir });
    const expected: string[] = [];
    for (let i = 0; i < 7; i++) {
      const createdAt = new Date(Date.UTC(2026, 5, 1 + i)).toISOString();
      if (i % 3 === 0) {
        const record = prepareRecord(user, { params: { i }, result: sampleResult(), createdAt });
        await embedded.insertRecord(record, { pending: true });
        expected.push(record.id);
      } else {
        expected.push((await store.add(user, { params: { i }, result: sampleResult(), createdAt })).id);
      }
    }
    expected.reverse();
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await store.list(user, { limit: 2, ...(cursor === undefined ? {} : { cursor }) });
      expect(page.offline).toBeUndefined();
      for (const item of page.items) expect(item.result.nr).toBeUndefined();
      seen.push(...page.items.map((r) => r.id));
      cursor = page.nextCursor;
    } while (cursor !== undefined);
    expect(seen).toEqual(expected);
    // get / rename / remove find a record in either store.
    const local = expected[expected.length - 1]!;
    expect((await store.get(user, local)).params).toEqual({ i: 0 });
    expect((await store.rename(user, local, 'local')).name).toBe('local');
    await store.remove(user, local);
    expect((await rejection(store.get(user, local))).code).toBe('NOT_FOUND');
    await store.remove(user, expected[0]!);
    expect((await rejection(store.remove(user, expected[0]!))).code).toBe('NOT_FOUND');
    expect((await store.list(user)).items.length).toBe(5);
    await store.close();
  });

  it('falls back when MongoDB is down from the start, with one warning that holds no password', async () => {
    const password = 'Pa55:w0rd@Secret';
    const uri = `mongodb://alice:${encodeURIComponent(password)}@127.0.0.1:${await closedPort()}/`;
    const warnings: string[] = [];
    const dir = newDir();
    const store = resilient(warnings, dir, uri);
    const user = freshUser();
    for (let i = 0; i < 3; i++) expect((await addToHistory(store, user, { params: { i }, result: {} })).store).toBe('embedded (pending sync)');
    expect((await store.list(user)).items.length).toBe(3);
    expect(warnings.length).toBe(1);
    expect(warnings[0]).toContain('mongodb://alice:***@127.0.0.1:');
    const error = await rejection(store.sync());
    expect(error.code).toBe('HISTORY_UNAVAILABLE');
    expect(error.message).toContain('the rest stay pending');
    for (const text of [...warnings, error.message, String((error as Error & { cause?: unknown }).cause)]) {
      expect(text).not.toContain(password);
      expect(text).not.toContain(encodeURIComponent(password));
    }
    expect((await store.embedded.pendingRecords()).length).toBe(3);
    await store.close();
  });

  it('never falls back for bad input or a duplicate model id: those are errors', async () => {
    const warnings: string[] = [];
    const store = resilient(warnings);
    const user = freshUser();
    await store.add(user, { params: {}, result: { model_id: 'once' } });
    expect((await rejection(store.add(user, { params: {}, result: { model_id: 'once' } }))).path).toBe('result.model_id');
    expect((await rejection(store.add('../x', { params: {}, result: {} }))).code).toBe('INVALID_ID');
    expect(warnings).toEqual([]);
    expect(await store.embedded.allRecords()).toEqual([]);
    await store.close();
  });

  it('opens the embedded store alone without a MongoDB URI, and MongoDB from REFLECTKIT_MONGODB_URI', async () => {
    const saved = process.env.REFLECTKIT_MONGODB_URI;
    try {
      delete process.env.REFLECTKIT_MONGODB_URI;
      const dir = newDir();
      const alone = openHistoryStore({ dir });
      expect(alone).toBeInstanceOf(FileHistoryStore);
      expect((await addToHistory(alone, 'local', { params: {}, result: {} })).store).toBe('embedded');
      process.env.REFLECTKIT_MONGODB_URI = server.uri;
      const fromEnv = openHistoryStore({ dir });
      expect(fromEnv.kind).toBe('mongodb+embedded');
      expect((await addToHistory(fromEnv, 'local', { params: {}, result: {} })).store).toBe('mongodb');
      expect(openHistoryStore({ dir, mongoUri: null })).toBeInstanceOf(FileHistoryStore);
      // The record kept before MongoDB was configured is pushed by a sync of all records.
      const report = await (fromEnv as ResilientHistoryStore).sync({ all: true, userId: 'local' });
      expect(report).toMatchObject({ pushed: 1, conflicts: [] });
      expect((await fromEnv.list('local')).items.length).toBe(2);
      await fromEnv.close();
    } finally {
      if (saved === undefined) delete process.env.REFLECTKIT_MONGODB_URI;
      else process.env.REFLECTKIT_MONGODB_URI = saved;
    }
  });
});
