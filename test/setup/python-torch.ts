/**
 * Global setup: a Python virtual environment with PyTorch and pyreflect-nr (its CNN class, installed
 * without its dependencies), in .cache/python-torch: the `.pth` tests load reflectkit's exports into
 * pyreflect's own `CNN` with `torch.load(weights_only=True)` and read files `torch.save` wrote. The same
 * environment `npm run bench:train` uses; created once (the PyPI torch wheel brings CUDA libraries, about
 * 3 GB) and reused. If it cannot be created the suite fails here, loudly: those tests never skip.
 */
import { join } from 'node:path';
import { ensureVenv } from './python-venv.js';

const ROOT = join(import.meta.dirname, '..', '..');
const VENV = join(ROOT, '.cache', 'python-torch');
/** torch 2.15 is the release the tests were written against; numpy for pyreflect's stats files. */
const REQUIREMENTS = ['torch==2.15.0', 'numpy>=1.26,<3'];
/** pyreflect-nr pins torch 2.5.1 and numpy 2.1.0; its CNN class needs neither pin, so it goes in without them. */
const NO_DEPS = ['pyreflect-nr==1.4.6'];
const PROBE = 'import torch, numpy, pyreflect; assert int(torch.__version__.split(".")[0]) >= 2, torch.__version__; print(torch.__version__)';

export default function setup(): void {
  process.env.REFLECTKIT_TORCH_PYTHON = ensureVenv({
    venv: VENV,
    requirements: REQUIREMENTS,
    noDeps: NO_DEPS,
    probe: PROBE,
    purpose: "The .pth tests load reflectkit's files into pyreflect's CNN with torch",
    note: ', about 5 GB: the PyPI wheel brings CUDA libraries',
  });
}
