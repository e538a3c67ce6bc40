#!/usr/bin/env node
// Runs a Jupyter notebook headless in its real kernel (Deno's or tslab's), cell by cell, as Jupyter would:
// starts the kernel named by the notebook's kernelspec with a connection file, sends each code cell as an
// execute_request over ZeroMQ (the Jupyter messaging protocol, v5.3), collects the outputs, and stops at the
// first cell that fails. No Python or Jupyter installation needed.
//
//   node examples/notebooks/run-notebook.mjs examples/notebooks/deno.ipynb [--out executed.ipynb] [--timeout 300]
//
// Exit code 0 when every cell ran, 1 when a cell raised (its traceback is printed) or the kernel died.
// --out writes the notebook with its outputs. Kernels: `deno` (the `deno` npm package, or DENO_BIN, or `deno`
// on PATH), `tslab` / `jslab` (the `tslab` npm package, or TSLAB_BIN). The kernel runs in the notebook's
// folder, as Jupyter starts it, so examples/notebooks/deno.json applies.
import { spawn } from 'node:child_process';
import { createHmac, randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);

/** The command that starts a kernel, for a kernelspec name: the npm package's, else the one on PATH. */
export function kernelCommand(name, connectionFile) {
  const resolvePackage = (path) => {
    try {
      return require.resolve(path);
    } catch {
      return null;
    }
  };
  if (name === 'deno') {
    // The npm package's bin.cjs starts the platform binary from @deno/<platform> (works without its postinstall).
    const bin = process.env.DENO_BIN ?? resolvePackage('deno/bin.cjs') ?? 'deno';
    const args = ['jupyter', '--kernel', '--conn', connectionFile];
    return bin.endsWith('.cjs') ? [process.execPath, bin, ...args] : [bin, ...args];
  }
  if (name === 'tslab' || name === 'jslab') {
    const script = process.env.TSLAB_BIN ? null : resolvePackage('tslab/bin/tslab');
    const args = ['kernel', '--config-path', connectionFile, ...(name === 'jslab' ? ['--js'] : [])];
    return script === null ? [process.env.TSLAB_BIN ?? 'tslab', ...args] : [process.execPath, script, ...args];
  }
  throw new Error(`no kernel named ${JSON.stringify(name)} (deno, tslab, jslab)`);
}

async function freePorts(count) {
  const servers = await Promise.all(
    Array.from({ length: count }, () => new Promise((done, fail) => {
      const server = createServer();
      server.on('error', fail);
      server.listen(0, '127.0.0.1', () => done(server));
    })),
  );
  const ports = servers.map((s) => s.address().port);
  await Promise.all(servers.map((s) => new Promise((done) => s.close(done))));
  return ports;
}

const DELIMITER = '<IDS|MSG>';

/** A minimal Jupyter client: shell and control (DEALER), iopub (SUB), signed messages. */
class KernelClient {
  constructor(zmq, connection) {
    this.zmq = zmq;
    this.key = connection.key;
    this.session = randomUUID();
    const url = (port) => `${connection.transport}://${connection.ip}:${port}`;
    this.shell = new zmq.Dealer();
    this.control = new zmq.Dealer();
    this.iopub = new zmq.Subscriber();
    this.shell.connect(url(connection.shell_port));
    this.control.connect(url(connection.control_port));
    this.iopub.connect(url(connection.iopub_port));
    this.iopub.subscribe();
    this.byParent = new Map(); // msg_id → { messages: [], idle: boolean, wake: () => void }
    this.closed = false;
    this.reading = this.readIopub();
  }

  sign(parts) {
    const hmac = createHmac('sha256', this.key);
    for (const part of parts) hmac.update(part);
    return hmac.digest('hex');
  }

  message(msgType, content) {
    const header = { msg_id: randomUUID(), session: this.session, username: 'run-notebook', date: new Date().toISOString(), msg_type: msgType, version: '5.3' };
    const parts = [header, {}, {}, content].map((part) => JSON.stringify(part));
    return { id: header.msg_id, frames: [DELIMITER, this.sign(parts), ...parts] };
  }

  decode(frames) {
    const strings = frames.map((f) => f.toString('utf8'));
    const at = strings.indexOf(DELIMITER);
    if (at < 0) throw new Error('a kernel message without the <IDS|MSG> delimiter');
    const [signature, header, parent, metadata, content] = strings.slice(at + 1, at + 6);
    if (this.key && signature !== this.sign([header, parent, metadata, content])) throw new Error('a kernel message with a bad signature');
    return { header: JSON.parse(header), parent: JSON.parse(parent), metadata: JSON.parse(metadata), content: JSON.parse(content) };
  }

  entry(id) {
    let entry = this.byParent.get(id);
    if (!entry) {
      entry = { messages: [], idle: false, wake: () => {} };
      this.byParent.set(id, entry);
    }
    return entry;
  }

  async readIopub() {
    try {
      for await (const frames of this.iopub) {
        const msg = this.decode(frames);
        const entry = this.entry(msg.parent.msg_id);
        entry.messages.push(msg);
        if (msg.header.msg_type === 'status' && msg.content.execution_state === 'idle') entry.idle = true;
        entry.wake();
      }
    } catch (error) {
      if (!this.closed) throw error;
    }
  }

  /**
   * Sends a request on shell (or control) and waits for its reply; with `untilIdle`, also for iopub's idle
   * status and then until no output for it has come for `settleMs`. (Deno 2.9's kernel can publish a cell's
   * last outputs after its idle status; Jupyter front-ends still place them by their parent header.)
   * `outputs` is live: outputs arriving later are appended to it.
   */
  async request(msgType, content, { channel = 'shell', untilIdle = false, timeoutMs = 60_000, settleMs = 250 } = {}) {
    const socket = channel === 'control' ? this.control : this.shell;
    const { id, frames } = this.message(msgType, content);
    const entry = this.entry(id);
    await socket.send(frames);
    const deadline = Date.now() + timeoutMs;
    const timeout = (what) => new Promise((_, fail) => setTimeout(() => fail(new Error(`no ${what} to ${msgType} within ${timeoutMs / 1000} s`)), Math.max(0, deadline - Date.now())).unref());
    let reply;
    for (;;) {
      reply = this.decode(await Promise.race([socket.receive(), timeout('reply')]));
      if (reply.parent.msg_id === id) break; // a late reply to an earlier request: skip it
    }
    if (untilIdle) {
      while (!entry.idle) await Promise.race([new Promise((wake) => (entry.wake = wake)), timeout('idle status')]);
      for (let seen = -1; seen !== entry.messages.length; ) {
        seen = entry.messages.length;
        await new Promise((wake) => setTimeout(wake, settleMs));
      }
    }
    return { reply, outputs: entry.messages };
  }

  /** Waits until iopub is subscribed (ZeroMQ drops messages published before a subscriber joins). */
  async ready(timeoutMs) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const { id, frames } = this.message('kernel_info_request', {});
      const entry = this.entry(id);
      await this.shell.send(frames);
      const started = Date.now();
      while (Date.now() - started < 1000) {
        if (entry.messages.length > 0) {
          // Drain the replies of this and any earlier attempt.
          while (true) {
            const reply = this.decode(await this.shell.receive());
            if (reply.parent.msg_id === id) return reply.content;
          }
        }
        await new Promise((wake) => setTimeout(wake, 50));
      }
      if (Date.now() > deadline) throw new Error(`the kernel did not answer within ${timeoutMs / 1000} s`);
    }
  }

  close() {
    this.closed = true;
    for (const socket of [this.shell, this.control, this.iopub]) socket.close();
  }
}

/** A Jupyter output (nbformat 4) from an iopub message, or null for messages that are not outputs. */
function toOutput(msg) {
  const c = msg.content;
  switch (msg.header.msg_type) {
    case 'stream':
      return { output_type: 'stream', name: c.name, text: c.text };
    case 'display_data':
      return { output_type: 'display_data', data: c.data, metadata: c.metadata ?? {} };
    case 'execute_result':
      return { output_type: 'execute_result', execution_count: c.execution_count, data: c.data, metadata: c.metadata ?? {} };
    case 'error':
      return { output_type: 'error', ename: c.ename, evalue: c.evalue, traceback: c.traceback ?? [] };
    default:
      return null;
  }
}

// Jupyter's tracebacks carry ANSI colours.
const plain = (text) => text.replace(/\x1b\[[0-9;]*m/g, '');

/**
 * Runs every code cell of a notebook in its kernel. Resolves to `{ ok, notebook, failedCell, error, kernel }`:
 * `notebook` has the outputs filled in (cells after a failure are left unrun).
 *
 * @param {string} path the .ipynb file
 * @param {{ timeoutSeconds?: number, log?: (line: string) => void, env?: Record<string, string> }} options
 */
export async function runNotebook(path, options = {}) {
  const log = options.log ?? ((line) => process.stdout.write(`${line}\n`));
  const timeoutMs = (options.timeoutSeconds ?? 300) * 1000;
  const notebook = JSON.parse(readFileSync(path, 'utf8'));
  const kernelName = notebook.metadata?.kernelspec?.name;
  if (typeof kernelName !== 'string') throw new Error(`${path} has no metadata.kernelspec.name`);
  const zmq = await import('zeromq');

  const scratch = mkdtempSync(join(tmpdir(), 'run-notebook-'));
  const [shell, iopub, stdin, control, hb] = await freePorts(5);
  const connection = {
    transport: 'tcp', ip: '127.0.0.1', signature_scheme: 'hmac-sha256', key: randomUUID(), kernel_name: kernelName,
    shell_port: shell, iopub_port: iopub, stdin_port: stdin, control_port: control, hb_port: hb,
  };
  const connectionFile = join(scratch, 'kernel.json');
  writeFileSync(connectionFile, JSON.stringify(connection));
  const [command, ...args] = kernelCommand(kernelName, connectionFile);
  // Its own process group, so a wrapper (deno's bin.cjs) and the kernel under it stop together.
  const kernel = spawn(command, args, { cwd: dirname(resolve(path)), detached: true, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...options.env } });
  let kernelLog = '';
  kernel.stdout.on('data', (d) => (kernelLog += d));
  kernel.stderr.on('data', (d) => (kernelLog += d));
  let exited = null;
  const exit = new Promise((done) => kernel.on('exit', (code, signal) => done((exited = { code, signal }))));
  const spawnError = new Promise((_, fail) =>
    kernel.on('error', (e) => fail(new Error(`cannot start the ${kernelName} kernel (${command}): ${e.message}; install it with npm install --save-dev ${kernelName === 'deno' ? 'deno' : 'tslab'}`))),
  );
  const died = exit.then((e) => {
    throw new Error(`the ${kernelName} kernel exited (${e.signal ?? `code ${e.code}`})\n${kernelLog.slice(-4000)}`);
  });
  died.catch(() => {});
  spawnError.catch(() => {});
  // Interrupted or timed out: take the kernel down too (it runs in its own process group).
  const stop = (signal) => {
    try {
      process.kill(-kernel.pid, 'SIGKILL');
    } catch {
      // already gone
    }
    rmSync(scratch, { recursive: true, force: true });
    process.exit(signal === 'SIGINT' ? 130 : 143);
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);

  const client = new KernelClient(zmq, connection);
  let failedCell = null;
  let error = null;
  let info;
  // Each run cell with its live iopub messages and how many of its outputs are logged.
  const executed = [];
  const logOutputs = (run) => {
    const outputs = run.messages.map(toOutput).filter((o) => o !== null);
    if (run.logged !== null && outputs.length > run.logged) log(`[late output of cell ${run.index}]`);
    for (const output of outputs.slice(run.logged ?? 0)) {
      if (output.output_type === 'stream') log(output.text.replace(/\n$/, ''));
      else if (output.output_type === 'error') log(plain(output.traceback.join('\n') || `${output.ename}: ${output.evalue}`));
      else log(`[${output.output_type}: ${Object.entries(output.data).map(([type, value]) => `${type} (${String(value).length} chars)`).join(', ')}]`);
    }
    run.logged = outputs.length;
    run.cell.outputs = [...outputs, ...run.extra];
  };
  try {
    info = await Promise.race([client.ready(60_000), died, spawnError]);
    log(`kernel: ${info.implementation ?? kernelName} ${info.implementation_version ?? ''} (${info.language_info?.name ?? '?'})`);
    let count = 0;
    for (const [index, cell] of notebook.cells.entries()) {
      if (cell.cell_type !== 'code') continue;
      const source = Array.isArray(cell.source) ? cell.source.join('') : cell.source;
      cell.outputs = [];
      cell.execution_count = null;
      if (source.trim() === '') continue;
      log(`── cell ${index} ──`);
      const started = Date.now();
      const { reply, outputs } = await Promise.race([
        client.request('execute_request', { code: source, silent: false, store_history: true, user_expressions: {}, allow_stdin: false, stop_on_error: true }, { untilIdle: true, timeoutMs }),
        died,
      ]);
      cell.execution_count = reply.content.execution_count ?? ++count;
      const run = { index, cell, messages: outputs, logged: null, extra: [] };
      executed.push(run);
      logOutputs(run);
      log(`(${((Date.now() - started) / 1000).toFixed(1)} s)`);
      if (reply.content.status !== 'ok') {
        failedCell = index;
        const e = reply.content;
        // tslab reports the exception on stderr and replies with an empty evalue: quote stderr then.
        const stderr = cell.outputs.filter((o) => o.output_type === 'stream' && o.name === 'stderr').map((o) => o.text).join('');
        const thrown = plain(stderr).split('\n').find((line) => /^\w*(Error|Exception)\b/.test(line));
        const what = e.evalue ? `${e.ename ?? 'Error'}: ${e.evalue}` : thrown ?? e.ename ?? e.status;
        error = `cell ${index} failed: ${plain(what)}`;
        if (!cell.outputs.some((o) => o.output_type === 'error')) {
          run.extra.push({ output_type: 'error', ename: e.ename ?? 'Error', evalue: e.evalue ?? '', traceback: e.traceback ?? [] });
          cell.outputs.push(...run.extra);
          log(plain((e.traceback ?? []).join('\n')));
        }
        break;
      }
    }
  } catch (e) {
    error = e instanceof Error ? e.message : String(e);
  } finally {
    if (exited === null) {
      // Outputs published after a cell's idle status (see request) still belong in the notebook.
      await new Promise((wake) => setTimeout(wake, 250));
      for (const run of executed) logOutputs(run);
      try {
        await client.request('shutdown_request', { restart: false }, { channel: 'control', timeoutMs: 3000 });
      } catch {
        // stopped below
      }
      await Promise.race([exit, new Promise((wake) => setTimeout(wake, 3000))]);
      if (exited === null) {
        try {
          process.kill(-kernel.pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
    }
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
    client.close();
    rmSync(scratch, { recursive: true, force: true });
  }
  return { ok: error === null, notebook, failedCell, error, kernel: info ?? null };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const argv = process.argv.slice(2);
  const flag = (name) => {
    const at = argv.indexOf(name);
    return at < 0 ? undefined : argv.splice(at, 2)[1];
  };
  const out = flag('--out');
  const timeout = flag('--timeout');
  const [path] = argv;
  if (!path || !existsSync(path)) {
    process.stderr.write('usage: node run-notebook.mjs NOTEBOOK.ipynb [--out EXECUTED.ipynb] [--timeout SECONDS_PER_CELL]\n');
    process.exit(2);
  }
  const result = await runNotebook(path, timeout === undefined ? {} : { timeoutSeconds: Number(timeout) });
  if (out) writeFileSync(out, `${JSON.stringify(result.notebook, null, 1)}\n`);
  if (!result.ok) {
    process.stderr.write(`${path}: ${result.error}\n`);
    process.exit(1);
  }
  process.stdout.write(`${path}: every cell ran\n`);
  process.exit(0);
}
