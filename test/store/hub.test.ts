import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { HubStore, type HubOptions } from '../../src/store/hub.node.js';
import { rejection } from '../helpers/errors.js';
import { startHubServer, type HubServer } from '../helpers/hub-server.js';

/** A distinctive token: the tests search every log line, error and report for it. */
const TOKEN = 'hf_ZZsecretTOKENvalue8472xq';
const REPO = 'alice/bundles';
const LFS_THRESHOLD = 64 * 1024;

let server: HubServer;
let logs: string[];
let root: string;

beforeEach(async () => {
  server = await startHubServer({ tokens: { [TOKEN]: { user: 'alice', orgs: ['lab'] } }, lfsThreshold: LFS_THRESHOLD, treePageSize: 3 });
  logs = [];
  root = mkdtempSync(join(tmpdir(), 'reflectkit-hub-'));
});

afterEach(async () => {
  vi.unstubAllEnvs();
  await server.close();
  rmSync(root, { recursive: true, force: true });
});

function store(extra: Partial<HubOptions> = {}): HubStore {
  return new HubStore({ repo: REPO, token: TOKEN, hubUrl: server.url, retries: 3, retryDelayMs: 5, timeoutMs: 5000, onLog: (m) => logs.push(m), ...extra });
}

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

/** An `.npy`-like binary file (the magic string holds NUL bytes, so the Hub stores it through LFS). */
function npyBytes(values: number): Buffer {
  const header = Buffer.from("\x93NUMPY\x01\x00v\x00{'descr': '<f4', 'fortran_order': False, 'shape': (N,), }".padEnd(118, ' ') + '\n', 'latin1');
  return Buffer.concat([header, randomBytes(values * 4)]);
}

/**
 * Writes a bundle folder as saveBundle lays it out: the weights (200 KiB binary, LFS), a text file above the
 * LFS threshold (LFS by size), scaler.json (regular), the stats .npy (binary, LFS), and config.json with the
 * real sizes and SHA-256s of the others.
 */
function writeBundle(name: string, modelId: string): { dir: string; files: Record<string, Buffer> } {
  const dir = join(root, name);
  mkdirSync(dir, { recursive: true });
  const files: Record<string, Buffer> = {
    [`${modelId}.pth`]: randomBytes(200 * 1024),
    'normalization_stat.npy': npyBytes(16),
    'scaler.json': Buffer.from(`${JSON.stringify({ nr: { min: 0, max: 1 }, sld: { min: -1, max: 5 } }, null, 2)}\n`),
    'history.csv': Buffer.from(Array.from({ length: 4000 }, (_, i) => `${i},${(1 / (i + 1)).toFixed(12)}\n`).join('')),
  };
  const manifest: Record<string, { bytes: number; sha256: string }> = {};
  for (const [file, bytes] of Object.entries(files)) {
    writeFileSync(join(dir, file), bytes);
    manifest[file] = { bytes: bytes.length, sha256: sha256(bytes) };
  }
  const config = Buffer.from(`${JSON.stringify({ format: 'reflectkit-model', version: 1, modelId, weightsFile: `${modelId}.pth`, files: manifest }, null, 2)}\n`);
  writeFileSync(join(dir, 'config.json'), config);
  return { dir, files: { ...files, 'config.json': config } };
}

function writeTrainingData(): { nr: string; sld: string; bytes: { nr: Buffer; sld: Buffer } } {
  const bytes = { nr: npyBytes(64), sld: npyBytes(48) };
  const nr = join(root, 'nr_train.npy');
  const sld = join(root, 'sld_train.npy');
  writeFileSync(nr, bytes.nr);
  writeFileSync(sld, bytes.sld);
  return { nr, sld, bytes };
}

function folderContents(dir: string): Record<string, string> {
  return Object.fromEntries(readdirSync(dir).sort().map((f) => [f, sha256(readFileSync(join(dir, f)))]));
}

function hashes(files: Record<string, Buffer>): Record<string, string> {
  return Object.fromEntries(Object.keys(files).sort().map((f) => [f, sha256(files[f]!)]));
}

describe('HubStore against a server speaking the Hub protocol', () => {
  it('creates the repository private by default, public only when asked, and only once', async () => {
    expect(await store().ensureRepo()).toEqual({ created: true });
    expect(server.repo('dataset', REPO)?.private).toBe(true);
    expect(await store().ensureRepo()).toEqual({ created: false });
    expect(server.matching('POST', /^\/api\/repos\/create$/)).toHaveLength(1);
    // Private: an anonymous client cannot see it.
    expect((await fetch(`${server.url}/api/datasets/${REPO}`)).status).toBe(401);

    expect(await store({ repo: 'alice/open-data', private: false }).ensureRepo()).toEqual({ created: true });
    expect(server.repo('dataset', 'alice/open-data')?.private).toBe(false);
    expect((await fetch(`${server.url}/api/datasets/alice/open-data`)).status).toBe(200);

    await store({ repo: 'lab/weights', repoType: 'model' }).ensureRepo();
    expect(server.repo('model', 'lab/weights')?.private).toBe(true);
    expect(server.repo('dataset', 'lab/weights')).toBeUndefined();
    expect(logs.filter((l) => l.startsWith('hub: created'))).toEqual([
      `hub: created private dataset repository ${REPO}`,
      'hub: created public dataset repository alice/open-data',
      'hub: created private model repository lab/weights',
    ]);
  });

  it('pushes a bundle folder in one verified commit (regular and LFS files) and pulls it back byte-identical', async () => {
    const { dir, files } = writeBundle('model', 'cnn-7');
    const hub = store();
    const report = await hub.pushBundle(dir);
    expect(report.modelId).toBe('cnn-7');
    expect(report.verified).toBe(true);
    expect(report.removedLocal).toEqual([]);
    expect(report.files.map((f) => [f.name, f.lfs])).toEqual([
      ['cnn-7.pth', true], // binary and above the threshold
      ['normalization_stat.npy', true], // binary: LFS although small
      ['scaler.json', false],
      ['history.csv', true], // text, LFS by size
      ['config.json', false],
    ]);
    for (const f of report.files) {
      expect(f.bytes).toBe(files[f.name]!.length);
      expect(f.sha256).toBe(sha256(files[f.name]!));
      expect(f.pathInRepo).toBe(`models/cnn-7/${f.name}`);
      expect(f.url).toBe(`${server.url}/datasets/${REPO}/resolve/main/models/cnn-7/${f.name}`);
    }
    expect(report.browseUrl).toBe(`${server.url}/datasets/${REPO}/tree/main/models/cnn-7`);
    expect(report.commit?.oid).toMatch(/^[0-9a-f]{40}$/);
    const repo = server.repo('dataset', REPO)!;
    expect(repo.commits).toHaveLength(1);
    expect([...repo.files.keys()].sort()).toEqual(Object.keys(files).map((f) => `models/cnn-7/${f}`).sort());
    for (const [name, bytes] of Object.entries(files)) expect(repo.files.get(`models/cnn-7/${name}`)!.bytes.equals(bytes)).toBe(true);
    // The three LFS objects went through the LFS batch and a PUT each; the commit was verified through paths-info.
    expect(server.matching('PUT', /^\/__lfs-upload\//)).toHaveLength(3);
    expect(server.matching('POST', /\/paths-info\/main$/)).toHaveLength(1);
    expect(folderContents(dir)).toEqual(hashes(files)); // local files untouched

    const target = join(root, 'pulled', 'cnn-7');
    const pulled = await hub.pullBundle('cnn-7', target);
    expect(folderContents(target)).toEqual(hashes(files));
    expect(pulled.files.map((f) => f.name)).toEqual(Object.keys(files).sort());
    expect(pulled.bytes).toBe(Object.values(files).reduce((n, b) => n + b.length, 0));
    expect(existsSync(`${target}.partial`)).toBe(false);
    // LFS files came from the CDN the Hub redirects to.
    expect(server.matching('GET', /^\/__cdn\//).length).toBeGreaterThanOrEqual(3);
  });

  it('uploads the training data right after generation and lists the bundles of the repository', async () => {
    const hub = store();
    await hub.ensureRepo();
    expect(await hub.listBundles()).toEqual([]); // no models/ folder yet

    const data = writeTrainingData();
    const report = await hub.uploadTrainingData('run-1', data);
    expect(report.files.map((f) => [f.name, f.localPath, f.bytes])).toEqual([
      ['nr_train.npy', data.nr, data.bytes.nr.length],
      ['sld_train.npy', data.sld, data.bytes.sld.length],
    ]);
    expect(server.repo('dataset', REPO)!.files.get('models/run-1/sld_train.npy')!.bytes.equals(data.bytes.sld)).toBe(true);
    const { files } = writeBundle('model', 'cnn-2');
    await hub.pushBundle(join(root, 'model'));

    const bundles = await hub.listBundles();
    expect(bundles).toEqual([
      {
        modelId: 'cnn-2',
        files: Object.keys(files).sort().map((name) => ({ name, bytes: files[name]!.length })),
        bytes: Object.values(files).reduce((n, b) => n + b.length, 0),
        hasConfig: true,
      },
      {
        modelId: 'run-1',
        files: [
          { name: 'nr_train.npy', bytes: data.bytes.nr.length },
          { name: 'sld_train.npy', bytes: data.bytes.sld.length },
        ],
        bytes: data.bytes.nr.length + data.bytes.sld.length,
        hasConfig: false,
      },
    ]);
    // The listing spans several pages of the tree endpoint (3 entries each here).
    expect(server.matching('GET', /\/tree\/main\/models$/).filter((r) => r.path.includes('cursor=')).length).toBeGreaterThan(0);
    expect(hub.urls('run-1').files).toEqual({
      'run-1.pth': `${server.url}/datasets/${REPO}/resolve/main/models/run-1/run-1.pth`,
      'nr_train.npy': `${server.url}/datasets/${REPO}/resolve/main/models/run-1/nr_train.npy`,
      'sld_train.npy': `${server.url}/datasets/${REPO}/resolve/main/models/run-1/sld_train.npy`,
    });
    expect(await hub.hasBundle('run-1')).toBe(true);
    expect(await hub.hasBundle('run-9')).toBe(false);
    // A folder of training data only is not a bundle.
    const notBundle = await rejection(hub.pullBundle('run-1', join(root, 'x')));
    expect(notBundle.code).toBe('NOT_FOUND');
    expect(notBundle.message).toContain('no config.json; only nr_train.npy, sld_train.npy');
    const missingRepo = await rejection(store({ repo: 'alice/nothing-here' }).listBundles());
    expect(missingRepo.code).toBe('NOT_FOUND');
  });

  it('catches a corrupted upload by verification (HUB_VERIFY), keeping every local file, LFS and regular alike', async () => {
    const { dir, files } = writeBundle('model', 'cnn-3');
    server.corruptOnCommit(/\/cnn-3\.pth$/);
    const lfsError = await rejection(store().pushBundle(dir, { removeLocal: true }));
    expect(lfsError.code).toBe('HUB_VERIFY');
    expect(lfsError.message).toContain('models/cnn-3/cnn-3.pth');
    expect(lfsError.message).toContain('the local files are kept');
    expect(lfsError.message).toContain(join(dir, 'cnn-3.pth'));
    expect(folderContents(dir)).toEqual(hashes(files));

    server.corruptOnCommit(/\/scaler\.json$/);
    const regularError = await rejection(store().pushBundle(dir, { removeLocal: true }));
    expect(regularError.code).toBe('HUB_VERIFY');
    expect(regularError.message).toMatch(/models\/cnn-3\/scaler\.json is \d+ bytes with git blob/);
    expect(regularError.message).not.toContain('cnn-3.pth is'); // the weights matched this time
    expect(folderContents(dir)).toEqual(hashes(files));
  });

  it('removes local files only after verification, and only when asked', async () => {
    const hub = store();
    const kept = writeTrainingData();
    expect((await hub.uploadTrainingData('run-2', kept)).removedLocal).toEqual([]);
    expect(existsSync(kept.nr) && existsSync(kept.sld)).toBe(true);

    // Verification cannot be done (paths-info keeps failing): nothing is removed.
    server.inject({ method: 'POST', path: /\/paths-info\/main$/, times: Infinity, fault: { kind: 'status', status: 500 } });
    const failed = await rejection(hub.uploadTrainingData('run-2', kept, { removeLocal: true }));
    expect(failed.code).toBe('HUB_REQUEST');
    expect(failed.message).toContain('verification');
    expect(failed.message).toContain('the local files are kept');
    expect(existsSync(kept.nr) && existsSync(kept.sld)).toBe(true);
    server.clearFaults();

    const report = await hub.uploadTrainingData('run-2', kept, { removeLocal: true });
    expect(report.removedLocal).toEqual([kept.nr, kept.sld]);
    expect(existsSync(kept.nr) || existsSync(kept.sld)).toBe(false);
    expect(server.repo('dataset', REPO)!.files.get('models/run-2/nr_train.npy')!.bytes.equals(kept.bytes.nr)).toBe(true);

    const { dir } = writeBundle('model', 'cnn-4');
    const pushed = await hub.pushBundle(dir, { removeLocal: true });
    expect(pushed.removedLocal).toHaveLength(5);
    expect(existsSync(dir)).toBe(false); // emptied, then removed
    expect(logs).toContain('hub: removed 2 verified local file(s)');
  });

  it('retries injected 5xx answers and succeeds, logging each retry once', async () => {
    server.inject({ method: 'POST', path: /\/preupload\/main$/, fault: { kind: 'status', status: 503 } });
    server.inject({ method: 'PUT', path: /^\/__lfs-upload\//, fault: { kind: 'status', status: 502 } });
    server.inject({ method: 'POST', path: /\/commit\/main$/, times: 2, fault: { kind: 'status', status: 500 } });
    const data = writeTrainingData();
    const report = await store().uploadTrainingData('run-3', data);
    expect(report.verified).toBe(true);
    expect(server.matching('POST', /\/commit\/main$/).map((r) => r.status)).toEqual([500, 500, 200]);
    expect(server.matching('POST', /\/preupload\/main$/).map((r) => r.status)).toEqual([503, 200]);
    expect(server.matching('PUT', /^\/__lfs-upload\//).map((r) => r.status)).toEqual([502, 200, 200]);
    const retries = logs.filter((l) => l.includes('; retry '));
    expect(retries).toHaveLength(4);
    expect(retries.filter((l) => /POST http:\/\/127\.0\.0\.1:\d+\/api\/datasets\/alice\/bundles\/commit\/main answered 500 "injected 500"; retry [12] of 3 in \d+\.\d\d s$/.test(l))).toHaveLength(2);
    expect(retries.some((l) => /PUT http:\/\/127\.0\.0\.1:\d+\/__lfs-upload\/[0-9a-f]{64} answered 502/.test(l))).toBe(true);
    expect(retries.join('\n')).not.toContain('sig='); // signed links are logged without their query
    expect(server.repo('dataset', REPO)!.commits).toHaveLength(1);
  });

  it("honours a 429's Retry-After", async () => {
    await store().ensureRepo();
    server.inject({ method: 'POST', path: /\/paths-info\/main$/, fault: { kind: 'rate-limit', retryAfterS: 1 } });
    const data = writeTrainingData();
    const start = performance.now();
    await store({ retryDelayMs: 1 }).uploadTrainingData('run-4', data);
    const elapsed = performance.now() - start;
    expect(elapsed).toBeGreaterThanOrEqual(990); // the backoff alone would be ≤ 1 ms
    expect(server.matching('POST', /\/paths-info\/main$/).map((r) => r.status)).toEqual([429, 200]);
    expect(logs.some((l) => /paths-info\/main answered 429 "You have been rate-limited; retry later" \(Retry-After 1\.0 s\); retry 1 of 3 in 1\.00 s$/.test(l))).toBe(true);
  });

  it('times out a hanging request and retries it', async () => {
    server.inject({ method: 'GET', path: `/api/datasets/${REPO}`, fault: { kind: 'hang' } });
    const start = performance.now();
    expect(await store({ timeoutMs: 600 }).ensureRepo()).toEqual({ created: true });
    expect(performance.now() - start).toBeGreaterThanOrEqual(590);
    expect(server.matching('GET', new RegExp(`^/api/datasets/${REPO}$`)).map((r) => [r.status, r.fault])).toEqual([
      [0, 'hang'],
      [404, undefined],
    ]);
    expect(logs.some((l) => /GET http:\/\/127\.0\.0\.1:\d+\/api\/datasets\/alice\/bundles timed out; retry 1 of 3/.test(l))).toBe(true);
  });

  it('fails with HUB_REQUEST after the retries when a 500 persists, keeping the local bundle', async () => {
    const { dir, files } = writeBundle('model', 'cnn-5');
    server.inject({ method: 'POST', path: /\/commit\/main$/, times: Infinity, fault: { kind: 'status', status: 500 } });
    const error = await rejection(store().pushBundle(dir, { removeLocal: true }));
    expect(error.code).toBe('HUB_REQUEST');
    expect(error.message).toContain('upload of 5 file(s) to alice/bundles/models/cnn-5 failed');
    expect(error.message).toContain('injected 500');
    expect(error.message).toContain(`the local files are kept: ${join(dir, 'cnn-5.pth')}`);
    expect(server.matching('POST', /\/commit\/main$/)).toHaveLength(4); // 1 + 3 retries
    expect(server.repo('dataset', REPO)!.commits).toHaveLength(0);
    expect(folderContents(dir)).toEqual(hashes(files));
  });

  it('never shows the token in logs, errors, causes or reports', async () => {
    const seen: string[] = [];
    // A server that echoes the credentials back in its error messages.
    server.inject({ method: 'POST', path: /\/commit\/main$/, times: 1, fault: { kind: 'status', status: 500, message: `bad header: Authorization: Bearer ${TOKEN}` } });
    const data = writeTrainingData();
    const hub = store();
    const report = await hub.uploadTrainingData('run-6', data);
    seen.push(JSON.stringify(report), inspect(report, { depth: 10 }), inspect(hub, { depth: 10 }), JSON.stringify(hub));

    server.inject({ method: 'POST', path: /\/commit\/main$/, times: Infinity, fault: { kind: 'status', status: 500, message: `token ${TOKEN} refused` } });
    const error = await rejection(hub.uploadTrainingData('run-7', data));
    expect(error.message).toContain('token *** refused');
    seen.push(error.message, inspect(error, { depth: 10 }), JSON.stringify(error));

    const unknown = 'hf_unknownTokenNotOnServer99';
    const refused = await rejection(store({ token: unknown }).ensureRepo());
    expect(refused.code).toBe('HUB_REQUEST');
    expect(refused.message).toContain('check the token');
    expect(inspect(refused, { depth: 10 })).not.toContain(unknown);

    seen.push(...logs);
    expect(logs.length).toBeGreaterThan(3); // the retries were logged
    for (const text of seen) expect(text).not.toContain(TOKEN);
    // The echoed header reached the retry log, scrubbed.
    expect(logs.some((l) => l.includes('answered 500 "bad header: Authorization: Bearer ***"'))).toBe(true);
  });

  it('rejects malformed repository ids, model ids and file names with INVALID_ID, before any request', async () => {
    for (const repo of ['no-slash', 'a/b/c', 'a/../b', '../etc/passwd', 'a/b..c', '/a/b', 'a/-b', '']) {
      const error = (() => {
        try {
          store({ repo });
        } catch (e) {
          return e as { code: string; path: string };
        }
        throw new Error(`accepted ${repo}`);
      })();
      expect([repo, error.code, error.path]).toEqual([repo, 'INVALID_ID', 'repo']);
    }
    const hub = store();
    const file = join(root, 'f.bin');
    writeFileSync(file, 'x');
    for (const modelId of ['../up', 'a/b', 'a..b', '', '-x', 'x'.repeat(129)]) {
      const error = await rejection(hub.uploadFiles(modelId, [{ name: 'f.bin', path: file }]));
      expect([modelId, error.code, error.path]).toEqual([modelId, 'INVALID_ID', 'modelId']);
    }
    for (const name of ['../f.bin', 'sub/f.bin', 'sub\\f.bin', '..', '']) {
      const error = await rejection(hub.uploadFiles('ok', [{ name: 'fine.bin', path: file }, { name, path: file }]));
      expect([name, error.code, error.path]).toEqual([name, 'INVALID_ID', 'files[1].name']);
    }
    expect((await rejection(hub.pullBundle('../x', join(root, 'p')))).code).toBe('INVALID_ID');
    expect((await rejection(hub.hasBundle('a/b'))).code).toBe('INVALID_ID');
    expect(() => hub.urls('ok', ['a/b'])).toThrow(/INVALID_ID at names\[0\]/);
    expect(server.requests).toEqual([]);
  });

  it('needs a token to write (HUB_REQUEST naming HF_TOKEN) and reads HF_TOKEN by default', async () => {
    vi.stubEnv('HF_TOKEN', '');
    const data = writeTrainingData();
    const error = await rejection(store({ token: undefined }).uploadTrainingData('run-8', data));
    expect(error.code).toBe('HUB_REQUEST');
    expect(error.message).toContain('pass token or set HF_TOKEN');
    expect(server.requests).toEqual([]);
    expect(existsSync(data.nr)).toBe(true);

    vi.stubEnv('HF_TOKEN', TOKEN);
    expect((await store({ token: undefined }).uploadTrainingData('run-8', data)).verified).toBe(true);
  });

  it('answers NOT_FOUND for a model that is not on the Hub, writing nothing', async () => {
    const hub = store();
    await hub.ensureRepo();
    const target = join(root, 'missing');
    const error = await rejection(hub.pullBundle('never-uploaded', target));
    expect(error.code).toBe('NOT_FOUND');
    expect(error.message).toContain('models/never-uploaded');
    expect(existsSync(target) || existsSync(`${target}.partial`)).toBe(false);
    expect((await rejection(store({ repo: 'alice/no-such-repo' }).pullBundle('m', target))).code).toBe('NOT_FOUND');
  });

  it('refuses to pull into a non-empty folder unless overwrite is set', async () => {
    const { dir, files } = writeBundle('model', 'cnn-9');
    const hub = store();
    await hub.pushBundle(dir);
    const target = join(root, 'occupied');
    mkdirSync(target);
    writeFileSync(join(target, 'keep.txt'), 'mine');
    const error = await rejection(hub.pullBundle('cnn-9', target));
    expect(error.code).toBe('IO_ERROR');
    expect(error.message).toContain('overwrite');
    expect(readdirSync(target)).toEqual(['keep.txt']);
    expect(server.matching('GET', /\/resolve\//)).toEqual([]); // refused before downloading

    await hub.pullBundle('cnn-9', target, { overwrite: true });
    expect(folderContents(target)).toEqual(hashes(files));
  });

  it('retries a download cut short, and refuses a bundle whose file stays short', async () => {
    const { dir, files } = writeBundle('model', 'cnn-10');
    const hub = store();
    await hub.pushBundle(dir);
    const noRange = (req: { headers: Record<string, unknown> }) => req.headers.range === undefined;

    // The connection drops halfway through the weights (full length announced): retried, then whole.
    server.inject({ method: 'GET', path: /^\/__cdn\//, when: noRange, fault: { kind: 'truncate', mode: 'reset' } });
    const target = join(root, 'cut-once');
    await hub.pullBundle('cnn-10', target);
    expect(folderContents(target)).toEqual(hashes(files));
    expect(server.requests.filter((r) => r.fault === 'truncate')).toHaveLength(1);
    expect(logs.some((l) => l.startsWith('hub: download of models/cnn-10/') && l.includes('retry 1 of 3'))).toBe(true);

    // config.json always arrives short (a proxy that cuts it but announces the short length): never written.
    server.inject({ method: 'GET', path: '/datasets/alice/bundles/resolve/main/models/cnn-10/config.json', when: noRange, times: Infinity, fault: { kind: 'truncate', mode: 'short', keepBytes: 10 } });
    const broken = join(root, 'cut-always');
    const error = await rejection(hub.pullBundle('cnn-10', broken));
    expect(error.code).toBe('HUB_VERIFY');
    expect(error.message).toContain('models/cnn-10/config.json gave 10 bytes');
    expect(existsSync(broken) || existsSync(`${broken}.partial`)).toBe(false);
  });

  it('times out a download whose body stalls, and fetches it again', async () => {
    const { dir, files } = writeBundle('model', 'cnn-15');
    const hub = store({ timeoutMs: 300 });
    await hub.pushBundle(dir);
    server.inject({ method: 'GET', path: /^\/__cdn\//, when: (req) => req.headers.range === undefined, fault: { kind: 'truncate', mode: 'stall' } });
    const target = join(root, 'stalled');
    const start = performance.now();
    await hub.pullBundle('cnn-15', target);
    expect(performance.now() - start).toBeGreaterThanOrEqual(290);
    expect(folderContents(target)).toEqual(hashes(files));
    expect(logs.some((l) => /^hub: download of models\/cnn-15\/\S+ GET http:\/\/127\.0\.0\.1:\d+\/__cdn\/[0-9a-f]{64}: the response body stalled for more than 300 ms; retry 1 of 3/.test(l))).toBe(true);
  });

  it('refuses a pulled bundle whose Hub copy no longer matches its manifest', async () => {
    const { dir } = writeBundle('model', 'cnn-11');
    const hub = store();
    await hub.pushBundle(dir);
    server.corrupt('dataset', REPO, 'models/cnn-11/normalization_stat.npy');
    const target = join(root, 'corrupt');
    const error = await rejection(hub.pullBundle('cnn-11', target));
    expect(error.code).toBe('HUB_VERIFY');
    expect(error.message).toContain('models/cnn-11/normalization_stat.npy on the Hub');
    expect(error.message).toContain('does not match config.json');
    expect(existsSync(target) || existsSync(`${target}.partial`)).toBe(false);
  });

  it('refuses to upload a damaged or incomplete local bundle, before any request', async () => {
    const { dir } = writeBundle('model', 'cnn-12');
    writeFileSync(join(dir, 'scaler.json'), '{"tampered": true}\n');
    const damaged = await rejection(store().pushBundle(dir));
    expect(damaged.code).toBe('CHECKPOINT_INVALID');
    expect(damaged.message).toContain('scaler.json does not match config.json');

    const other = writeBundle('model-b', 'cnn-13');
    rmSync(join(other.dir, 'history.csv'));
    expect((await rejection(store().pushBundle(other.dir))).code).toBe('CHECKPOINT_INVALID');
    expect((await rejection(store().pushBundle(join(root, 'nowhere')))).code).toBe('IO_ERROR');
    const noId = writeBundle('model-c', 'x');
    const config = JSON.parse(readFileSync(join(noId.dir, 'config.json'), 'utf8')) as Record<string, unknown>;
    delete config.modelId;
    writeFileSync(join(noId.dir, 'config.json'), JSON.stringify(config));
    const missingId = await rejection(store().pushBundle(noId.dir));
    expect([missingId.code, missingId.path]).toEqual(['INVALID_ID', 'modelId']);
    expect(server.requests).toEqual([]);
    // With an explicit id the same folder goes up.
    expect((await store().pushBundle(noId.dir, { modelId: 'given-id' })).files.every((f) => f.pathInRepo.startsWith('models/given-id/'))).toBe(true);
  });

  it('is cancelled by its signal (ABORTED), keeping the local files', async () => {
    const { dir, files } = writeBundle('model', 'cnn-14');
    server.inject({ method: 'POST', path: /\/commit\/main$/, fault: { kind: 'hang' } });
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 200);
    const error = await rejection(store().pushBundle(dir, { removeLocal: true, signal: controller.signal }));
    expect(error.code).toBe('ABORTED');
    expect(error.message).toContain('the local files are kept');
    expect(folderContents(dir)).toEqual(hashes(files));
    expect(server.matching('POST', /\/commit\/main$/)).toHaveLength(1); // not retried
  });
});
