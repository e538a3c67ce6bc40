#!/usr/bin/env node
// Installs the optional native backend, @tensorflow/tfjs-node, on a machine where its own install script
// cannot run (it downloads libtensorflow 2.9.1 and a prebuilt binding from storage.googleapis.com).
// Instead: the package is installed without scripts into .cache/tfjs-node (reflectkit declares it as an
// optional peer, so npm will not add it to this project's tree), its copies of tfjs-core, tfjs-layers and
// tfjs-backend-cpu are replaced by links to this project's (one engine, one kernel registry), and
// node_modules/@tensorflow/tfjs-node links to it. The TensorFlow C library and headers are taken from the
// tensorflow-cpu wheel on PyPI, and the binding is compiled with node-gyp against them.
//
//   node scripts/setup-tfjs-node.mjs          (idempotent; about 300 MB download, 30 s build, 1.1 GB disk)
//
// Needs python3 with pip (to download the wheel), a C++ toolchain and make, and the npm registry.
// Uses only Node built-ins. Exits 0 when `require('@tensorflow/tfjs-node')` works afterwards.
import { execFileSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const TFJS_NODE_VERSION = '4.22.0';
const TF_WHEEL = 'tensorflow-cpu==2.21.0';
const PREFIX = join(ROOT, '.cache', 'tfjs-node');
const PACKAGE = join(PREFIX, 'node_modules', '@tensorflow', 'tfjs-node');
const LINK = join(ROOT, 'node_modules', '@tensorflow', 'tfjs-node');
const SHARED = ['tfjs-core', 'tfjs-layers', 'tfjs-backend-cpu'];
const WHEELS = join(ROOT, '.cache', 'wheels');
const log = (message) => process.stderr.write(`setup-tfjs-node: ${message}\n`);
const run = (command, args, options = {}) => execFileSync(command, args, { stdio: ['ignore', 'inherit', 'inherit'], ...options });

function loads() {
  try {
    execFileSync(process.execPath, ['-e', "require('@tensorflow/tfjs-node')"], {
      cwd: ROOT,
      stdio: 'ignore',
      env: { ...process.env, TF_CPP_MIN_LOG_LEVEL: '3' },
    });
    return true;
  } catch {
    return false;
  }
}

function link(target, path) {
  try {
    lstatSync(path);
    rmSync(path, { recursive: true, force: true });
  } catch {
    // nothing there yet
  }
  symlinkSync(target, path);
}

/** Points the project's node_modules at the cached package, and the package at the project's tfjs. */
function wire() {
  for (const name of SHARED) link(join(ROOT, 'node_modules', '@tensorflow', name), join(PREFIX, 'node_modules', '@tensorflow', name));
  link(PACKAGE, LINK);
}

if (existsSync(join(PACKAGE, 'package.json'))) {
  wire();
  if (loads()) {
    log('@tensorflow/tfjs-node already works');
    process.exit(0);
  }
} else {
  log(`installing @tensorflow/tfjs-node@${TFJS_NODE_VERSION} into .cache/tfjs-node without its install script`);
  mkdirSync(PREFIX, { recursive: true });
  writeFileSync(join(PREFIX, 'package.json'), '{"name": "reflectkit-tfjs-node", "private": true}\n');
  run('npm', ['install', '--ignore-scripts', '--no-audit', '--no-fund', '--no-package-lock', `@tensorflow/tfjs-node@${TFJS_NODE_VERSION}`], { cwd: PREFIX });
  wire();
}

// The C library and headers from the tensorflow-cpu wheel.
mkdirSync(WHEELS, { recursive: true });
const python = process.env.REFLECTKIT_PYTHON ?? 'python3';
const wheelName = () => {
  const listing = execFileSync(python, ['-c', `import glob; print("\\n".join(glob.glob(${JSON.stringify(join(WHEELS, 'tensorflow_cpu-2.21.0-*.whl'))})))`]).toString().trim();
  return listing.split('\n').filter(Boolean)[0];
};
if (!wheelName()) {
  log(`downloading ${TF_WHEEL} from PyPI (about 275 MB)`);
  run(python, ['-m', 'pip', 'download', '--quiet', '--disable-pip-version-check', '--no-deps', '--dest', WHEELS, TF_WHEEL]);
}
const wheel = wheelName();
if (!wheel) throw new Error('the tensorflow-cpu wheel did not download');

const deps = join(PACKAGE, 'deps');
rmSync(deps, { recursive: true, force: true });
mkdirSync(join(deps, 'lib'), { recursive: true });
log('extracting libtensorflow_cc, libtensorflow_framework and the C API headers');
const extract = `
import sys, zipfile, os, shutil
wheel, deps = sys.argv[1], sys.argv[2]
libraries = {'tensorflow/libtensorflow_cc.so.2', 'tensorflow/libtensorflow_framework.so.2'}
headers = ('tensorflow/include/tensorflow/c/', 'tensorflow/include/tensorflow/core/platform/', 'tensorflow/include/tsl/', 'tensorflow/include/xla/tsl/')
with zipfile.ZipFile(wheel) as z:
    for name in z.namelist():
        if name in libraries:
            target = os.path.join(deps, 'lib', os.path.basename(name))
        elif name.startswith(headers) and not name.endswith('/'):
            target = os.path.join(deps, 'include', name[len('tensorflow/include/'):])
        else:
            continue
        os.makedirs(os.path.dirname(target), exist_ok=True)
        with z.open(name) as source, open(target, 'wb') as out:
            shutil.copyfileobj(source, out)
`;
run(python, ['-c', extract, wheel, deps]);
// tfjs-node's build links -ltensorflow -ltensorflow_framework: the wheel's libtensorflow_cc exports the C API.
symlinkSync('libtensorflow_cc.so.2', join(deps, 'lib', 'libtensorflow.so'));
symlinkSync('libtensorflow_framework.so.2', join(deps, 'lib', 'libtensorflow_framework.so'));

wire();
// The binding goes where node-pre-gyp looks: lib/napi-v{highest supported N-API version}.
const binary = JSON.parse(readFileSync(join(PACKAGE, 'package.json'), 'utf8')).binary;
const napi = Math.max(...binary.napi_versions.filter((v) => v <= Number(process.versions.napi)));
const modulePath = join(PACKAGE, 'lib', `napi-v${napi}`);
const bundledGyp = join(dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js');
const gyp = existsSync(bundledGyp) ? [process.execPath, [bundledGyp]] : ['npx', ['--yes', 'node-gyp@12']];
log(`building tfjs_binding.node (N-API ${napi}) with node-gyp`);
run(
  gyp[0],
  [
    ...gyp[1],
    'rebuild',
    `--nodedir=${join(dirname(process.execPath), '..')}`,
    `--napi_build_version=${napi}`,
    '--module_name=tfjs_binding',
    `--module_path=${modulePath}`,
    '-j',
    '2',
  ],
  { cwd: PACKAGE },
);

if (!loads()) throw new Error('@tensorflow/tfjs-node still does not load after the build');
log('@tensorflow/tfjs-node works (backend "tensorflow")');
