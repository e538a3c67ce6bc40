import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { readJsonFile } from '../../src/cli/io.js';
import { parseGeneratorConfig } from '../../src/data/generator-config.js';
import { resolveGeneratorModel } from '../../src/data/generator-options.js';
import type { ReflectkitErrorCode } from '../../src/errors.js';
import { useBackend } from '../../src/nn/backend.js';
import type { TrainingSnapshot } from '../../src/nn/checkpoint.js';
import { FolderCheckpointStore, loadCheckpoint } from '../../src/nn/checkpoint-store.node.js';
import { createCnn, resolveCnnConfig } from '../../src/nn/cnn.js';
import { loadBundle, saveBundle } from '../../src/nn/model-folder.node.js';
import { parseTrainConfig } from '../../src/nn/train-config.js';
import { parsePipelineConfig } from '../../src/pipeline/config.js';
import { NrSldScaler } from '../../src/preprocess/scaler.js';
import { SeededRandom } from '../../src/sample/random.js';
import { corrupt, corruptionArb, outcome, outcomeAsync, runCounted, runCountedAsync, scratch } from './fuzz-helpers.js';
import { INTERFACE_BODY } from '../helpers/interface-body.js';

/**
 * Fuzzing the JSON configuration readers: the pipeline, generator and training configs, the scaler JSON,
 * the CLI's JSON file reader, and the bundle's config.json and checkpoint meta.json readers. Every input
 * gives a valid configuration (checked) or a ReflectkitError naming the offending field, never another
 * exception or a polluted prototype.
 */

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type Path = Array<string | number>;

const ROADMAP_BODY = {
  qMin: 0.01, qMax: 0.25, numQPoints: 200, learningRate: 2e-4, clipMin: 1e-9, kernelSize: 31, seed: 42, backend: 'cpu',
  preprocessing: { applyLogTransform: true },
  storage: { hub: { repo: 'owner/name', repoType: 'model' }, history: { userId: 'alice@lab', mongodbUri: 'mongodb://localhost:27017', database: 'PyReflect' } },
};
const GENERATOR_CONFIGS: Json[] = [
  { numCurves: 100, numLayers: 2, seed: 3, q: { min: 0.01, max: 0.2, points: 50 }, qResolution: 0.03, sampling: 'lhs' },
  { num_curves: 5, num_layers: 1, layer_desc: INTERFACE_BODY.layers, layer_bound: [{ i: 2, par: 'sld', bounds: [1, 5] }, { i: 2, par: 'thickness', bounds: [50, 250] }] },
  { layers: INTERFACE_BODY.layers, generator: { numCurves: 7, numFilmLayers: 1, layerBound: INTERFACE_BODY.generator.layerBound }, q: [0.01, 0.02, 0.05] },
];
const TRAIN_CONFIGS: Json[] = [
  { model: { layers: 2, dropout: 0.1, kernelSize: 3, head: 'bottleneck', bottleneckChannels: 4 }, training: { epochs: 2, batchSize: 16, learningRate: 1e-3, earlyStopping: { patience: 2, minDelta: 0.001 } }, split: { seed: 1, trainFraction: 0.8 }, clipMin: 1e-8 },
  { training: { batchSize: 32, epochs: 10, layers: 12, dropout: 0 } },
];
const SCALER_JSON = {
  format: 'reflectkit-scaler', version: 1, logNr: true, clipMin: 1e-8,
  nr: { x: { min: 0.0081, max: 0.1975 }, y: { min: -8, max: 0.1 } },
  sld: { x: { min: 0, max: 450 }, y: { min: -0.5, max: 6.4 } },
};

/** Values a field may be replaced with: JSON of every shape, and the JS-only and boundary numbers. */
const valueArb: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 4, arbitrary: fc.jsonValue({ maxDepth: 2 }) },
  fc.constantFrom(NaN, Infinity, -Infinity, -0, 1e308, -1e308, 2 ** 53, 2 ** 64, 0.5, -1, 0, 1, 1e-320, '', 'x'.repeat(10_000), '../../etc/passwd', '\u0000', 'mongodb://', 'owner/..', [], {}, true, null),
  fc.constantFrom('__proto__', 'constructor', 'toString').map((key) => JSON.parse(`{"${key}": {"polluted": 1}}`) as unknown),
  fc.double(),
  fc.integer(),
);

/** Every path inside a JSON value (objects' keys, arrays' indices), the root included. */
function pathsOf(value: unknown, prefix: Path = []): Path[] {
  const out: Path[] = [prefix];
  if (Array.isArray(value)) value.forEach((v, i) => out.push(...pathsOf(v, [...prefix, i])));
  else if (value !== null && typeof value === 'object') for (const [k, v] of Object.entries(value)) out.push(...pathsOf(v, [...prefix, k]));
  return out;
}

type Mutation = { path: Path; action: 'set'; value: unknown } | { path: Path; action: 'delete' } | { path: Path; action: 'add'; key: string; value: unknown };

/** One change at one place of a valid config. */
function mutationArb(base: unknown): fc.Arbitrary<Mutation> {
  const paths = pathsOf(base);
  const containers = paths.filter((p) => {
    const v = get(base, p);
    return v !== null && typeof v === 'object' && !Array.isArray(v);
  });
  const inner = paths.filter((p) => p.length > 0);
  return fc.oneof(
    { weight: 6, arbitrary: fc.record({ path: fc.constantFrom(...paths), action: fc.constant('set' as const), value: valueArb }) },
    fc.record({ path: fc.constantFrom(...(inner.length > 0 ? inner : [[]])), action: fc.constant('delete' as const) }),
    fc.record({ path: fc.constantFrom(...containers), action: fc.constant('add' as const), key: fc.constantFrom('__proto__', 'constructor', 'toString', 'hasOwnProperty', 'extra', 'numCurve', 'layers', 'qMin'), value: valueArb }),
  );
}

function get(value: unknown, path: Path): unknown {
  return path.reduce<unknown>((v, k) => (v as Record<string | number, unknown>)?.[k], value);
}

/** A deep copy of `base` with the mutation applied (own properties only, `__proto__` included, as JSON.parse makes them). */
function mutate(base: unknown, m: Mutation): unknown {
  const copy = JSON.parse(JSON.stringify(base)) as unknown;
  const define = (target: object, key: string | number, value: unknown) => Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  if (m.path.length === 0) {
    if (m.action === 'set') return m.value;
    if (m.action === 'add') return define(copy as object, m.key, m.value);
    return copy;
  }
  const parent = get(copy, m.path.slice(0, -1)) as Record<string | number, unknown>;
  const key = m.path[m.path.length - 1]!;
  if (m.action === 'set') define(parent, key, m.value);
  else if (m.action === 'delete') {
    if (Array.isArray(parent)) parent.splice(key as number, 1);
    else delete parent[key];
  } else define(get(copy, m.path) as object, m.key, m.value);
  return copy;
}

/** Numbers of a parsed config are finite, and nothing in it is a function. */
function expectPlain(value: unknown): void {
  if (typeof value === 'number') expect(Number.isFinite(value)).toBe(true);
  expect(typeof value).not.toBe('function');
  if (value !== null && typeof value === 'object') Object.values(value).forEach(expectPlain);
}

function expectNoPollution(): void {
  expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  expect(Object.prototype.hasOwnProperty.call(Object.prototype, 'polluted')).toBe(false);
}

/** Top-level roadmap keys and the section the pipeline moves them to. */
const SECTION: Record<string, string> = {
  qMin: 'generator', qMax: 'generator', numQPoints: 'generator', qResolution: 'generator', scale: 'generator', background: 'generator', sldOutputPoints: 'generator',
  learningRate: 'training', weightDecay: 'training', validationSplit: 'training', optimizer: 'training', kernelSize: 'training',
  applyLogTransform: 'preprocessing', normalizationMethod: 'preprocessing', clipMin: 'preprocessing',
};
/** Fields checked against each other: a change to one may be reported at the other. */
const LINKED = [['generator.qMin', 'generator.qMax'], ['layers', 'generator.layerBound', 'generator.numFilmLayers'], ['training.head', 'training.bottleneckChannels']];

/** Whether an error at `reported` is about the field that was changed at `changed` (the same, inside, around it, or linked). */
function related(changed: Path, reported: string, mutation: Mutation): boolean {
  const parts = mutation.action === 'add' ? [...changed, mutation.key] : changed;
  const dotted = parts.map((p) => (typeof p === 'number' ? `[${p}]` : p)).join('.').replace(/\.\[/g, '[');
  const section = typeof parts[0] === 'string' && parts.length === 1 ? SECTION[parts[0]] : undefined;
  const candidates = [dotted, ...(section ? [`${section}.${dotted}`, section] : [])];
  const near = (a: string, b: string) => a === '' || b === '' || a === b || a.startsWith(`${b}.`) || a.startsWith(`${b}[`) || b.startsWith(`${a}.`) || b.startsWith(`${a}[`);
  if (candidates.some((c) => near(c, reported))) return true;
  return LINKED.some((group) => group.some((g) => candidates.some((c) => near(c, g))) && group.some((g) => near(reported, g)));
}

describe('fuzzing the pipeline config (parsePipelineConfig)', () => {
  it('one field of a valid config changed (any JSON, NaN, ±Inf, huge, __proto__ keys): a valid config again, or INVALID_CONFIG at that field', () => {
    for (const base of [INTERFACE_BODY, ROADMAP_BODY, {}]) expect(outcome(() => parsePipelineConfig(base), ['INVALID_CONFIG']).ok).toBe(true);
    const bases = [INTERFACE_BODY, ROADMAP_BODY, {}];
    const arb = fc.nat(bases.length - 1).chain((k) => fc.tuple(fc.constant(k), mutationArb(bases[k])));
    let valid = 0;
    runCounted('pipeline config mutations', arb, 5000, ([k, m]) => {
      const input = mutate(bases[k], m);
      const result = outcome(() => parsePipelineConfig(input), ['INVALID_CONFIG']);
      expectNoPollution();
      if (result.ok) {
        valid++;
        expectPlain(result.value);
        // What a run stores is itself a valid config that resolves to the same thing.
        expect(JSON.stringify(parsePipelineConfig(JSON.parse(JSON.stringify(result.value))))).toBe(JSON.stringify(result.value));
        expect(Number.isInteger(result.value.generator.numCurves) && result.value.generator.numCurves >= 10).toBe(true);
      } else {
        expect(result.error.expected, result.error.message).toBeTruthy();
        expect(related(m.path, result.error.path, m), `${JSON.stringify(m)} reported at ${JSON.stringify(result.error.path)}: ${result.error.message}`).toBe(true);
      }
    });
    expect(valid).toBeGreaterThan(500);
  });
});

describe('fuzzing the generator config (parseGeneratorConfig → the generator\'s model)', () => {
  it('one field changed: a resolvable model, or INVALID_* naming a field', () => {
    const codes: ReflectkitErrorCode[] = ['INVALID_CONFIG', 'INVALID_OPTION', 'INVALID_LAYERS', 'INVALID_BOUNDS', 'INVALID_Q'];
    for (const base of GENERATOR_CONFIGS) resolveGeneratorModel(parseGeneratorConfig(base).options, 1, SeededRandom.fromSeed(1));
    const arb = fc.nat(GENERATOR_CONFIGS.length - 1).chain((k) => fc.tuple(fc.constant(k), mutationArb(GENERATOR_CONFIGS[k])));
    let valid = 0;
    runCounted('generator config mutations', arb, 4000, ([k, m]) => {
      const input = mutate(GENERATOR_CONFIGS[k], m);
      const result = outcome(() => {
        const config = parseGeneratorConfig(input);
        return { config, model: resolveGeneratorModel(config.options, 1, SeededRandom.fromSeed(1)) };
      }, codes);
      expectNoPollution();
      if (!result.ok) {
        expect(typeof result.error.path).toBe('string');
        expect(result.error.message.length).toBeGreaterThan(20);
        return;
      }
      valid++;
      const { config, model } = result.value;
      expect(Number.isSafeInteger(config.numCurves) && config.numCurves >= 1).toBe(true);
      expect(model.q.every((q, i) => Number.isFinite(q) && q > 0 && (i === 0 || q > model.q[i - 1]!))).toBe(true);
      expect(model.layers.every((l) => [l.sld, l.isld, l.thickness, l.roughness].every(Number.isFinite))).toBe(true);
      expect(model.bounds.every((b) => b.i >= 0 && b.i < model.layers.length && b.bounds[0] <= b.bounds[1])).toBe(true);
    });
    expect(valid).toBeGreaterThan(500);
  });
});

describe('fuzzing the training config and the scaler JSON', () => {
  it('parseTrainConfig (then the model factory): a config that parses to itself, or INVALID_CONFIG / INVALID_OPTION', () => {
    for (const base of TRAIN_CONFIGS) parseTrainConfig(base);
    const arb = fc.nat(TRAIN_CONFIGS.length - 1).chain((k) => fc.tuple(fc.constant(k), mutationArb(TRAIN_CONFIGS[k])));
    let valid = 0;
    runCounted('train config mutations', arb, 4000, ([k, m]) => {
      const input = mutate(TRAIN_CONFIGS[k], m);
      const result = outcome(() => parseTrainConfig(input), ['INVALID_CONFIG']);
      expectNoPollution();
      if (!result.ok) return;
      valid++;
      expectPlain(result.value);
      expect(JSON.stringify(parseTrainConfig(JSON.parse(JSON.stringify(result.value))))).toBe(JSON.stringify(result.value));
      expect(result.value.split.trainFraction > 0 && result.value.split.trainFraction < 1 && result.value.clipMin > 0).toBe(true);
      const model = outcome(() => resolveCnnConfig(result.value.model), ['INVALID_OPTION']);
      if (!model.ok) expect(model.error.path).toMatch(/^model\./);
    });
    expect(valid).toBeGreaterThan(500);
  });

  it('NrSldScaler.fromJSON / fromPyreflect: a scaler that writes back the statistics it was given, or INVALID_CONFIG at stats.…', () => {
    expect(NrSldScaler.fromJSON(SCALER_JSON).toJSON()).toMatchObject(SCALER_JSON);
    let valid = 0;
    runCounted('scaler JSON mutations', mutationArb(SCALER_JSON), 4000, (m) => {
      const input = mutate(SCALER_JSON, m);
      for (const read of [() => NrSldScaler.fromJSON(input), () => NrSldScaler.fromPyreflect(input)]) {
        const result = outcome(read, ['INVALID_CONFIG']);
        expectNoPollution();
        if (!result.ok) {
          expect(result.error.path).toMatch(/^stats\b/);
          continue;
        }
        valid++;
        const json = result.value.toJSON();
        expectPlain(json);
        expect(NrSldScaler.fromJSON(json).toJSON()).toEqual(json);
        const given = input as typeof SCALER_JSON;
        expect(json.nr).toEqual(given.nr);
        expect(json.sld).toEqual(given.sld);
        for (const axis of [json.nr.x, json.nr.y, json.sld.x, json.sld.y]) expect(axis.min <= axis.max).toBe(true);
      }
    });
    expect(valid).toBeGreaterThan(500);
  });
});

describe('fuzzing JSON files: the CLI reader, a bundle\'s config.json and scaler.json, a checkpoint\'s meta.json', () => {
  let dir: string;
  beforeAll(async () => {
    dir = scratch('config');
    await useBackend('wasm');
  });

  it('readJsonFile on damaged config files: the JSON (then a valid config or INVALID_CONFIG), or INVALID_CONFIG naming the file', async () => {
    const text = Buffer.from(`${JSON.stringify(INTERFACE_BODY, null, 2)}\n`);
    let k = 0;
    await runCountedAsync('config files (readJsonFile → parsePipelineConfig)', corruptionArb(text.length), 300, async (c) => {
      const path = join(dir, `config-${k++}.json`);
      const broken = corrupt(text, c);
      writeFileSync(path, broken);
      const json = await outcomeAsync(() => readJsonFile(path), ['INVALID_CONFIG']);
      if (!json.ok) {
        expect(json.error.path).toBe(path);
        return;
      }
      expect(json.value).toEqual(JSON.parse(Buffer.from(broken).toString('utf8')));
      outcome(() => parsePipelineConfig(json.value), ['INVALID_CONFIG']);
      expectNoPollution();
    });
  });

  it("a bundle's damaged config.json or scaler.json: the same model back, or CHECKPOINT_INVALID", async () => {
    const bundle = join(dir, 'bundle');
    const cnn = createCnn({ layers: 2, kernelSize: 3, inputPoints: 16, outputPoints: 16, seed: 3 });
    await saveBundle(bundle, cnn, NrSldScaler.fromJSON(SCALER_JSON), { modelId: 'fuzz-model' });
    const weightsOf = (model: typeof cnn) => model.model.getWeights().map((w) => Array.from(w.dataSync()));
    const original = weightsOf(cnn);
    const files = { config: readFileSync(join(bundle, 'config.json')), scaler: readFileSync(join(bundle, 'scaler.json')) };
    const damage = fc.constantFrom('config' as const, 'scaler' as const).chain((which) => fc.tuple(fc.constant(which), corruptionArb(files[which].length)));
    // JSON-level changes of config.json as well, except under `model`: a config declaring a large architecture
    // makes loadBundle build it before it looks at the weights (gigabytes; reported as a bug, not fuzzed here).
    const configJson = JSON.parse(files.config.toString('utf8')) as Record<string, unknown>;
    const changes = mutationArb(configJson)
      .filter((m) => m.path[0] !== 'model')
      .map((m) => ['config' as const, m] as const);
    let loaded = 0;
    await runCountedAsync('bundle config.json / scaler.json damage (loadBundle)', fc.oneof(damage, changes), 200, async ([which, c]) => {
      const broken = 'kind' in c ? corrupt(files[which], c) : Buffer.from(JSON.stringify(mutate(configJson, c)) ?? 'null');
      writeFileSync(join(bundle, `${which}.json`), broken);
      try {
        const result = await outcomeAsync(() => loadBundle(bundle), ['CHECKPOINT_INVALID']);
        if (!result.ok) return;
        loaded++;
        // scaler.json is covered by its SHA-256 in config.json: any change to it is refused.
        expect(which === 'scaler' ? Buffer.compare(broken, files.scaler) : 0).toBe(0);
        expect(weightsOf(result.value.cnn)).toEqual(original);
        expect(JSON.stringify(result.value.config)).toBe(JSON.stringify(JSON.parse(Buffer.from(broken).toString('utf8'))));
        result.value.cnn.model.dispose();
      } finally {
        writeFileSync(join(bundle, `${which}.json`), files[which]);
      }
    });
    expect(loaded).toBeGreaterThan(10);
    cnn.model.dispose();
  });

  it("a checkpoint's damaged meta.json, latest.json, weights.bin and optimizer.bin: the saved arrays back, or CHECKPOINT_INVALID", async () => {
    const store = join(dir, 'checkpoints');
    const snapshot = {
      meta: {
        format: 'reflectkit-checkpoint', version: 1, savedAt: '2026-01-01T00:00:00.000Z',
        model: resolveCnnConfig({ layers: 1, kernelSize: 1, inputPoints: 2, outputPoints: 2 }),
        settings: { epochs: 5, batchSize: 2, learningRate: 1e-3, weightDecay: 0, seed: 1, earlyStopping: null, checkpointEvery: 1 },
        progress: { epoch: 1, batch: 0, epochOrder: null, epochLosses: [], shuffleState: [1, 2, 3, 4], step: 10, best: null, epochsWithoutImprovement: 0 },
        history: { epochs: [1], trainingLoss: [0.5], validationLoss: [0.4] },
        weightShapes: [[2, 3], [3], [3]], trainableIndices: [0, 1], backend: 'wasm', extra: {},
      },
      weights: [Float32Array.from([1, 2, 3, 4, 5, 6]), Float32Array.from([7, 8, 9]), Float32Array.from([1, 0, 0])],
      optimizer: { step: 3, m: [new Float32Array(6).fill(0.5), new Float32Array(3).fill(0.25)], v: [new Float32Array(6).fill(2), new Float32Array(3).fill(4)] },
      bestWeights: [new Float32Array(6), new Float32Array(3), new Float32Array(3)],
    } as unknown as TrainingSnapshot;
    const folder = await new FolderCheckpointStore(store).save(snapshot);
    const names = ['meta.json', 'latest.json', 'weights.bin', 'optimizer.bin', 'best-weights.bin'] as const;
    const where = (name: string) => join(name === 'latest.json' ? store : folder, name);
    const files = Object.fromEntries(names.map((n) => [n, readFileSync(where(n))])) as Record<(typeof names)[number], Buffer>;
    const fileArb = fc.constantFrom(...names).chain((name) => fc.tuple(fc.constant(name), corruptionArb(files[name].length)));
    // JSON-level changes of meta.json too: shapes, indices, counts replaced by anything.
    const metaArb = mutationArb(JSON.parse(files['meta.json'].toString('utf8'))).map((m) => ['meta.json', m] as const);
    let loaded = 0;
    await runCountedAsync('checkpoint file damage (loadCheckpoint)', fc.oneof(fileArb, metaArb), 400, async ([name, change]) => {
      const broken = 'kind' in change ? corrupt(files[name], change) : Buffer.from(JSON.stringify(mutate(JSON.parse(files['meta.json'].toString('utf8')), change)) ?? 'null');
      writeFileSync(where(name), broken);
      try {
        const result = await outcomeAsync(() => loadCheckpoint(store), ['CHECKPOINT_INVALID']);
        expectNoPollution();
        if (!result.ok) return;
        loaded++;
        const back = result.value;
        // Each array has the size its shape says, and the bytes are the files' bytes.
        const sizes = back.meta.weightShapes.map((s) => s.reduce((a, b) => a * b, 1));
        expect(back.weights.map((w) => w.length)).toEqual(sizes);
        expect(Buffer.concat(back.weights.map((w) => Buffer.from(w.buffer, w.byteOffset, w.byteLength)))).toEqual(name === 'weights.bin' ? Buffer.from(broken) : files['weights.bin']);
        const trainable = back.meta.trainableIndices.map((i) => sizes[i]);
        expect(trainable.every((n) => n !== undefined)).toBe(true);
        expect(back.optimizer.m.map((a) => a.length)).toEqual(trainable);
        expect(back.optimizer.v.map((a) => a.length)).toEqual(trainable);
      } finally {
        writeFileSync(where(name), files[name]);
      }
    });
    expect(loaded).toBeGreaterThan(20);
  });
});
