/**
 * Global setup: a Python virtual environment with refl1d (the physics oracle), numpy (to check that
 * numpy loads our .npy files) and pyreflect-nr without its dependencies (to compare with its helpers). Created once under .cache/python and reused; installed from PyPI with
 * pinned versions. If it cannot be created the suite fails here, loudly: the oracle tests never skip.
 */
import { join } from 'node:path';
import { ensureVenv } from './python-venv.js';

const ROOT = join(import.meta.dirname, '..', '..');
const VENV = join(ROOT, '.cache', 'python');
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

export default function setup(): void {
  process.env.REFLECTKIT_TEST_PYTHON = ensureVenv({
    venv: VENV,
    requirements: REQUIREMENTS,
    noDeps: NO_DEPS,
    probe: PROBE,
    purpose: 'The physics tests compare against refl1d (and computeNrFromSld against pyreflect)',
  });
}
