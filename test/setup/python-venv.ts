/**
 * Creates (once) and checks a Python virtual environment under .cache/ for the test suite's oracles, from
 * PyPI with pinned versions. Used by the global setups; fails loudly when it cannot, never skips.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';

export interface VenvSpec {
  /** Folder of the environment. */
  venv: string;
  /** Packages installed with their dependencies. */
  requirements: string[];
  /** Packages installed with `--no-deps`. */
  noDeps: string[];
  /** Python code that exits 0 when the environment is usable. */
  probe: string;
  /** What the tests need it for, for the error message. */
  purpose: string;
  /** Appended to the "creating …" line (e.g. a size warning). */
  note?: string;
}

/** Ensures the environment exists and passes its probe; returns its python. */
export function ensureVenv(spec: VenvSpec): string {
  const python = join(spec.venv, 'bin', 'python');
  const ready = (): boolean => {
    if (!existsSync(python)) return false;
    try {
      execFileSync(python, ['-c', spec.probe], { stdio: 'pipe' });
      return true;
    } catch {
      return false;
    }
  };
  if (ready()) return python;
  mkdirSync(dirname(spec.venv), { recursive: true });
  const base = process.env.REFLECTKIT_PYTHON ?? 'python3';
  process.stderr.write(`test setup: creating ${spec.venv} with ${[...spec.requirements, ...spec.noDeps].join(', ')} (first run only${spec.note ?? ''})…\n`);
  const pip = ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check'];
  try {
    if (!existsSync(python)) execFileSync(base, ['-m', 'venv', spec.venv], { stdio: 'inherit' });
    if (spec.requirements.length > 0) execFileSync(python, [...pip, ...spec.requirements], { stdio: 'inherit' });
    if (spec.noDeps.length > 0) execFileSync(python, [...pip, '--no-deps', ...spec.noDeps], { stdio: 'inherit' });
  } catch (error) {
    throw new Error(
      `${spec.venv} could not be created (${(error as Error).message}). ${spec.purpose} and cannot run without it: ` +
        'make python3 with venv and PyPI access available, or set REFLECTKIT_PYTHON.',
    );
  }
  if (!ready()) throw new Error(`${spec.venv} does not pass its check after installation: ${spec.probe}`);
  return python;
}
