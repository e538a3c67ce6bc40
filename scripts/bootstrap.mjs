#!/usr/bin/env node
// Makes a fresh clone runnable: installs the locked dependencies when node_modules is missing or
// older than package-lock.json, then builds dist/ when any source file is newer than the build.
// Uses only Node built-ins, so it runs before anything is installed.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const mtime = (path) => (existsSync(path) ? statSync(path).mtimeMs : 0);

function newestIn(folder) {
  let newest = 0;
  for (const entry of readdirSync(folder, { withFileTypes: true })) {
    const path = join(folder, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestIn(path) : statSync(path).mtimeMs);
  }
  return newest;
}

const installed = join(root, 'node_modules', '.package-lock.json');
if (mtime(installed) < mtime(join(root, 'package-lock.json'))) {
  console.error('bootstrap: installing dependencies (npm ci)…');
  execFileSync(npm, ['ci', '--no-audit', '--no-fund'], { cwd: root, stdio: 'inherit' });
}

const built = mtime(join(root, 'dist', 'cli.js'));
const sources = Math.max(newestIn(join(root, 'src')), mtime(join(root, 'tsup.config.ts')), mtime(join(root, 'package.json')));
if (built < sources) {
  console.error('bootstrap: building dist/ (tsup)…');
  execFileSync(npm, ['run', '--silent', 'build'], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] });
}
