/**
 * A test helper: a real HTTP server on 127.0.0.1 implementing the Hugging Face Hub endpoints that
 * `@huggingface/hub` calls for repositories, commits (regular and basic-transfer LFS files), path metadata,
 * tree listings and file downloads, with repositories held in memory. It knows nothing of reflectkit: it
 * answers the protocol, and lets a test inject faults (error statuses, 429 with Retry-After, hanging or cut
 * responses) and corrupt stored files.
 *
 * Endpoints (revision `main` only):
 * - `GET  /api/whoami-v2`
 * - `POST /api/repos/create`
 * - `GET  /api/{models|datasets|spaces}/{owner}/{name}` (repo info; repoExists)
 * - `POST /api/{type}s/{repo}/preupload/{rev}` → uploadMode `lfs` (binary sample or ≥ lfsThreshold) or `regular`
 * - `POST /{datasets/|spaces/}{repo}.git/info/lfs/objects/batch` → basic transfer, upload links to
 *   `PUT /__lfs-upload/{sha256}?sig=…` (checks size and SHA-256)
 * - `POST /api/{type}s/{repo}/commit/{rev}` (ndjson: header, file (base64/utf-8), lfsFile, deletedFile, deletedFolder)
 * - `POST /api/{type}s/{repo}/paths-info/{rev}`
 * - `GET  /api/{type}s/{repo}/tree/{rev}[/{path}]?recursive=&expand=&cursor=` (Link: rel="next" pages)
 * - `GET|HEAD /{datasets/|spaces/}{repo}/resolve/{rev}/{path}` with `Range`; LFS files redirect (302) to
 *   `GET|HEAD /__cdn/{sha256}`, as the Hub redirects to its CDN
 *
 * Metadata is computed from the stored bytes at each request: `oid` is the git blob SHA-1 (of the LFS
 * pointer for LFS files), `lfs.oid` the SHA-256 of the content.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** Repository kinds, as in URLs (`datasets/…`). */
export type HubRepoType = 'model' | 'dataset' | 'space';

/** A stored file. */
export interface HubServerFile {
  bytes: Buffer;
  /** Stored through LFS (decided at preupload). */
  lfs: boolean;
  /** Commit that last wrote it. */
  commit: string;
}

/** A stored repository. */
export interface HubServerRepo {
  type: HubRepoType;
  /** `owner/name`. */
  name: string;
  private: boolean;
  files: Map<string, HubServerFile>;
  commits: Array<{ oid: string; title: string; date: string }>;
}

/** One request as the server saw it. */
export interface RecordedRequest {
  method: string;
  /** Path and query. */
  path: string;
  /** Status sent (0 when none was: a hung or reset request). */
  status: number;
  /** The injected fault that answered it, if any. */
  fault?: HubFault['kind'];
  /** What the Authorization header held. */
  authorization: 'none' | 'valid' | 'invalid';
  /** When it arrived (its headers were read), `performance.now()` of this process, ms. */
  at: number;
  /** When its answer was handed to the socket in full (or the connection closed), `performance.now()`, ms; undefined while open. */
  endedAt?: number;
}

/** A fault to answer a request with instead of (or while) serving it. */
export type HubFault =
  /** Answer with this status and a JSON error (`message`, default `injected {status}`: a test may make it echo a header). */
  | { kind: 'status'; status: number; message?: string }
  /** Answer 429 with `Retry-After: retryAfterS`. */
  | { kind: 'rate-limit'; retryAfterS: number }
  /** Never answer (the client must time out). */
  | { kind: 'hang' }
  /**
   * Serve normally but cut the body after `keepBytes` (default half): `reset` announces the full length and
   * drops the connection; `short` announces and sends only the kept bytes; `stall` announces the full length
   * and then sends nothing more, keeping the connection open.
   */
  | { kind: 'truncate'; keepBytes?: number; mode?: 'reset' | 'short' | 'stall' };

/** Which requests a fault hits. */
export interface FaultRule {
  /** HTTP method (any when absent). */
  method?: string;
  /** Exact pathname, or a pattern tested against it. */
  path: string | RegExp;
  /** A further condition on the request (e.g. no `Range` header). */
  when?: (req: IncomingMessage) => boolean;
  /** How many matching requests it hits (default 1; `Infinity` for all). */
  times?: number;
  fault: HubFault;
}

/** Options of {@link startHubServer}. */
export interface HubServerOptions {
  /** Valid tokens → the user they authenticate and that user's organisations. */
  tokens?: Record<string, { user: string; orgs?: string[] }>;
  /** Files at or above this size are LFS (the Hub: 10 MiB); binary ones (a NUL byte in the 512-byte sample) always are. */
  lfsThreshold?: number;
  /** Tree entries per page (the Hub: 1000). */
  treePageSize?: number;
}

interface Ctx {
  req: IncomingMessage;
  res: ServerResponse;
  url: URL;
  user: { user: string; orgs?: string[] } | undefined;
  auth: RecordedRequest['authorization'];
  truncate: Extract<HubFault, { kind: 'truncate' }> | undefined;
}

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');
const gitSha1 = (bytes: Uint8Array) => createHash('sha1').update(`blob ${bytes.byteLength}\0`).update(bytes).digest('hex');
const lfsPointer = (bytes: Uint8Array) => Buffer.from(`version https://git-lfs.github.com/spec/v1\noid sha256:${sha256(bytes)}\nsize ${bytes.byteLength}\n`);
const hex = (n: number) => randomBytes(n).toString('hex');
const REPO_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,95}$/;

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** The Hub protocol server; see the file's comment. */
export class HubServer {
  /** `http://127.0.0.1:{port}`. */
  url = '';
  /** Every request, in arrival order. */
  readonly requests: RecordedRequest[] = [];
  /** Repositories by `{type}s/{owner}/{name}`. */
  readonly repos = new Map<string, HubServerRepo>();
  private readonly server: Server;
  private readonly tokens: Record<string, { user: string; orgs?: string[] }>;
  private readonly lfsThreshold: number;
  private readonly treePageSize: number;
  private readonly lfsObjects = new Map<string, Buffer>();
  private readonly uploadSignatures = new Map<string, string>();
  private readonly cdn = new Map<string, Buffer>();
  private readonly faults: Array<FaultRule & { left: number }> = [];
  private readonly corruptions: Array<{ path: string | RegExp; left: number }> = [];
  private readonly hanging = new Set<ServerResponse>();

  constructor(options: HubServerOptions = {}) {
    this.tokens = options.tokens ?? {};
    this.lfsThreshold = options.lfsThreshold ?? 10 * 1024 * 1024;
    this.treePageSize = options.treePageSize ?? 1000;
    this.server = createServer((req, res) => {
      this.handle(req, res).catch((error: unknown) => {
        if (!res.headersSent) {
          res.writeHead(500, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ error: `test server: ${(error as Error).message}` }));
        } else res.destroy();
      });
    });
  }

  /** Listens on 127.0.0.1, a free port. */
  async listen(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  /** Stops, dropping open connections (hung requests included). */
  async close(): Promise<void> {
    for (const res of this.hanging) res.destroy();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** Adds a fault rule (rules are tried in the order added). */
  inject(rule: FaultRule): void {
    this.faults.push({ ...rule, left: rule.times ?? 1 });
  }

  /** Removes every fault and pending corruption. */
  clearFaults(): void {
    this.faults.length = 0;
    this.corruptions.length = 0;
  }

  /** Makes the next `times` commits that write a matching repo path store it with one byte flipped. */
  corruptOnCommit(path: string | RegExp, times = 1): void {
    this.corruptions.push({ path, left: times });
  }

  /** Flips one byte of a stored file now. */
  corrupt(type: HubRepoType, name: string, path: string): void {
    const file = this.repo(type, name)?.files.get(path);
    if (!file) throw new Error(`test server: no ${path} in ${name}`);
    file.bytes = flipByte(file.bytes);
  }

  /** A stored repository. */
  repo(type: HubRepoType, name: string): HubServerRepo | undefined {
    return this.repos.get(`${type}s/${name}`);
  }

  /** Adds a repository directly (e.g. someone else's private one). */
  addRepo(type: HubRepoType, name: string, isPrivate: boolean): HubServerRepo {
    const repo: HubServerRepo = { type, name, private: isPrivate, files: new Map(), commits: [] };
    this.repos.set(`${type}s/${name}`, repo);
    return repo;
  }

  /** Requests whose method and path match. */
  matching(method: string, path: RegExp): RecordedRequest[] {
    return this.requests.filter((r) => r.method === method && path.test(r.path.split('?')[0]!));
  }

  private takeFault(req: IncomingMessage, pathname: string): HubFault | undefined {
    for (const rule of this.faults) {
      if (rule.left <= 0) continue;
      if (rule.method !== undefined && rule.method.toUpperCase() !== req.method) continue;
      if (typeof rule.path === 'string' ? rule.path !== pathname : !rule.path.test(pathname)) continue;
      if (rule.when && !rule.when(req)) continue;
      rule.left--;
      return rule.fault;
    }
    return undefined;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', this.url);
    const header = req.headers.authorization;
    const token = header?.startsWith('Bearer ') ? header.slice(7) : undefined;
    const user = token === undefined ? undefined : this.tokens[token];
    const auth: RecordedRequest['authorization'] = header === undefined ? 'none' : user ? 'valid' : 'invalid';
    const record: RecordedRequest = { method: req.method ?? 'GET', path: url.pathname + url.search, status: 0, authorization: auth, at: performance.now() };
    this.requests.push(record);
    res.on('finish', () => {
      record.endedAt ??= performance.now();
    });
    res.on('close', () => {
      record.status = res.headersSent ? res.statusCode : 0;
      record.endedAt ??= performance.now();
    });
    const fault = this.takeFault(req, url.pathname);
    if (fault) record.fault = fault.kind;
    const ctx: Ctx = { req, res, url, user, auth, truncate: fault?.kind === 'truncate' ? fault : undefined };
    if (fault?.kind === 'hang') {
      this.hanging.add(res);
      res.on('close', () => this.hanging.delete(res));
      req.resume();
      return;
    }
    if (fault?.kind === 'status') {
      await readBody(req);
      return this.error(ctx, fault.status, fault.message ?? `injected ${fault.status}`);
    }
    if (fault?.kind === 'rate-limit') {
      await readBody(req);
      return this.send(ctx, 429, { error: 'You have been rate-limited; retry later' }, { 'retry-after': String(fault.retryAfterS) });
    }
    await this.route(ctx);
  }

  private send(ctx: Ctx, status: number, body: Buffer | string | object | undefined, headers: Record<string, string> = {}): void {
    let bytes: Buffer;
    const out: Record<string, string> = { ...headers };
    if (body === undefined) bytes = Buffer.alloc(0);
    else if (Buffer.isBuffer(body)) bytes = body;
    else if (typeof body === 'string') bytes = Buffer.from(body);
    else {
      bytes = Buffer.from(JSON.stringify(body));
      out['content-type'] ??= 'application/json; charset=utf-8';
    }
    const head = ctx.req.method === 'HEAD';
    const cut = ctx.truncate;
    if (cut !== undefined && !head && bytes.length > 0) {
      const keep = Math.min(bytes.length - 1, cut.keepBytes ?? Math.floor(bytes.length / 2));
      if (cut.mode === 'short') {
        ctx.res.writeHead(status, { ...out, 'content-length': String(keep) });
        ctx.res.end(bytes.subarray(0, keep));
      } else if (cut.mode === 'stall') {
        ctx.res.writeHead(status, { ...out, 'content-length': String(bytes.length) });
        ctx.res.write(bytes.subarray(0, keep));
        this.hanging.add(ctx.res);
        ctx.res.on('close', () => this.hanging.delete(ctx.res));
      } else {
        ctx.res.writeHead(status, { ...out, 'content-length': String(bytes.length) });
        ctx.res.write(bytes.subarray(0, keep), () => ctx.res.socket?.destroy());
      }
      return;
    }
    ctx.res.writeHead(status, { ...out, 'content-length': String(bytes.length) });
    ctx.res.end(head ? undefined : bytes);
  }

  private error(ctx: Ctx, status: number, message: string, code?: string): void {
    this.send(ctx, status, { error: message }, { ...(code ? { 'x-error-code': code } : {}), 'x-error-message': message });
  }

  private async route(ctx: Ctx): Promise<void> {
    const { req, url } = ctx;
    const method = req.method ?? 'GET';
    const p = url.pathname;
    if (p === '/api/whoami-v2' && method === 'GET') return this.whoami(ctx);
    if (p === '/api/repos/create' && method === 'POST') return this.createRepo(ctx);
    let m = /^\/api\/(model|dataset|space)s\/([^/]+)\/([^/]+)(?:\/(preupload|commit|paths-info|tree)\/([^/]+)(\/.*)?)?$/.exec(p);
    if (m) {
      const [, type, owner, name, action, rev, rest] = m as unknown as [string, HubRepoType, string, string, string | undefined, string | undefined, string | undefined];
      const repoName = `${owner}/${name}`;
      if (action === undefined && method === 'GET') return this.repoInfo(ctx, type, repoName);
      if (decodeURIComponent(rev ?? '') !== 'main') return this.error(ctx, 404, `Invalid rev id: ${rev}`, 'RevisionNotFound');
      if (action === 'preupload' && method === 'POST') return this.preupload(ctx, type, repoName);
      if (action === 'commit' && method === 'POST') return this.commit(ctx, type, repoName);
      if (action === 'paths-info' && method === 'POST') return this.pathsInfo(ctx, type, repoName);
      if (action === 'tree' && method === 'GET') return this.tree(ctx, type, repoName, decodeURIComponent((rest ?? '').replace(/^\//, '')));
    }
    m = /^\/(?:(dataset|space)s\/)?([^/]+)\/([^/]+)\.git\/info\/lfs\/objects\/batch$/.exec(p);
    if (m && method === 'POST') return this.lfsBatch(ctx, (m[1] as HubRepoType | undefined) ?? 'model', `${m[2]}/${m[3]}`);
    m = /^\/__lfs-upload\/([0-9a-f]{64})$/.exec(p);
    if (m && method === 'PUT') return this.lfsUpload(ctx, m[1]!);
    m = /^\/__cdn\/([0-9a-f]{64})$/.exec(p);
    if (m && (method === 'GET' || method === 'HEAD')) {
      const bytes = this.cdn.get(m[1]!);
      if (!bytes) return this.error(ctx, 404, 'Not found');
      return this.serveBytes(ctx, bytes, { etag: `"${m[1]}"` });
    }
    m = /^\/(?:(dataset|space)s\/)?([^/]+)\/([^/]+)\/resolve\/([^/]+)\/(.+)$/.exec(p);
    if (m && (method === 'GET' || method === 'HEAD')) {
      return this.resolve(ctx, (m[1] as HubRepoType | undefined) ?? 'model', `${m[2]}/${m[3]}`, decodeURIComponent(m[4]!), decodeURIComponent(m[5]!));
    }
    return this.error(ctx, 404, `test server: no route for ${method} ${p}`);
  }

  private namespaces(ctx: Ctx): string[] {
    return ctx.user ? [ctx.user.user, ...(ctx.user.orgs ?? [])] : [];
  }

  /** The repository if the request may read (or write) it; otherwise sends the Hub's error and returns undefined. */
  private access(ctx: Ctx, type: HubRepoType, name: string, need: 'read' | 'write'): HubServerRepo | undefined {
    if (ctx.auth === 'invalid') {
      this.error(ctx, 401, 'Invalid credentials in Authorization header');
      return undefined;
    }
    const repo = this.repo(type, name);
    const mine = this.namespaces(ctx).includes(name.split('/')[0]!);
    if (!repo || (repo.private && !mine)) {
      if (!ctx.user) this.error(ctx, 401, 'Invalid username or password.', 'RepoNotFound');
      else this.error(ctx, 404, 'Repository not found', 'RepoNotFound');
      return undefined;
    }
    if (need === 'write' && !ctx.user) {
      this.error(ctx, 401, 'You must be authenticated to access this resource');
      return undefined;
    }
    if (need === 'write' && !mine) {
      this.error(ctx, 403, `You don't have the rights to write to ${name}`);
      return undefined;
    }
    return repo;
  }

  private whoami(ctx: Ctx): void {
    if (!ctx.user) return this.error(ctx, 401, 'Invalid credentials in Authorization header');
    this.send(ctx, 200, {
      type: 'user',
      id: createHash('sha1').update(ctx.user.user).digest('hex').slice(0, 24),
      name: ctx.user.user,
      fullname: ctx.user.user,
      orgs: (ctx.user.orgs ?? []).map((name) => ({ type: 'org', name, fullname: name })),
      auth: { type: 'access_token', accessToken: { displayName: 'test', role: 'write', createdAt: new Date(0).toISOString() } },
    });
  }

  private async createRepo(ctx: Ctx): Promise<void> {
    const body = JSON.parse((await readBody(ctx.req)).toString('utf8') || '{}') as { name?: string; organization?: string; type?: HubRepoType; visibility?: string; private?: boolean };
    if (!ctx.user) return this.error(ctx, 401, 'Invalid credentials in Authorization header');
    const namespace = body.organization ?? ctx.user.user;
    if (typeof body.name !== 'string' || !REPO_NAME.test(body.name) || !REPO_NAME.test(namespace)) return this.error(ctx, 400, 'Invalid repo name');
    if (!this.namespaces(ctx).includes(namespace)) return this.error(ctx, 403, `You don't have the rights to create a repo under the namespace "${namespace}"`);
    const type = body.type ?? 'model';
    const name = `${namespace}/${body.name}`;
    const url = `${this.url}/${type === 'model' ? '' : `${type}s/`}${name}`;
    if (this.repo(type, name)) return this.send(ctx, 409, { error: `You already created this ${type} repo`, url });
    const isPrivate = body.visibility !== undefined ? body.visibility !== 'public' : body.private === true;
    this.addRepo(type, name, isPrivate);
    this.send(ctx, 200, { url, name, id: hex(12) });
  }

  private repoInfo(ctx: Ctx, type: HubRepoType, name: string): void {
    const repo = this.access(ctx, type, name, 'read');
    if (!repo) return;
    const last = repo.commits.at(-1);
    this.send(ctx, 200, {
      _id: createHash('sha1').update(name).digest('hex').slice(0, 24),
      id: name,
      author: name.split('/')[0],
      private: repo.private,
      sha: last?.oid,
      lastModified: last?.date ?? new Date(0).toISOString(),
      likes: 0,
      gated: false,
      disabled: false,
      siblings: [...repo.files.keys()].sort().map((rfilename) => ({ rfilename })),
    });
  }

  private async preupload(ctx: Ctx, type: HubRepoType, name: string): Promise<void> {
    const body = JSON.parse((await readBody(ctx.req)).toString('utf8')) as { files: Array<{ path: string; size: number; sample: string }> };
    const repo = this.access(ctx, type, name, 'write');
    if (!repo) return;
    const files = body.files.map((f) => {
      const binary = Buffer.from(f.sample, 'base64').includes(0);
      return { path: f.path, uploadMode: binary || f.size >= this.lfsThreshold ? 'lfs' : 'regular', shouldIgnore: false };
    });
    this.send(ctx, 200, { files, commitOid: repo.commits.at(-1)?.oid ?? '0'.repeat(40) });
  }

  private async lfsBatch(ctx: Ctx, type: HubRepoType, name: string): Promise<void> {
    const body = JSON.parse((await readBody(ctx.req)).toString('utf8')) as { operation: string; transfers?: string[]; objects: Array<{ oid: string; size: number }> };
    const repo = this.access(ctx, type, name, 'write');
    if (!repo) return;
    if (body.operation !== 'upload' || !(body.transfers ?? ['basic']).includes('basic')) return this.error(ctx, 400, 'only basic uploads are served here');
    const objects = body.objects.map(({ oid, size }) => {
      if (!/^[0-9a-f]{64}$/.test(oid) || !Number.isSafeInteger(size) || size < 0) return { oid, size, error: { code: 422, message: 'Invalid oid or size' } };
      if (this.lfsObjects.get(oid)?.length === size) return { oid, size };
      const sig = hex(16);
      this.uploadSignatures.set(oid, sig);
      return { oid, size, authenticated: true, actions: { upload: { href: `${this.url}/__lfs-upload/${oid}?sig=${sig}`, header: {}, expires_in: 3600 } } };
    });
    this.send(ctx, 200, { transfer: 'basic', objects }, { 'content-type': 'application/vnd.git-lfs+json', 'x-request-id': hex(8) });
  }

  private async lfsUpload(ctx: Ctx, oid: string): Promise<void> {
    const bytes = await readBody(ctx.req);
    if (this.uploadSignatures.get(oid) !== ctx.url.searchParams.get('sig')) return this.error(ctx, 403, 'Signature does not match');
    if (sha256(bytes) !== oid) return this.error(ctx, 400, 'Uploaded content does not match its sha256');
    this.lfsObjects.set(oid, bytes);
    this.send(ctx, 200, undefined, { etag: `"${createHash('md5').update(bytes).digest('hex')}"` });
  }

  private async commit(ctx: Ctx, type: HubRepoType, name: string): Promise<void> {
    const lines = (await readBody(ctx.req)).toString('utf8').split('\n').filter((l) => l.trim() !== '');
    const repo = this.access(ctx, type, name, 'write');
    if (!repo) return;
    const next = new Map(repo.files);
    const oid = hex(20);
    let title = '';
    for (const line of lines) {
      const { key, value } = JSON.parse(line) as { key: string; value: Record<string, unknown> };
      const path = String(value.path ?? '');
      if (key !== 'header' && (path === '' || path.startsWith('/') || path.split('/').includes('..'))) return this.error(ctx, 400, `Invalid path ${path}`);
      if (key === 'header') title = String(value.summary ?? '');
      else if (key === 'file') {
        const bytes = Buffer.from(String(value.content ?? ''), value.encoding === 'base64' ? 'base64' : 'utf8');
        next.set(path, { bytes, lfs: false, commit: oid });
      } else if (key === 'lfsFile') {
        const stored = this.lfsObjects.get(String(value.oid));
        if (!stored || stored.length !== value.size) return this.error(ctx, 422, `LFS pointer of ${path} points to a file that does not exist`);
        next.set(path, { bytes: Buffer.from(stored), lfs: true, commit: oid });
      } else if (key === 'deletedFile') next.delete(path);
      else if (key === 'deletedFolder') for (const p of [...next.keys()]) if (p.startsWith(`${path.replace(/\/$/, '')}/`)) next.delete(p);
      else return this.error(ctx, 400, `Unknown commit operation ${key}`);
    }
    for (const [path, file] of next) {
      if (file.commit !== oid) continue;
      const rule = this.corruptions.find((c) => c.left > 0 && (typeof c.path === 'string' ? c.path === path : c.path.test(path)));
      if (rule) {
        rule.left--;
        file.bytes = flipByte(file.bytes);
      }
    }
    repo.files = next;
    repo.commits.push({ oid, title, date: new Date().toISOString() });
    const base = `${this.url}/${type === 'model' ? '' : `${type}s/`}${name}`;
    this.send(ctx, 200, { success: true, commitOid: oid, commitUrl: `${base}/commit/${oid}`, hookOutput: '' });
  }

  private entry(repo: HubServerRepo, path: string, file: HubServerFile, expand: boolean): Record<string, unknown> {
    const commit = repo.commits.find((c) => c.oid === file.commit);
    return {
      type: 'file',
      oid: gitSha1(file.lfs ? lfsPointer(file.bytes) : file.bytes),
      size: file.bytes.length,
      path,
      ...(file.lfs ? { lfs: { oid: sha256(file.bytes), size: file.bytes.length, pointerSize: lfsPointer(file.bytes).length } } : {}),
      ...(expand ? { lastCommit: { id: file.commit, title: commit?.title ?? '', date: commit?.date ?? '' }, securityFileStatus: { status: 'safe' } } : {}),
    };
  }

  private directory(path: string): Record<string, unknown> {
    return { type: 'directory', oid: createHash('sha1').update(`tree ${path}`).digest('hex'), size: 0, path };
  }

  private async pathsInfo(ctx: Ctx, type: HubRepoType, name: string): Promise<void> {
    const body = JSON.parse((await readBody(ctx.req)).toString('utf8')) as { paths: string[]; expand?: boolean };
    const repo = this.access(ctx, type, name, 'read');
    if (!repo) return;
    const out = body.paths.flatMap((path) => {
      const file = repo.files.get(path);
      if (file) return [this.entry(repo, path, file, body.expand === true)];
      return [...repo.files.keys()].some((p) => p.startsWith(`${path}/`)) ? [this.directory(path)] : [];
    });
    this.send(ctx, 200, out);
  }

  private tree(ctx: Ctx, type: HubRepoType, name: string, folder: string): void {
    const repo = this.access(ctx, type, name, 'read');
    if (!repo) return;
    const recursive = ['true', '1'].includes(ctx.url.searchParams.get('recursive') ?? '');
    const expand = ['true', '1'].includes(ctx.url.searchParams.get('expand') ?? '');
    const prefix = folder === '' ? '' : `${folder.replace(/\/$/, '')}/`;
    const under = [...repo.files.keys()].filter((p) => p.startsWith(prefix)).sort();
    if (folder !== '' && under.length === 0) return this.error(ctx, 404, `${folder} does not exist on "main"`, 'EntryNotFound');
    const entries = new Map<string, Record<string, unknown>>();
    for (const path of under) {
      const parts = path.slice(prefix.length).split('/');
      for (let depth = 1; depth < parts.length && (recursive || depth === 1); depth++) {
        const dir = prefix + parts.slice(0, depth).join('/');
        if (!entries.has(dir)) entries.set(dir, this.directory(dir));
      }
      if (recursive || parts.length === 1) entries.set(path, this.entry(repo, path, repo.files.get(path)!, expand));
    }
    const all = [...entries.values()].sort((a, b) => String(a.path).localeCompare(String(b.path)));
    const start = Number(ctx.url.searchParams.get('cursor') ?? '0');
    const page = all.slice(start, start + this.treePageSize);
    const headers: Record<string, string> = {};
    if (start + this.treePageSize < all.length) {
      const next = new URL(ctx.url.href);
      next.searchParams.set('cursor', String(start + this.treePageSize));
      headers.link = `<${next.href}>; rel="next"`;
    }
    this.send(ctx, 200, page, headers);
  }

  private resolve(ctx: Ctx, type: HubRepoType, name: string, rev: string, path: string): void {
    const repo = this.access(ctx, type, name, 'read');
    if (!repo) return;
    if (rev !== 'main') return this.error(ctx, 404, `Invalid rev id: ${rev}`, 'RevisionNotFound');
    const file = repo.files.get(path);
    if (!file) return this.error(ctx, 404, 'Entry not found', 'EntryNotFound');
    const commit = file.commit;
    if (file.lfs) {
      const sha = sha256(file.bytes);
      this.cdn.set(sha, Buffer.from(file.bytes));
      return this.send(ctx, 302, undefined, {
        location: `${this.url}/__cdn/${sha}`,
        'x-linked-size': String(file.bytes.length),
        'x-linked-etag': `"${sha}"`,
        etag: `"${gitSha1(lfsPointer(file.bytes))}"`,
        'x-repo-commit': commit,
      });
    }
    this.serveBytes(ctx, file.bytes, { etag: `"${gitSha1(file.bytes)}"`, 'x-repo-commit': commit });
  }

  private serveBytes(ctx: Ctx, bytes: Buffer, headers: Record<string, string>): void {
    const out = { ...headers, 'accept-ranges': 'bytes', 'content-type': 'application/octet-stream' };
    const range = /^bytes=(\d*)-(\d*)$/.exec(ctx.req.headers.range ?? '');
    if (!range) return this.send(ctx, 200, bytes, out);
    const total = bytes.length;
    let start = range[1] === '' ? total - Number(range[2]) : Number(range[1]);
    let end = range[1] === '' || range[2] === '' ? total - 1 : Math.min(Number(range[2]), total - 1);
    start = Math.max(0, start);
    if (start >= total || end < start) return this.send(ctx, 416, undefined, { 'content-range': `bytes */${total}` });
    end = Math.max(end, start);
    this.send(ctx, 206, bytes.subarray(start, end + 1), { ...out, 'content-range': `bytes ${start}-${end}/${total}` });
  }
}

function flipByte(bytes: Buffer): Buffer {
  const copy = Buffer.from(bytes.length > 0 ? bytes : Buffer.from([0]));
  const at = Math.floor(copy.length / 2);
  copy[at] = copy[at]! ^ 0xff;
  return copy;
}

/** Starts a {@link HubServer} on 127.0.0.1 and a free port. */
export function startHubServer(options: HubServerOptions = {}): Promise<HubServer> {
  return new HubServer(options).listen();
}
