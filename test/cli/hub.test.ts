import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useBackend } from '../../src/nn/backend.js';
import { createCnn } from '../../src/nn/cnn.js';
import { saveBundle } from '../../src/nn/model-folder.node.js';
import { NrSldScaler } from '../../src/preprocess/scaler.js';
import { startHubServer, type HubServer } from '../helpers/hub-server.js';

const ROOT = join(import.meta.dirname, '..', '..');
const RUNNER = join(ROOT, 'test', 'helpers', 'run-cli.ts');
const TOKEN = 'hf_cliTOKENsecret1234567';
const run = promisify(execFile);

let server: HubServer;
let dir: string;

/** The CLI in a child process (asynchronously: the Hub server answers from this process). */
async function cli(args: string[], env: Record<string, string> = {}) {
  try {
    const { stdout, stderr } = await run(process.execPath, ['--import', 'tsx', RUNNER, ...args], { cwd: ROOT, env: { ...process.env, HF_TOKEN: TOKEN, HF_ENDPOINT: server.url, ...env } });
    return { status: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string };
    return { status: e.code ?? -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

beforeAll(async () => {
  server = await startHubServer({ tokens: { [TOKEN]: { user: 'alice' } } });
  dir = mkdtempSync(join(tmpdir(), 'reflectkit-cli-hub-'));
  await useBackend('wasm');
  const cnn = createCnn({ layers: 2, kernelSize: 3, inputPoints: 32, outputPoints: 16, seed: 3 });
  const scaler = NrSldScaler.fromPyreflect({ nr: { x: { min: 0.01, max: 0.2 }, y: { min: -8, max: 0 } }, sld: { x: { min: 0, max: 300 }, y: { min: 0, max: 6 } } });
  await saveBundle(join(dir, 'model'), cnn, scaler, { modelId: 'cli-model-1' });
  cnn.model.dispose();
});

afterAll(async () => {
  await server?.close();
});

describe('reflectkit hub push | list | pull', () => {
  it('pushes a bundle into a private repository, lists it and pulls it back byte-identical, never printing the token', async () => {
    const pushed = await cli(['hub', 'push', join(dir, 'model'), '--repo', 'alice/nr-models', '--json']);
    expect(pushed.status, pushed.stderr).toBe(0);
    const report = JSON.parse(pushed.stdout) as { modelId: string; verified: boolean; files: Array<{ name: string; pathInRepo: string }> };
    expect(report.modelId).toBe('cli-model-1');
    expect(report.verified).toBe(true);
    expect(report.files.map((f) => f.name).sort()).toEqual(['cli-model-1.pth', 'config.json', 'normalization_stat.npy', 'scaler.json']);
    expect(report.files.every((f) => f.pathInRepo.startsWith('models/cli-model-1/'))).toBe(true);
    expect(server.repos.get('datasets/alice/nr-models')?.private).toBe(true);

    const listed = await cli(['hub', 'list', '--repo', 'alice/nr-models']);
    expect(listed.status, listed.stderr).toBe(0);
    expect(listed.stdout).toMatch(/^cli-model-1 {2}4 files/m);

    const out = join(dir, 'pulled');
    const pulled = await cli(['hub', 'pull', 'cli-model-1', '--repo', 'alice/nr-models', '--out', out]);
    expect(pulled.status, pulled.stderr).toBe(0);
    expect(pulled.stdout).toContain('downloaded 4 files');
    for (const name of readdirSync(join(dir, 'model'))) expect(readFileSync(join(out, name)).equals(readFileSync(join(dir, 'model', name))), name).toBe(true);
    for (const output of [pushed, listed, pulled]) expect(output.stdout + output.stderr).not.toContain(TOKEN);
  });

  it('fails with exit code 2 and a clear error for a bad repository id or a missing model', async () => {
    const bad = await cli(['hub', 'list', '--repo', '../etc/passwd']);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain('INVALID_ID');
    const missing = await cli(['hub', 'pull', 'no-such-model', '--repo', 'alice/nr-models', '--out', join(dir, 'missing')]);
    expect(missing.status).toBe(2);
    expect(missing.stderr).toContain('NOT_FOUND');
  });

  it('prints help with examples', async () => {
    for (const command of ['push', 'pull', 'list']) {
      const help = await cli(['hub', command, '--help']);
      expect(help.status).toBe(0);
      expect(help.stdout).toContain(`reflectkit hub ${command}`);
    }
  });
});
