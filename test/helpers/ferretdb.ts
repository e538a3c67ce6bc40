/**
 * Starts FerretDB (built by test/setup/ferretdb.ts) on 127.0.0.1 with a fresh SQLite folder, for tests that
 * need a real MongoDB-wire server. Loopback only: telemetry off, no debug HTTP listener.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MongoClient } from 'mongodb';

/** A running FerretDB. */
export interface FerretDb {
  /** `mongodb://[user:password@]127.0.0.1:<port>/` (with `authSource` when started with `auth`). */
  uri: string;
  /** The TCP port. */
  port: number;
  /** The SQLite folder (kept across {@link restart}). */
  dataDir: string;
  /** SIGKILL: the server dies at once, like a crash (connections are reset). */
  kill(): Promise<void>;
  /** SIGTERM, waiting for a clean exit. */
  stop(): Promise<void>;
  /** SIGSTOP: the process stays, its sockets stay open, and nothing answers (a hung server). */
  freeze(): void;
  /** SIGCONT after {@link freeze}. */
  thaw(): void;
  /** Starts it again on the same port and SQLite folder (stopping it first if it runs). */
  restart(): Promise<void>;
  /** Stops it and deletes its folder. */
  destroy(): Promise<void>;
}

/** Options of {@link startFerretDb}. */
export interface FerretDbOptions {
  /** Require SCRAM authentication with this user (FerretDB's new authentication, set up at start). */
  auth?: { username: string; password: string; database: string };
}

const running = new Set<ChildProcess>();
let exitHookInstalled = false;

/** A free TCP port on 127.0.0.1 (the kernel's choice). */
async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

/** Starts FerretDB v1.24.2 with the SQLite handler on a free loopback port and waits until it answers `ping`. */
export async function startFerretDb(options: FerretDbOptions = {}): Promise<FerretDb> {
  const binary = process.env.REFLECTKIT_FERRETDB;
  if (binary === undefined) throw new Error('REFLECTKIT_FERRETDB is not set: test/setup/ferretdb.ts must be in vitest.config.ts globalSetup');
  const dataDir = await mkdtemp(join(tmpdir(), 'reflectkit-ferretdb-'));
  const port = await freePort();
  const auth = options.auth;
  const uri = auth
    ? `mongodb://${encodeURIComponent(auth.username)}:${encodeURIComponent(auth.password)}@127.0.0.1:${port}/?authSource=${auth.database}`
    : `mongodb://127.0.0.1:${port}/`;
  const args = [
    '--handler=sqlite',
    `--sqlite-url=file:${dataDir}/`,
    `--listen-addr=127.0.0.1:${port}`,
    '--debug-addr=-',
    `--state-dir=${dataDir}`,
    '--telemetry=disable',
    '--log-level=warn',
    '--log-format=text',
    ...(auth ? ['--test-enable-new-auth', `--setup-database=${auth.database}`, `--setup-username=${auth.username}`, `--setup-password=${auth.password}`] : []),
  ];
  // FerretDB reads FERRETDB_* variables as flags: start it with none of them.
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('FERRETDB_')));
  let child: ChildProcess | undefined;
  let log = '';

  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.once('exit', () => {
      for (const c of running) c.kill('SIGKILL');
    });
  }

  async function launch(): Promise<void> {
    log = '';
    const proc = spawn(binary!, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    child = proc;
    running.add(proc);
    proc.once('exit', () => running.delete(proc));
    proc.stdout?.on('data', (d: Buffer) => (log += d.toString()));
    proc.stderr?.on('data', (d: Buffer) => (log += d.toString()));
    const deadline = Date.now() + 30_000;
    for (;;) {
      if (proc.exitCode !== null || proc.signalCode !== null) throw new Error(`FerretDB exited at start (${proc.exitCode ?? proc.signalCode}):\n${log}`);
      const client = new MongoClient(uri, { serverSelectionTimeoutMS: 500, connectTimeoutMS: 500 });
      try {
        await client.db('admin').command({ ping: 1 });
        return;
      } catch (error) {
        if (Date.now() > deadline) {
          proc.kill('SIGKILL');
          throw new Error(`FerretDB did not answer on ${uri} within 30 s: ${(error as Error).message}\n${log}`);
        }
      } finally {
        await client.close().catch(() => undefined);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  async function signal(sig: NodeJS.Signals): Promise<void> {
    const proc = child;
    if (proc === undefined || proc.exitCode !== null || proc.signalCode !== null) return;
    const done = exited(proc);
    proc.kill('SIGCONT'); // a frozen process acts on no other signal but SIGKILL
    proc.kill(sig);
    const timer = setTimeout(() => proc.kill('SIGKILL'), 10_000);
    await done;
    clearTimeout(timer);
  }

  await launch();
  return {
    uri,
    port,
    dataDir,
    kill: () => signal('SIGKILL'),
    stop: () => signal('SIGTERM'),
    freeze: () => {
      child?.kill('SIGSTOP');
    },
    thaw: () => {
      child?.kill('SIGCONT');
    },
    restart: async () => {
      await signal('SIGTERM');
      await launch();
    },
    destroy: async () => {
      await signal('SIGTERM');
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
