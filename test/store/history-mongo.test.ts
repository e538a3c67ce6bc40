import { MongoClient, ObjectId, type Collection, type Document } from 'mongodb';
import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MongoHistoryStore, redactMongoUri, redactSecrets } from '../../src/store/history-mongo.node.js';
import { rejection } from '../helpers/errors.js';
import { startFerretDb, type FerretDb } from '../helpers/ferretdb.js';
import { freshUser, historyContract, sampleResult } from './history-contract.js';

let server: FerretDb;
let raw: MongoClient;
let collection: Collection<Document>;

beforeAll(async () => {
  server = await startFerretDb();
  raw = new MongoClient(server.uri);
  collection = raw.db('PyReflect').collection('generations');
});
afterAll(async () => {
  await raw?.close();
  await server?.destroy();
});

historyContract('MongoHistoryStore on FerretDB 1.24 (SQLite)', async () => new MongoHistoryStore({ uri: server.uri }));

/** A port nothing listens on. */
async function closedPort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const address = s.address();
      s.close(() => resolve(typeof address === 'object' && address !== null ? address.port : 1));
    });
  });
}

describe('MongoHistoryStore', () => {
  it('creates the indexes on connect: newest-first per user, and model_id unique per user', async () => {
    const store = new MongoHistoryStore({ uri: server.uri });
    await store.connect();
    await store.connect();
    const indexes = await collection.listIndexes().toArray();
    const byName = Object.fromEntries(indexes.map((i) => [i.name as string, i]));
    expect(byName.reflectkit_user_created?.key).toEqual({ user_id: 1, created_at: -1, _id: -1 });
    expect(byName.reflectkit_user_created?.unique).toBeUndefined();
    expect(byName.reflectkit_user_model?.key).toEqual({ user_id: 1, 'result.model_id': 1 });
    expect(byName.reflectkit_user_model?.unique).toBe(true);
    // FerretDB 1.x cannot make partial indexes, so the store fell back to the plain unique index.
    expect(byName.reflectkit_user_model?.partialFilterExpression).toBeUndefined();
    expect(indexes.length).toBe(3);
    await store.close();
  });

  it('the server itself enforces the unique index, also for writers other than reflectkit', async () => {
    const store = new MongoHistoryStore({ uri: server.uri });
    await store.connect();
    const user = freshUser();
    const doc = () => ({ _id: new ObjectId(), user_id: user, name: null, created_at: new Date(), params: {}, result: { model_id: 'raw-model' } });
    await collection.insertOne(doc());
    await expect(collection.insertOne(doc())).rejects.toMatchObject({ code: 11000 });
    await collection.insertOne({ ...doc(), user_id: `${user}-other` });
    // Two documents without a model id do not collide (FerretDB's SQLite index never matches missing values).
    await collection.insertOne({ ...doc(), result: {} });
    await collection.insertOne({ ...doc(), result: {} });
    expect(await collection.countDocuments({ user_id: user })).toBe(3);
    await store.close();
  });

  it("writes documents in the interface's exact shape: ObjectId _id, BSON dates", async () => {
    const store = new MongoHistoryStore({ uri: server.uri });
    const user = freshUser();
    const record = await store.add(user, { name: 'shape', params: { seed: 1 }, result: sampleResult('shape-model') });
    const document = await collection.findOne({ _id: new ObjectId(record.id) });
    expect(Object.keys(document!)).toEqual(['_id', 'user_id', 'name', 'created_at', 'params', 'result']);
    expect(document!._id).toBeInstanceOf(ObjectId);
    expect(document!.created_at).toBeInstanceOf(Date);
    expect((document!.created_at as Date).toISOString()).toBe(record.created_at);
    expect(document).toMatchObject({ user_id: user, name: 'shape', params: { seed: 1 }, result: sampleResult('shape-model') });
    const renamed = await store.rename(user, record.id, 'renamed');
    const after = await collection.findOne({ _id: new ObjectId(record.id) });
    expect(Object.keys(after!).sort()).toEqual(['_id', 'created_at', 'name', 'params', 'result', 'updated_at', 'user_id']);
    expect(after!.updated_at).toBeInstanceOf(Date);
    expect((after!.updated_at as Date).toISOString()).toBe(renamed.updated_at);
    await store.close();
  });

  it("reads documents the web interface wrote (no model id, Python's naive UTC datetimes)", async () => {
    const store = new MongoHistoryStore({ uri: server.uri });
    const user = freshUser();
    const _id = new ObjectId();
    await collection.insertOne({ _id, user_id: user, name: null, created_at: new Date('2025-11-20T09:00:00Z'), params: { layers: [] }, result: { nr: [1], metrics: { mse: 1 } } });
    const page = await store.list(user);
    expect(page.items).toEqual([{ id: _id.toHexString(), user_id: user, name: null, created_at: '2025-11-20T09:00:00.000Z', params: { layers: [] }, result: { metrics: { mse: 1 } } }]);
    expect((await store.get(user, _id.toHexString())).result.nr).toEqual([1]);
    await store.close();
  });

  it('refuses invalid ids before any query: no wait for an unreachable server', async () => {
    const store = new MongoHistoryStore({ uri: `mongodb://127.0.0.1:${await closedPort()}/`, serverSelectionTimeoutMS: 5000 });
    const started = Date.now();
    for (const call of [
      () => store.get('user', 'nope'),
      () => store.rename('user', '0'.repeat(24), 'x'.repeat(81)),
      () => store.remove('../user', '0'.repeat(24)),
      () => store.list('user', { cursor: 'bad' }),
      () => store.add('user', { params: {}, result: { model_id: '../../x' } }),
    ]) {
      const error = await rejection(call());
      expect(['INVALID_ID', 'INVALID_OPTION']).toContain(error.code);
    }
    expect(Date.now() - started).toBeLessThan(1000);
    await store.close();
  });

  it('reports an unreachable server as HISTORY_UNAVAILABLE without the password', async () => {
    const password = 'Sup3r:S3cret/Pw!';
    const uri = `mongodb://alice:${encodeURIComponent(password)}@127.0.0.1:${await closedPort()}/?authSource=admin`;
    const store = new MongoHistoryStore({ uri, serverSelectionTimeoutMS: 300 });
    for (const call of [() => store.list('alice'), () => store.add('alice', { params: {}, result: {} }), () => store.connect()]) {
      const error = await rejection(call());
      expect(error.code).toBe('HISTORY_UNAVAILABLE');
      expect(error.message).toContain('cannot reach MongoDB at mongodb://alice:***@127.0.0.1:');
      for (const text of [error.message, JSON.stringify(error.toJSON()), String((error as Error & { cause?: unknown }).cause), error.stack ?? '']) {
        expect(text).not.toContain(password);
        expect(text).not.toContain(encodeURIComponent(password));
      }
    }
    await store.close();
    expect((await rejection(store.list('alice'))).code).toBe('HISTORY_UNAVAILABLE');
  });

  it('reports a refused login as HISTORY_UNAVAILABLE without either password', async () => {
    const auth = { username: 'alice', password: 'correct-Horse-9', database: 'PyReflect' };
    const secured = await startFerretDb({ auth });
    try {
      const good = new MongoHistoryStore({ uri: secured.uri });
      const record = await good.add('alice', { params: {}, result: {} });
      expect((await good.get('alice', record.id)).id).toBe(record.id);
      await good.close();
      const wrong = 'wrong-Battery-7';
      const bad = new MongoHistoryStore({ uri: secured.uri.replace(encodeURIComponent(auth.password), wrong), serverSelectionTimeoutMS: 2000 });
      const error = await rejection(bad.list('alice'));
      expect(error.code).toBe('HISTORY_UNAVAILABLE');
      expect(error.message).toMatch(/refused|Authentication failed/);
      expect(error.message).not.toContain(wrong);
      expect(error.message).not.toContain(auth.password);
      await bad.close();
    } finally {
      await secured.destroy();
    }
  });

  it('refuses a malformed URI with INVALID_OPTION, without its password', () => {
    for (const uri of ['mongodb://bob:hunter2hunter2@host/?unknownOption=1', 'mongodb://bob:hunter2hunter2@', 'http://bob:hunter2hunter2@host/']) {
      let error: Error | undefined;
      try {
        new MongoHistoryStore({ uri });
      } catch (e) {
        error = e as Error;
      }
      expect(error?.message).toMatch(/^INVALID_OPTION/);
      expect(error?.message).not.toContain('hunter2');
    }
    expect(() => new MongoHistoryStore({ uri: server.uri, database: 'a/b' })).toThrow(/INVALID_OPTION at database/);
    expect(() => new MongoHistoryStore({ uri: server.uri, collection: 'system.users' })).toThrow(/INVALID_OPTION at collection/);
  });

  it('redacts passwords in URIs and messages', () => {
    expect(redactMongoUri('mongodb://u:p%40ss@h1:1,h2:2/db?x=1')).toBe('mongodb://u:***@h1:1,h2:2/db?x=1');
    expect(redactMongoUri('mongodb+srv://u:p@ss@cluster.example.org/')).toBe('mongodb+srv://u:***@cluster.example.org/');
    expect(redactMongoUri('mongodb://h/')).toBe('mongodb://h/');
    expect(redactSecrets('failed for p@ssword and mongodb://x:y@z', 'mongodb://u:p%40ssword@h/')).toBe('failed for *** and mongodb://x:***@z');
  });

  it('uses its own database and collection when told', async () => {
    const store = new MongoHistoryStore({ uri: server.uri, database: 'other_db', collection: 'runs.v2' });
    const record = await store.add('carol', { params: {}, result: {} });
    expect(await raw.db('other_db').collection('runs.v2').countDocuments({ _id: new ObjectId(record.id) })).toBe(1);
    expect(await collection.countDocuments({ _id: new ObjectId(record.id) })).toBe(0);
    await store.close();
  });
});
