/**
 * Global setup: a Python virtual environment with PyTorch and pyreflect-nr (its CNN class, installed
 * without its dependencies), in .cache/python-torch: the `.pth` tests load reflectkit's exports into
 * pyreflect's own `CNN` with `torch.load(weights_only=True)` and read files `torch.save` wrote. The same
 * environment `npm run bench:train` uses; created once (the PyPI torch wheel brings CUDA libraries, about
 * 3 GB) and reused. If it cannot be created the suite fails here, loudly: those tests never skip.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = join(import.meta.dirname, '..', '..');
const VENV = join(ROOT, '.cache', 'python-torch');
const PYTHON = join(VENV, 'bin', 'python');
/** torch 2.15 is the release the tests were written against; numpy for pyreflect's stats files. */
const REQUIREMENTS = ['torch==2.15.0', 'numpy>=1.26,<3'];
/** pyreflect-nr pins torch 2.5.1 and numpy 2.1.0; its CNN class needs neither pin, so it goes in without them. */
const NO_DEPS = ['pyreflect-nr==1.4.6'];
const PROBE = 'import torch, numpy, pyreflect; assert int(torch.__version__.split(".")[0]) >= 2, torch.__version__; print(torch.__version__)';

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
    process.stderr.write(`test setup: creating ${VENV} with ${REQUIREMENTS.join(', ')} and ${NO_DEPS.join(', ')} (first run only, about 3 GB)…\n`);
    try {
      if (!existsSync(PYTHON)) execFileSync(base, ['-m', 'venv', VENV], { stdio: 'inherit' });
      const pip = [PYTHON, '-m', 'pip', 'install', '--quiet', '--disable-pip-version-check'] as const;
      execFileSync(pip[0], [...pip.slice(1), ...REQUIREMENTS], { stdio: 'inherit' });
      execFileSync(pip[0], [...pip.slice(1), '--no-deps', ...NO_DEPS], { stdio: 'inherit' });
    } catch (error) {
      throw new Error(
        `PyTorch could not be installed in ${VENV} (${(error as Error).message}). The .pth tests load reflectkit's files into ` +
          "pyreflect's CNN with torch and cannot run without it: make python3 with venv and PyPI access available, or set REFLECTKIT_PYTHON.",
      );
    }
    if (!ready()) throw new Error(`torch in ${VENV} does not import after installation`);
  }
  process.env.REFLECTKIT_TORCH_PYTHON = PYTHON;
}
