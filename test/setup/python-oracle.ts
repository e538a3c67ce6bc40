/**
 * Global setup: a Python virtual environment with refl1d (the physics oracle), numpy (to check that
 * numpy loads our .npy files) and pyreflect-nr without its dependencies (to compare with its helpers). Created once under .cache/python and reused; installed from PyPI with
 * pinned versions. If it cannot be created the suite fails here, loudly: the oracle tests never skip.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = join(import.meta.dirname, '..', '..');
const VENV = join(ROOT, '.cache', 'python');
const PYTHON = join(VENV, 'bin', 'python');
/** What the oracle needs; refl1d 1.0.1 is the release pyreflect resolves to. */
const REQUIREMENTS = ['refl1d==1.0.1', 'numpy>=1.26,<3'];
/**
 * pyreflect itself, without its dependencies (torch and friends are not needed): the tests call its
 * `compute_nr_from_sld` to show ours is closer to the truth on the same inputs.
 */
const NO_DEPS = ['pyreflect-nr==1.4.6'];
const PROBE =
  'import refl1d, numpy, importlib.metadata as m; assert refl1d.__version__ == "1.0.1", refl1d.__version__; ' +
  'assert m.version("pyreflect-nr") == "1.4.6"; print(refl1d.__version__, numpy.__version__)';

function ready(): boolean {
  if (!existsSync(PYTHON)) return false;
  try {
    execFileSync(PYTHON, ['-c', PROBE], { stdio: 'pipe' });
    return true;
  } catch {
    return false;
  }
}

export default function setup(): void {
  if (!ready()) {
    mkdirSync(join(ROOT, '.cache'), { recursive: true });
    const base = process.env.REFLECTKIT_PYTHON ?? 'python3';
    process.stderr.write(`test setup: creating ${VENV} with ${REQUIREMENTS.join(', ')} (first run only)…\n`);
    try {
      if (!existsSync(PYTHON)) execFileSync(base, ['-m', 'venv', VENV], { stdio: 'inherit' });
      execFileSync(PYTHON, ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', ...REQUIREMENTS], {
        stdio: 'inherit',
      });
      execFileSync(PYTHON, ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', '--no-deps', ...NO_DEPS], {
        stdio: 'inherit',
      });
    } catch (error) {
      throw new Error(
        `The refl1d oracle could not be installed (${(error as Error).message}). The physics tests compare against refl1d ` +
          'and cannot run without it: make python3 with venv and PyPI access available, or set REFLECTKIT_PYTHON.',
      );
    }
    if (!ready()) throw new Error(`refl1d oracle in ${VENV} does not import after installation`);
  }
  process.env.REFLECTKIT_TEST_PYTHON = PYTHON;
}
