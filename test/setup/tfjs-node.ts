/**
 * Global setup: the optional native backend, @tensorflow/tfjs-node, built against the TensorFlow C
 * library of the tensorflow-cpu wheel (scripts/setup-tfjs-node.mjs; about a minute and 1.1 GB the first
 * time, nothing afterwards). The backend and trainer tests run on it as well as on wasm, so if it cannot
 * be built the suite fails here rather than skipping them.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

export default function setup(): void {
  const root = join(import.meta.dirname, '..', '..');
  try {
    execFileSync(process.execPath, [join(root, 'scripts', 'setup-tfjs-node.mjs')], { cwd: root, stdio: 'inherit' });
  } catch (error) {
    throw new Error(
      `@tensorflow/tfjs-node could not be set up (${(error as Error).message}). The native-backend tests need it: ` +
        'python3 with pip and PyPI access, a C++ toolchain, and the npm registry.',
    );
  }
}
