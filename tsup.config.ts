import { defineConfig } from 'tsup';

/**
 * Build: ESM (`.js`) and CJS (`.cjs`) with type declarations.
 * - `index`: the browser-safe numeric core (no Node built-ins).
 * - `nn`: the CNN, the trainer and the tfjs backends (any runtime; loads TensorFlow.js).
 * - `report`: chart specs, SVG rendering (Vega, loaded on first use) and the HTML report (any runtime).
 * - `node`: everything, plus Node-only additions (files, worker threads, native TensorFlow).
 * - `cli`: the `reflectkit` command.
 * - `generate-worker`, `train-worker`: the worker-thread entries of the Node generator and of the
 *   data-parallel training engine; they must sit beside the other files in `dist/` because they are found
 *   relative to the module URL of the code that starts them.
 */
export default defineConfig({
  entry: {
    index: 'src/index.ts',
    nn: 'src/nn.ts',
    node: 'src/node.ts',
    report: 'src/report.ts',
    cli: 'src/cli/main.ts',
    'generate-worker': 'src/data/generate-worker.node.ts',
    'train-worker': 'src/nn/train-worker.node.ts',
  },
  format: ['esm', 'cjs'],
  dts: { entry: { index: 'src/index.ts', nn: 'src/nn.ts', node: 'src/node.ts', report: 'src/report.ts' } },
  outExtension: ({ format }) => ({ js: format === 'cjs' ? '.cjs' : '.js' }),
  target: 'node20',
  platform: 'node',
  splitting: true,
  shims: true,
  sourcemap: true,
  clean: true,
  treeshake: true,
});
