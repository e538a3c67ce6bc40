import { Command } from 'commander';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { registerHistoryCommands } from '../../src/cli/history.js';
import { EXIT, exitCodeOf, reportError } from '../../src/cli/io.js';
import { FileHistoryStore } from '../../src/store/history-files.node.js';
import { prepareRecord, type HistoryRecord } from '../../src/store/history.js';
import { startFerretDb, type FerretDb } from '../helpers/ferretdb.js';

const root = mkdtempSync(join(tmpdir(), 'reflectkit-cli-history-'));
let folders = 0;

/** Runs `reflectkit <args>` with the history commands (as runCli does: exit codes, errors on stderr). */
async function cli(args: string[]): Promise<{ status: number; stdout: string; stderr: string }> {
  const program = new Command('reflectkit').exitOverride().showHelpAfterError();
  registerHistoryCommands(program);
  let stdout = '';
  let stderr = '';
  const out = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => ((stdout += String(chunk)), true));
  const err = vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => ((stderr += String(chunk)), true));
  let status: number;
  try {
    process.exitCode = undefined;
    await program.parseAsync(['node', 'reflectkit', ...args]);
    status = typeof process.exitCode === 'number' ? process.exitCode : EXIT.ok;
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code === 'commander.helpDisplayed' || code === 'commander.help') status = EXIT.ok;
    else if (typeof code === 'string' && code.startsWith('commander.')) status = EXIT.invalidInput;
    else {
      reportError(error, args.includes('--json'));
      status = exitCodeOf(error);
    }
  } finally {
    out.mockRestore();
    err.mockRestore();
    process.exitCode = undefined;
  }
  return { status, stdout, stderr };
}

const RESULT = { nr: { q: [0.01], r: [1] }, sld: { z: [0], sld: [2] }, training: { loss: [1] }, chi: [], metrics: { mse: 0.1 } };

let dir: string;
let records: HistoryRecord[];

beforeEach(async () => {
  delete process.env.REFLECTKIT_MONGODB_URI;
  delete process.env.REFLECTKIT_USER;
  dir = join(root, `store-${folders++}`);
  const store = new FileHistoryStore({ dir });
  records = [];
  for (let i = 0; i < 3; i++) {
    records.push(await store.add('alice', { name: `run ${i}`, params: { i }, result: { ...RESULT, model_id: `model-${i}` }, createdAt: `2026-0${i + 1}-02T03:04:05.000Z` }));
  }
});

describe('reflectkit history', () => {
  it('prints help with examples', async () => {
    for (const args of [['history', '--help'], ['history', 'list', '--help'], ['history', 'sync', '--help'], ['history', 'rename', '--help']]) {
      const run = await cli(args);
      expect(run.status).toBe(0);
      expect(run.stdout).toContain('Example');
      expect(run.stdout).toContain('reflectkit history ');
    }
    expect((await cli(['history', 'list', '--help'])).stdout).toContain('--user <id>');
  });

  it('lists newest first, as text and as JSON, for --user or REFLECTKIT_USER', async () => {
    const text = await cli(['history', 'list', '--dir', dir, '--user', 'alice']);
    expect(text.status, text.stderr).toBe(0);
    const lines = text.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^ID\s+CREATED \(UTC\)\s+NAME\s+MODEL ID$/);
    expect(lines.slice(1).map((l) => l.split(/\s{2,}/)[0])).toEqual([records[2]!.id, records[1]!.id, records[0]!.id]);
    expect(lines[1]).toContain('2026-03-02 03:04:05');
    expect(lines[1]).toContain('run 2');
    expect(lines[1]).toContain('model-2');

    process.env.REFLECTKIT_USER = 'alice';
    const json = await cli(['history', 'list', '--dir', dir, '--json']);
    const page = JSON.parse(json.stdout) as { user: string; items: HistoryRecord[]; nextCursor?: string };
    expect(page.user).toBe('alice');
    expect(page.items.map((r) => r.id)).toEqual([records[2]!.id, records[1]!.id, records[0]!.id]);
    expect(page.items[0]!.result).toEqual({ metrics: { mse: 0.1 }, model_id: 'model-2' });
    expect(page.nextCursor).toBeUndefined();

    const local = await cli(['history', 'list', '--dir', dir, '--user', 'local']);
    expect(local.stdout.trim()).toBe('no history records for user local');
  });

  it('pages with --limit and --cursor', async () => {
    const first = JSON.parse((await cli(['history', 'list', '--dir', dir, '--user', 'alice', '--limit', '2', '--json'])).stdout) as { items: HistoryRecord[]; nextCursor: string };
    expect(first.items.length).toBe(2);
    const text = await cli(['history', 'list', '--dir', dir, '--user', 'alice', '--limit', '2']);
    expect(text.stdout).toContain(`more: reflectkit history list --cursor ${first.nextCursor}`);
    const second = JSON.parse((await cli(['history', 'list', '--dir', dir, '--user', 'alice', '--limit', '2', '--cursor', first.nextCursor, '--json'])).stdout) as { items: HistoryRecord[]; nextCursor?: string };
    expect(second.items.map((r) => r.id)).toEqual([records[0]!.id]);
    expect(second.nextCursor).toBeUndefined();
    expect((await cli(['history', 'list', '--dir', dir, '--limit', '0'])).status).toBe(EXIT.invalidInput);
    const badCursor = await cli(['history', 'list', '--dir', dir, '--cursor', 'nope', '--json']);
    expect(badCursor.status).toBe(EXIT.invalidInput);
    expect(JSON.parse(badCursor.stderr)).toMatchObject({ error: { code: 'INVALID_OPTION', path: 'cursor' } });
  });

  it('shows one record in full; another user, a bad or unknown id is invalid input', async () => {
    const show = await cli(['history', 'show', records[1]!.id, '--dir', dir, '--user', 'alice']);
    expect(show.status).toBe(0);
    expect(JSON.parse(show.stdout)).toEqual(records[1]);
    expect(show.stdout.split('\n').length).toBeGreaterThan(10);
    const json = await cli(['history', 'show', records[1]!.id, '--dir', dir, '--user', 'alice', '--json']);
    expect(json.stdout.trim().split('\n').length).toBe(1);
    const other = await cli(['history', 'show', records[1]!.id, '--dir', dir, '--user', 'bob']);
    expect(other.status).toBe(EXIT.invalidInput);
    expect(other.stderr).toContain('NOT_FOUND');
    const bad = await cli(['history', 'show', '../../etc', '--dir', dir, '--user', 'alice', '--json']);
    expect(bad.status).toBe(EXIT.invalidInput);
    expect(JSON.parse(bad.stderr)).toMatchObject({ error: { code: 'INVALID_ID', path: 'id' } });
    const badUser = await cli(['history', 'list', '--dir', dir, '--user', 'a/b']);
    expect(badUser.status).toBe(EXIT.invalidInput);
    expect(badUser.stderr).toContain('INVALID_ID at userId');
  });

  it('renames and removes', async () => {
    const id = records[0]!.id;
    const renamed = await cli(['history', 'rename', id, '  Ni on Si  ', '--dir', dir, '--user', 'alice']);
    expect(renamed.stdout.trim()).toBe(`renamed ${id} to "Ni on Si"`);
    const cleared = await cli(['history', 'rename', id, '--dir', dir, '--user', 'alice', '--json']);
    expect(JSON.parse(cleared.stdout)).toMatchObject({ id, name: null });
    const long = await cli(['history', 'rename', id, 'x'.repeat(81), '--dir', dir, '--user', 'alice']);
    expect(long.status).toBe(EXIT.invalidInput);
    expect(long.stderr).toContain('at most 80 characters');

    expect((await cli(['history', 'rm', id, '--dir', dir, '--user', 'bob'])).status).toBe(EXIT.invalidInput);
    const removed = await cli(['history', 'rm', id.toUpperCase(), '--dir', dir, '--user', 'alice']);
    expect(removed.stdout.trim()).toBe(`removed ${id}`);
    expect((await cli(['history', 'rm', id, '--dir', dir, '--user', 'alice'])).status).toBe(EXIT.invalidInput);
    const listed = JSON.parse((await cli(['history', 'list', '--dir', dir, '--user', 'alice', '--json'])).stdout) as { items: HistoryRecord[] };
    expect(listed.items.length).toBe(2);
  });

  it('uses REFLECTKIT_HISTORY_DIR when --dir is not given', async () => {
    const saved = process.env.REFLECTKIT_HISTORY_DIR;
    process.env.REFLECTKIT_HISTORY_DIR = dir;
    try {
      const run = await cli(['history', 'list', '--user', 'alice', '--json']);
      expect((JSON.parse(run.stdout) as { items: unknown[] }).items.length).toBe(3);
    } finally {
      if (saved === undefined) delete process.env.REFLECTKIT_HISTORY_DIR;
      else process.env.REFLECTKIT_HISTORY_DIR = saved;
    }
  });

  it('sync needs a MongoDB', async () => {
    const run = await cli(['history', 'sync', '--dir', dir]);
    expect(run.status).toBe(EXIT.invalidInput);
    expect(run.stderr).toContain('--mongodb');
  });
});

describe('reflectkit history with MongoDB (FerretDB)', () => {
  let server: FerretDb;
  beforeAll(async () => {
    server = await startFerretDb();
  });
  afterAll(async () => {
    await server?.destroy();
  });

  it('pushes pending and, with --all, every embedded record; then lists from MongoDB', async () => {
    const store = new FileHistoryStore({ dir });
    const pending = prepareRecord('alice', { name: 'waited', params: {}, result: { model_id: 'pending-1' } });
    await store.insertRecord(pending, { pending: true });
    const sync = await cli(['history', 'sync', '--dir', dir, '--mongodb', server.uri, '--json']);
    expect(sync.status, sync.stderr).toBe(0);
    expect(JSON.parse(sync.stdout)).toEqual({ pushed: 1, alreadyThere: 0, conflicts: [], remaining: 0 });
    const all = await cli(['history', 'sync', '--all', '--user', 'alice', '--dir', dir, '--mongodb', server.uri]);
    expect(all.stdout.trim()).toBe('pushed 3, already in MongoDB 0, conflicts 0, still pending 0');
    process.env.REFLECTKIT_MONGODB_URI = server.uri;
    const listed = JSON.parse((await cli(['history', 'list', '--dir', dir, '--user', 'alice', '--json'])).stdout) as { items: HistoryRecord[] };
    expect(listed.items.map((r) => r.name)).toEqual(['waited', 'run 2', 'run 1', 'run 0']);
    expect(await store.allRecords()).toEqual([]);
  });

  it('lists the embedded records with a warning when MongoDB cannot be reached', async () => {
    await server.stop();
    try {
      const run = await cli(['history', 'list', '--dir', dir, '--user', 'alice', '--mongodb', server.uri]);
      expect(run.status).toBe(0);
      expect(run.stderr).toMatch(/^reflectkit: warning: cannot reach MongoDB at mongodb:\/\/127\.0\.0\.1:\d+\/ /);
      expect(run.stderr.trim().split('\n').length).toBe(1);
      expect(run.stdout).toContain('MongoDB cannot be reached: showing only the records of the embedded store');
      expect(run.stdout).toContain(records[0]!.id);
    } finally {
      await server.restart();
    }
  });
});
