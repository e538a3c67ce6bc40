/**
 * Reliability of the outside services a run depends on, against real servers: MongoDB (FerretDB, a real
 * MongoDB-wire server) stopped, killed and restarted under a store and under a real `runPipeline`; the Hub
 * (a local server speaking its protocol) answering 500, 429 with Retry-After, hanging, and cutting bodies,
 * for uploads, downloads and a pipeline run. Each failure must be reported once, clearly, and lose nothing.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MongoClient, ObjectId, type Collection, type Document } from 'mongodb';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import type { PipelineEvent } from '../../src/pipeline/events.js';
import { runPipeline } from '../../src/pipeline/run.node.js';
import { FileHistoryStore } from '../../src/store/history-files.node.js';
import { MongoHistoryStore } from '../../src/store/history-mongo.node.js';
import { openHistoryStore, syncHistory } from '../../src/store/history-sync.node.js';
import { readLocalBundle } from '../../src/store/hub-bundle.node.js';
import { HubStore, type HubOptions } from '../../src/store/hub.node.js';
import { rejection } from '../helpers/errors.js';
import { startFerretDb, type FerretDb } from '../helpers/ferretdb.js';
import { startHubServer, type HubServer, type RecordedRequest } from '../helpers/hub-server.js';

/** A run small enough for the suite (as test/pipeline/run.test.ts): 80 curves, 2 epochs, wasm in this thread. */
const SMALL_RUN = {
  name: 'reliability run',
  generator: { numCurves: 80, numQPoints: 64, sldOutputPoints: 96, workers: 0 },
  training: { epochs: 2, batchSize: 16, layers: 2, kernelSize: 7, head: 'bottleneck', bottleneckChannels: 4 },
  seed: 11,
  backend: 'wasm',
};

const root = mkdtempSync(join(tmpdir(), 'reflectkit-services-'));
let folders = 0;
const scratch = (name: string): string => join(root, `${name}-${folders++}`);
afterAll(() => rmSync(root, { recursive: true, force: true }));

const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

/** The log events of a run, by level. */
function logs(events: PipelineEvent[], level: 'info' | 'warn'): string[] {
  return events.flatMap((e) => (e.type === 'log' && e.level === level ? [e.message] : []));
}

/** `phase:status` of the phase events. */
function phases(events: PipelineEvent[]): string[] {
  return events.flatMap((e) => (e.type === 'phase' ? [`${e.phase}:${e.status}`] : []));
}

/** Name → SHA-256 of every file of a folder. */
function folderContents(dir: string): Record<string, string> {
  return Object.fromEntries(readdirSync(dir).sort().map((f) => [f, sha256(readFileSync(join(dir, f)))]));
}

describe('MongoDB stopped, killed and restarted', () => {
  let db: FerretDb;
  let raw: MongoClient;
  let collection: Collection<Document>;

  beforeAll(async () => {
    db = await startFerretDb();
    raw = new MongoClient(db.uri, { serverSelectionTimeoutMS: 10_000 });
    collection = raw.db('PyReflect').collection('generations');
  });
  afterAll(async () => {
    await raw?.close();
    await db?.destroy();
  });

  it('bounds every wait for the server: the option, else the URI (no default overrides it), else 5 s to find and connect, 30 s of silence', async () => {
    const stores = [
      new MongoHistoryStore({ uri: db.uri }),
      new MongoHistoryStore({ uri: `${db.uri}?serverSelectionTimeoutMS=1500` }),
      new MongoHistoryStore({ uri: `${db.uri}?serverselectiontimeoutms=1700&connectTimeoutMS=900&socketTimeoutMS=20000&appName=x` }),
      new MongoHistoryStore({ uri: `${db.uri}?serverSelectionTimeoutMS=1500`, serverSelectionTimeoutMS: 800, socketTimeoutMS: 2000 }),
    ];
    expect(stores.map((s) => s.timeouts)).toEqual([
      { serverSelectionTimeoutMS: 5000, connectTimeoutMS: 5000, socketTimeoutMS: 30_000 },
      { serverSelectionTimeoutMS: 1500, connectTimeoutMS: 1500, socketTimeoutMS: 30_000 },
      { serverSelectionTimeoutMS: 1700, connectTimeoutMS: 900, socketTimeoutMS: 20_000 },
      { serverSelectionTimeoutMS: 800, connectTimeoutMS: 800, socketTimeoutMS: 2000 },
    ]);
    await Promise.all(stores.map((s) => s.close()));
  });

  it('answers HISTORY_UNAVAILABLE while the server is frozen (SIGSTOP: connections open, no answers), and works again when it thaws', async () => {
    const store = new MongoHistoryStore({ uri: db.uri, serverSelectionTimeoutMS: 1000, socketTimeoutMS: 1500 });
    const user = `svc-frozen-${randomUUID().slice(0, 8)}`;
    const first = await store.add(user, { params: {}, result: { model_id: 'before-freeze' } });
    db.freeze();
    try {
      for (const [action, call] of [
        ['list records', () => store.list(user)],
        ['add a record', () => store.add(user, { params: {}, result: { model_id: 'while-frozen' } })],
      ] as Array<[string, () => Promise<unknown>]>) {
        const error = await rejection(call());
        expect([action, error.code]).toEqual([action, 'HISTORY_UNAVAILABLE']);
        expect(error.message).toMatch(new RegExp(`cannot reach MongoDB at .* to ${action}: .*timed out`));
      }
    } finally {
      db.thaw();
    }
    expect((await store.list(user)).items.map((r) => r.id)).toEqual([first.id]);
    await store.close();
  });

  it('answers HISTORY_UNAVAILABLE while the server is down, and the same store works again after the restart', async () => {
    const store = new MongoHistoryStore({ uri: db.uri, serverSelectionTimeoutMS: 1000 });
    const user = `svc-${randomUUID().slice(0, 8)}`;
    const first = await store.add(user, { name: 'before', params: { i: 0 }, result: { model_id: 'before' } });
    const where = `cannot reach MongoDB at ${db.uri} (PyReflect.generations) to `;

    for (const outage of ['stop', 'kill'] as const) {
      await db[outage]();
      const calls: Array<[string, () => Promise<unknown>]> = [
        ['list records', () => store.list(user)],
        ['read a record', () => store.get(user, first.id)],
        ['add a record', () => store.add(user, { params: {}, result: { model_id: `during-${outage}` } })],
        ['rename a record', () => store.rename(user, first.id, 'renamed while down')],
        ['delete a record', () => store.remove(user, first.id)],
      ];
      for (const [action, call] of calls) {
        const error = await rejection(call());
        expect([outage, action, error.code]).toEqual([outage, action, 'HISTORY_UNAVAILABLE']);
        expect(error.message).toContain(`${where}${action}: `);
      }
      // A store that never reached the server waits its (bounded) server selection, then says so.
      const fresh = new MongoHistoryStore({ uri: db.uri, serverSelectionTimeoutMS: 300 });
      const never = await rejection(fresh.connect());
      expect(never.code).toBe('HISTORY_UNAVAILABLE');
      expect(never.message).toContain(`${where}connect: `);
      await fresh.close();

      await db.restart();
      // The same store, not reopened: the driver reconnects on its own.
      const page = await store.list(user);
      expect(page.items.map((r) => [r.id, r.name])).toEqual([[first.id, 'before']]);
    }
    const after = await store.add(user, { name: 'after', params: {}, result: { model_id: 'after' } });
    expect((await store.get(user, after.id)).name).toBe('after');
    // Nothing a failed call tried was half-done: exactly the two records, the first never renamed.
    const docs = await collection.find({ user_id: user }).sort({ created_at: 1 }).toArray();
    expect(docs.map((d) => [(d._id as ObjectId).toHexString(), d.name])).toEqual([
      [first.id, 'before'],
      [after.id, 'after'],
    ]);
    await store.close();
  });

  it('a run whose MongoDB is killed during training finishes, keeps the record in the embedded store with one warning, and the sync moves it exactly once', async () => {
    const user = `svc-run-${randomUUID().slice(0, 8)}`;
    const dir = scratch('history');
    const uri = `${db.uri}?serverSelectionTimeoutMS=1500`;
    const config = { ...SMALL_RUN, storage: { history: { userId: user, dir, mongodbUri: uri } } };
    await raw.db('admin').command({ ping: 1 }); // the server is up when the run starts
    const events: PipelineEvent[] = [];
    let killing: Promise<void> | undefined;
    let killedAt = -1;
    const result = await runPipeline(config, {
      runDir: scratch('run-mongo'),
      trainingWorkers: 0,
      onEvent: (e) => {
        events.push(e);
        if (killing === undefined && e.type === 'progress' && e.phase === 'train') {
          killedAt = events.length;
          killing = db.kill();
        }
      },
    });
    await killing;
    // The kill came during training, well before the history phase.
    const order = phases(events);
    expect(killedAt).toBeGreaterThan(events.findIndex((e) => e.type === 'phase' && e.phase === 'train' && e.status === 'start'));
    expect(killedAt).toBeLessThan(events.findIndex((e) => e.type === 'phase' && e.phase === 'train' && e.status === 'end'));
    expect(order.slice(-3)).toEqual(['hub:skip', 'history:start', 'history:end']);

    // The run is complete, and its record went to the embedded store, pending.
    expect(result.metrics.testCurves).toBe(8);
    expect(Number.isFinite(result.metrics.mse)).toBe(true);
    expect(result.result.training.epochs).toEqual([1, 2]);
    expect(existsSync(result.files.report) && existsSync(join(result.files.model, 'config.json'))).toBe(true);
    expect(result.history?.store).toBe('embedded (pending sync)');
    const state = JSON.parse(readFileSync(join(result.runDir, 'pipeline.json'), 'utf8')) as { history: unknown };
    expect(state.history).toEqual(result.history);

    // Reported once, clearly: which server, which database, why, where the record went, what to do.
    const warnings = logs(events, 'warn');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain(`history: cannot reach MongoDB at ${db.uri}?serverSelectionTimeoutMS=1500 (PyReflect.generations) to connect: `);
    expect(warnings[0]).toContain(`Using the embedded history store ${dir} until MongoDB is back`);
    expect(warnings[0]).toContain('marked pending, and `reflectkit history sync` pushes them');
    expect(events.filter((e) => e.type === 'log' && e.message.includes('MongoDB')).length).toBe(1);

    const embedded = new FileHistoryStore({ dir });
    const id = result.history!.id;
    expect(await embedded.isPending(user, id)).toBe(true);
    const local = await embedded.get(user, id);
    expect(local.result.model_id).toBe(result.modelId);
    expect((local.result.metrics as { mse: number }).mse).toBe(result.metrics.mse);

    // MongoDB comes back (with its data); the record is not there yet, and one sync moves it, once.
    await db.restart();
    expect(await collection.countDocuments({ user_id: user })).toBe(0);
    const mongo = new MongoHistoryStore({ uri: db.uri });
    expect(await syncHistory({ mongo, embedded })).toEqual({ pushed: 1, alreadyThere: 0, conflicts: [], remaining: 0 });
    expect(await syncHistory({ mongo, embedded })).toEqual({ pushed: 0, alreadyThere: 0, conflicts: [], remaining: 0 });
    const docs = await collection.find({ user_id: user }).toArray();
    expect(docs.map((d) => (d._id as ObjectId).toHexString())).toEqual([id]);
    expect((docs[0]!.result as { model_id: string; metrics: { mse: number } }).model_id).toBe(result.modelId);
    expect((docs[0]!.result as { metrics: { mse: number } }).metrics.mse).toBe(result.metrics.mse);
    expect((docs[0]!.params as { seed: number }).seed).toBe(11);
    await mongo.close();

    // The user's history now lists it once, from MongoDB, in full.
    const history = openHistoryStore({ mongoUri: db.uri, dir });
    const page = await history.list(user);
    expect(page.offline).toBeUndefined();
    expect(page.items.map((r) => r.id)).toEqual([id]);
    expect((await history.get(user, id)).result.nr).toEqual(local.result.nr);
    await history.close();
    await embedded.close();
  });

  it('a run whose MongoDB is killed during training and back before the history phase records straight into MongoDB, without a warning', async () => {
    const user = `svc-back-${randomUUID().slice(0, 8)}`;
    const dir = scratch('history');
    // The history phase waits up to 20 s for a server: long enough for the restart to finish.
    const config = { ...SMALL_RUN, training: { ...SMALL_RUN.training, epochs: 1 }, storage: { history: { userId: user, dir, mongodbUri: `${db.uri}?serverSelectionTimeoutMS=20000` } } };
    const events: PipelineEvent[] = [];
    let outage: Promise<void> | undefined;
    const result = await runPipeline(config, {
      runDir: scratch('run-mongo-back'),
      trainingWorkers: 0,
      onEvent: (e) => {
        events.push(e);
        if (outage === undefined && e.type === 'progress' && e.phase === 'train') outage = db.kill();
        if (e.type === 'phase' && e.phase === 'train' && e.status === 'end') outage = outage!.then(() => db.restart());
      },
    });
    await outage;
    expect(result.history?.store).toBe('mongodb');
    expect(logs(events, 'warn')).toEqual([]);
    expect((await collection.find({ user_id: user }).toArray()).map((d) => (d._id as ObjectId).toHexString())).toEqual([result.history!.id]);
    const embedded = new FileHistoryStore({ dir });
    expect(await embedded.allRecords()).toEqual([]);
    await embedded.close();
  });
});

const TOKEN = 'hf_SERVICESreliabilityToken42';
const REPO = 'alice/reliability';

describe('the Hub answering 500, 429, nothing, or a cut body', () => {
  let server: HubServer;
  let hubLog: string[];

  beforeEach(async () => {
    server = await startHubServer({ tokens: { [TOKEN]: { user: 'alice' } }, lfsThreshold: 64 * 1024 });
    hubLog = [];
  });
  afterEach(async () => {
    vi.unstubAllEnvs();
    await server.close();
  });

  function store(extra: Partial<HubOptions> = {}): HubStore {
    return new HubStore({ repo: REPO, token: TOKEN, hubUrl: server.url, retries: 2, retryDelayMs: 5, timeoutMs: 5000, onLog: (m) => hubLog.push(m), ...extra });
  }

  /** A bundle folder as saveBundle lays it out: binary weights (LFS), a regular JSON file, config.json with the manifest. */
  function writeBundle(modelId: string): { dir: string; files: Record<string, string> } {
    const dir = scratch('bundle');
    mkdirSync(dir, { recursive: true });
    const files: Record<string, Buffer> = {
      [`${modelId}.pth`]: Buffer.concat([Buffer.from([0x80, 0x02, 0]), randomBytes(96 * 1024)]),
      'scaler.json': Buffer.from(`${JSON.stringify({ nr: { min: 0, max: 1 }, sld: { min: -1, max: 5 } })}\n`),
    };
    const manifest: Record<string, { bytes: number; sha256: string }> = {};
    for (const [name, bytes] of Object.entries(files)) {
      writeFileSync(join(dir, name), bytes);
      manifest[name] = { bytes: bytes.length, sha256: sha256(bytes) };
    }
    writeFileSync(join(dir, 'config.json'), `${JSON.stringify({ format: 'reflectkit-model', version: 1, modelId, files: manifest })}\n`);
    return { dir, files: folderContents(dir) };
  }

  function writeTrainingData(): { nr: string; sld: string } {
    const dir = scratch('data');
    mkdirSync(dir, { recursive: true });
    const nr = join(dir, 'nr_train.npy');
    const sld = join(dir, 'sld_train.npy');
    writeFileSync(nr, Buffer.concat([Buffer.from('\x93NUMPY\x01\x00', 'latin1'), randomBytes(4000)]));
    writeFileSync(sld, Buffer.concat([Buffer.from('\x93NUMPY\x01\x00', 'latin1'), randomBytes(3000)]));
    return { nr, sld };
  }

  /** The Hub's copy of `models/{modelId}/*`, name → SHA-256. */
  function hubContents(modelId: string): Record<string, string> {
    const repo = server.repo('dataset', REPO);
    const prefix = `models/${modelId}/`;
    return Object.fromEntries([...(repo?.files ?? new Map())].filter(([p]) => p.startsWith(prefix)).map(([p, f]) => [p.slice(prefix.length), sha256(f.bytes)]).sort());
  }

  const fullBody = (req: { headers: Record<string, unknown> }): boolean => req.headers.range === undefined;
  const retryLines = (): string[] => hubLog.filter((l) => l.includes('; retry '));

  it('retries a 500 on upload and on download, and verifies what it got', async () => {
    const hub = store();
    server.inject({ method: 'POST', path: /\/preupload\/main$/, fault: { kind: 'status', status: 503 } });
    server.inject({ method: 'PUT', path: /^\/__lfs-upload\//, fault: { kind: 'status', status: 500 } });
    server.inject({ method: 'POST', path: /\/commit\/main$/, times: 2, fault: { kind: 'status', status: 500 } });
    const data = writeTrainingData();
    const uploaded = await hub.uploadTrainingData('svc-data', data);
    expect(uploaded.verified).toBe(true);
    expect(hubContents('svc-data')).toEqual({ 'nr_train.npy': sha256(readFileSync(data.nr)), 'sld_train.npy': sha256(readFileSync(data.sld)) });

    const { dir, files } = writeBundle('svc-500');
    server.inject({ method: 'POST', path: /\/commit\/main$/, fault: { kind: 'status', status: 500 } });
    const pushed = await hub.pushBundle(dir);
    expect(Object.fromEntries(pushed.files.map((f) => [f.name, f.sha256]))).toEqual(files);
    expect(hubContents('svc-500')).toEqual(files);
    expect(server.matching('POST', /\/commit\/main$/).map((r) => r.status)).toEqual([500, 500, 200, 500, 200]);
    expect(server.repo('dataset', REPO)!.commits).toHaveLength(2); // one commit per upload, none doubled by a retry

    server.inject({ method: 'GET', path: /^\/__cdn\//, when: fullBody, fault: { kind: 'status', status: 500 } });
    server.inject({ method: 'GET', path: `/datasets/${REPO}/resolve/main/models/svc-500/config.json`, when: fullBody, fault: { kind: 'status', status: 502 } });
    const target = join(scratch('pulled'), 'svc-500');
    await hub.pullBundle('svc-500', target);
    expect(folderContents(target)).toEqual(files);

    // Each injected answer was retried once, and said so once; no file was downloaded a second time.
    const retries = retryLines();
    expect(retries).toHaveLength(7);
    expect(retries.filter((l) => / answered 50[023] "injected 50[023]"; retry 1 of 2 in \d+\.\d\d s$/.test(l))).toHaveLength(6);
    expect(retries.filter((l) => / answered 500 "injected 500"; retry 2 of 2 /.test(l))).toHaveLength(1); // the commit failed twice in a row
    expect(hubLog.some((l) => l.startsWith('hub: download of'))).toBe(false);
  });

  it('waits what Retry-After asks before retrying a 429, on upload and on download', async () => {
    const hub = store({ retryDelayMs: 1 }); // the backoff alone would retry within 1 ms
    await hub.ensureRepo();
    const gaps = (method: string, path: RegExp): number => {
      const seen = server.matching(method, path);
      const limited = seen.findIndex((r) => r.status === 429);
      const [answered, retry] = [seen[limited], seen[limited + 1]] as [RecordedRequest, RecordedRequest];
      expect([answered.status, answered.fault, retry.status]).toEqual([429, 'rate-limit', 200]);
      return retry.at - answered.endedAt!;
    };

    server.inject({ method: 'POST', path: /\/commit\/main$/, fault: { kind: 'rate-limit', retryAfterS: 1 } });
    const data = writeTrainingData();
    expect((await hub.uploadTrainingData('svc-429', data)).verified).toBe(true);
    // Ordering, not speed: the retry reached the server no earlier than 1 s after the 429 left it.
    expect(gaps('POST', /\/commit\/main$/)).toBeGreaterThanOrEqual(1000);

    const { dir, files } = writeBundle('svc-429b');
    await hub.pushBundle(dir);
    server.inject({ method: 'GET', path: /^\/__cdn\//, when: fullBody, fault: { kind: 'rate-limit', retryAfterS: 1 } });
    const target = join(scratch('pulled'), 'svc-429b');
    await hub.pullBundle('svc-429b', target);
    expect(folderContents(target)).toEqual(files);
    expect(gaps('GET', /^\/__cdn\//)).toBeGreaterThanOrEqual(1000);

    const limited = retryLines();
    expect(limited).toHaveLength(2);
    for (const line of limited) expect(line).toMatch(/ answered 429 "You have been rate-limited; retry later" \(Retry-After 1\.0 s\); retry 1 of 2 in 1\.00 s$/);
  });

  it('times out a request that gets no answer: an upload is retried, a download that never answers is HUB_REQUEST after the retries', async () => {
    const hub = store({ timeoutMs: 400 });
    server.inject({ method: 'POST', path: /\/commit\/main$/, fault: { kind: 'hang' } });
    server.inject({ method: 'PUT', path: /^\/__lfs-upload\//, fault: { kind: 'hang' } });
    const { dir, files } = writeBundle('svc-hang');
    expect((await hub.pushBundle(dir)).verified).toBe(true);
    expect(hubContents('svc-hang')).toEqual(files);
    expect(server.matching('POST', /\/commit\/main$/).map((r) => [r.status, r.fault])).toEqual([
      [0, 'hang'],
      [200, undefined],
    ]);
    expect(retryLines().filter((l) => / timed out; retry 1 of 2 /.test(l))).toHaveLength(2);

    // A good copy is already there; the Hub then stops answering for the weights.
    const target = join(scratch('pulled'), 'svc-hang');
    await hub.pullBundle('svc-hang', target);
    server.inject({ method: 'GET', path: /^\/__cdn\//, when: fullBody, times: Infinity, fault: { kind: 'hang' } });
    const before = server.matching('GET', /^\/__cdn\//).length;
    hubLog.length = 0;
    const error = await rejection(hub.pullBundle('svc-hang', target, { overwrite: true }));
    expect(error.code).toBe('HUB_REQUEST');
    expect(error.path).toBe('models/svc-hang/svc-hang.pth');
    expect(error.message).toMatch(/download of models\/svc-hang\/svc-hang\.pth failed: GET http:\/\/127\.0\.0\.1:\d+\/__cdn\/[0-9a-f]{64}, 3 tries: no response within 400 ms; the bundle is not written$/);
    // The body request was tried 1 + 2 times by the retrying fetch, with no second round of retries on top.
    const cdn = server.matching('GET', /^\/__cdn\//).slice(before);
    expect(cdn.filter((r) => r.fault === 'hang')).toHaveLength(3);
    expect(retryLines()).toHaveLength(2);
    expect(folderContents(target)).toEqual(files);
    expect(existsSync(`${target}.partial`)).toBe(false);
  });

  it('detects a cut download, retries it, and never leaves a cut file: an existing bundle stays as it was', async () => {
    const hub = store();
    const { dir, files } = writeBundle('svc-cut');
    await hub.pushBundle(dir);
    const configJson = `/datasets/${REPO}/resolve/main/models/svc-cut/config.json`;

    // Cut once (the connection drops halfway; the full length was announced): downloaded again, whole.
    server.inject({ method: 'GET', path: /^\/__cdn\//, when: fullBody, fault: { kind: 'truncate', mode: 'reset' } });
    const target = join(scratch('pulled'), 'svc-cut');
    await hub.pullBundle('svc-cut', target);
    expect(folderContents(target)).toEqual(files);
    expect(hubLog.filter((l) => l.startsWith('hub: download of models/svc-cut/svc-cut.pth ') && l.includes('; retry 1 of 2 '))).toHaveLength(1);

    // Always short (a proxy that announces the short length): the size check catches it; nothing replaced.
    server.inject({ method: 'GET', path: configJson, when: fullBody, times: Infinity, fault: { kind: 'truncate', mode: 'short', keepBytes: 7 } });
    const short = await rejection(hub.pullBundle('svc-cut', target, { overwrite: true }));
    expect(short.code).toBe('HUB_VERIFY');
    expect(short.message).toContain('download of models/svc-cut/config.json gave 7 bytes');
    expect(short.message).toContain('after 3 tries: the bundle is not written');
    expect(folderContents(target)).toEqual(files);
    server.clearFaults();

    // Always dropped mid-body: HUB_REQUEST after the retries; nothing replaced.
    server.inject({ method: 'GET', path: /^\/__cdn\//, when: fullBody, times: Infinity, fault: { kind: 'truncate', mode: 'reset' } });
    const reset = await rejection(hub.pullBundle('svc-cut', target, { overwrite: true }));
    expect(reset.code).toBe('HUB_REQUEST');
    expect(reset.message).toContain('download of models/svc-cut/svc-cut.pth (the body was cut off 3 times; the bundle is not written) failed');
    expect(folderContents(target)).toEqual(files);
    expect(readdirSync(join(target, '..'))).toEqual(['svc-cut']); // no staging folder, no moved-aside copy
    server.clearFaults();

    // A cut answer to the verification, then to the commit itself: HUB_REQUEST, and removeLocal removes nothing.
    const data = writeTrainingData();
    server.inject({ method: 'POST', path: /\/paths-info\/main$/, fault: { kind: 'truncate', mode: 'reset' } });
    const verification = await rejection(hub.uploadTrainingData('svc-cut-data', data, { removeLocal: true }));
    expect(verification.code).toBe('HUB_REQUEST');
    expect(verification.message).toContain('verification of the upload to alice/reliability failed: terminated');
    expect(verification.message).toContain(`the local files are kept: ${data.nr}, ${data.sld}`);
    server.inject({ method: 'POST', path: /\/commit\/main$/, fault: { kind: 'truncate', mode: 'reset' } });
    const commit = await rejection(hub.uploadTrainingData('svc-cut-data', data, { removeLocal: true }));
    expect(commit.code).toBe('HUB_REQUEST');
    expect(commit.message).toContain('upload of 2 file(s) to alice/reliability/models/svc-cut-data failed: terminated');
    expect(existsSync(data.nr) && existsSync(data.sld)).toBe(true);
    const whole = await hub.uploadTrainingData('svc-cut-data', data, { removeLocal: true });
    expect(whole.removedLocal).toEqual([data.nr, data.sld]);
  });

  it('fails once with HUB_REQUEST when a 500 persists, keeping every local file (removeLocal waits for verification)', async () => {
    const hub = store();
    const data = writeTrainingData();
    const dataBefore = { nr: sha256(readFileSync(data.nr)), sld: sha256(readFileSync(data.sld)) };
    server.inject({ method: 'POST', path: /\/preupload\/main$/, times: Infinity, fault: { kind: 'status', status: 500 } });
    const upload = await rejection(hub.uploadTrainingData('svc-down', data, { removeLocal: true }));
    expect(upload.code).toBe('HUB_REQUEST');
    expect(upload.message).toContain('upload of 2 file(s) to alice/reliability/models/svc-down failed');
    expect(upload.message).toContain(`the local files are kept: ${data.nr}, ${data.sld}`);
    expect({ nr: sha256(readFileSync(data.nr)), sld: sha256(readFileSync(data.sld)) }).toEqual(dataBefore);
    expect(server.matching('POST', /\/preupload\/main$/)).toHaveLength(3);
    server.clearFaults();

    const { dir, files } = writeBundle('svc-down');
    server.inject({ method: 'PUT', path: /^\/__lfs-upload\//, times: Infinity, fault: { kind: 'status', status: 500 } });
    const push = await rejection(hub.pushBundle(dir, { removeLocal: true }));
    expect(push.code).toBe('HUB_REQUEST');
    expect(push.message).toContain(`the local files are kept: ${join(dir, 'svc-down.pth')}`);
    expect(folderContents(dir)).toEqual(files);
    expect(server.repo('dataset', REPO)!.commits).toHaveLength(0);
    server.clearFaults();

    await hub.pushBundle(dir);
    const target = join(scratch('pulled'), 'svc-down');
    await hub.pullBundle('svc-down', target);
    server.inject({ method: 'GET', path: /^\/__cdn\//, when: fullBody, times: Infinity, fault: { kind: 'status', status: 500 } });
    const before = server.matching('GET', /^\/__cdn\//).length;
    hubLog.length = 0;
    const pull = await rejection(hub.pullBundle('svc-down', target, { overwrite: true }));
    expect(pull.code).toBe('HUB_REQUEST');
    expect(pull.message).toMatch(/^HUB_REQUEST at models\/svc-down\/svc-down\.pth: download of models\/svc-down\/svc-down\.pth \(answered 500 3 times\) failed: injected 500\. URL: http:\/\/127\.0\.0\.1:\d+\/__cdn\/[0-9a-f]{64}; the bundle is not written$/);
    // 1 + 2 tries of the body (the probe for its size succeeded), and one log line per retry.
    expect(server.matching('GET', /^\/__cdn\//).slice(before).filter((r) => r.status === 500)).toHaveLength(3);
    expect(retryLines()).toHaveLength(2);
    expect(folderContents(target)).toEqual(files);
  });

  it('a run whose Hub target keeps failing finishes complete, with one warning per failure and the bundle kept local', async () => {
    vi.stubEnv('HF_ENDPOINT', server.url);
    vi.stubEnv('HF_TOKEN', TOKEN);
    server.inject({ method: 'POST', path: /\/commit\/main$/, times: Infinity, fault: { kind: 'status', status: 500 } });
    const dir = scratch('history');
    const config = { ...SMALL_RUN, training: { ...SMALL_RUN.training, epochs: 1 }, storage: { hub: { repo: REPO, removeLocal: true }, history: { userId: 'alice', dir } } };
    const events: PipelineEvent[] = [];
    const result = await runPipeline(config, { runDir: scratch('run-hub'), trainingWorkers: 0, onEvent: (e) => events.push(e) });

    // Complete: metrics, report, bundle and record; no Hub link.
    expect(Number.isFinite(result.metrics.mse)).toBe(true);
    expect(result.hub).toBeNull();
    expect(result.history?.store).toBe('embedded');
    expect(existsSync(result.files.report)).toBe(true);
    expect(phases(events)).toEqual([
      'generate:start', 'generate:end', 'upload-data:start', 'train:start', 'train:end', 'save:start', 'save:end',
      'evaluate:start', 'evaluate:end', 'report:start', 'report:end', 'hub:start', 'history:start', 'history:end',
    ]);

    // Two failures (the training data, the bundle), one warning each, naming what failed and what was kept.
    const warnings = logs(events, 'warn');
    expect(warnings).toHaveLength(2);
    expect(warnings[0]).toMatch(/^the training data could not be uploaded before training \(HUB_REQUEST at models\/[0-9a-f-]{36}: upload of 2 file\(s\) to alice\/reliability\/models\/[0-9a-f-]{36} failed: injected 500/);
    expect(warnings[0]).toContain(`the local files are kept: ${join(result.files.data, 'nr_train.npy')}`);
    expect(warnings[1]).toMatch(/^the bundle was not uploaded to the Hub \(HUB_REQUEST at models\/[0-9a-f-]{36}: upload of \d+ file\(s\) to alice\/reliability\/models\/[0-9a-f-]{36} failed: injected 500/);
    expect(warnings[1]).toContain(`; it is kept in ${result.files.model}`);
    for (const warning of warnings) expect(warning).toContain(result.modelId);
    // The retries are progress lines, one per retry (4 per upload by default), each prefixed once.
    const info = logs(events, 'info').filter((l) => l.includes('injected 500'));
    expect(info).toHaveLength(8);
    for (const line of info) expect(line).toMatch(/^hub: POST http:\/\/127\.0\.0\.1:\d+\/api\/datasets\/alice\/reliability\/commit\/main answered 500 "injected 500"; retry [1-4] of 4 in \d+\.\d\d s$/);
    expect(server.matching('POST', /\/commit\/main$/)).toHaveLength(10);
    expect(server.repo('dataset', REPO)!.commits).toHaveLength(0);

    // removeLocal was set, but nothing was verified: the bundle is whole (every file matches its manifest).
    const { manifest } = await readLocalBundle(result.files.model);
    expect(manifest.modelId).toBe(result.modelId);
    expect(manifest.files.length).toBeGreaterThan(0);
    for (const text of [...warnings, ...logs(events, 'info')]) expect(text).not.toContain(TOKEN);
  });
});
