import { describe, expect, it } from 'vitest';
import { boundsAroundLayers, parsePipelineConfig } from '../../src/pipeline/config.js';
import { thrown } from '../helpers/errors.js';
import { INTERFACE_BODY } from '../helpers/interface-body.js';

describe('parsePipelineConfig', () => {
  it("accepts the web interface's request body as it is, with pyreflect's defaults filled in", () => {
    const config = parsePipelineConfig(INTERFACE_BODY);
    expect(config.layers).toHaveLength(4);
    expect(config.layers![2]).toEqual({ name: 'layer 1', sld: 4.5, isld: 0, thickness: 150, roughness: 10 });
    expect(config.generator).toMatchObject({ numCurves: 1000, numFilmLayers: 1, layerBound: [{ i: 2, par: 'thickness', bounds: [100, 200] }] });
    expect(config.training).toMatchObject({ batchSize: 32, epochs: 10, layers: 12, dropout: 0, kernelSize: 51, head: 'dense', validationSplit: 0.1, latentDim: 16 });
    expect(config.preprocessing).toEqual({ applyLogTransform: true, normalizationMethod: 'minmax', clipMin: 1e-8 });
    expect(config.name).toBe('my run');
    expect(config.saveTrainingData).toBe(true);
    expect(config.gpu).toBe('T4');
    expect(config.storage.history).toMatchObject({ enabled: true, userId: 'local', database: 'PyReflect', collection: 'generations' });
    expect(config.storage.hub).toBeNull();
    expect(parsePipelineConfig({ storage: { hub: { repo: 'me/data' } } }).storage.hub).toEqual({ repo: 'me/data', repoType: 'dataset', private: true, removeLocal: false, retries: 4, timeoutMs: 120_000 });
  });

  it('takes the roadmap keys at the top level or in their section, not both', () => {
    const config = parsePipelineConfig({ qMin: 0.01, qMax: 0.25, numQPoints: 200, qResolution: 0.05, scale: 0.9, background: 1e-7, learningRate: 2e-4, weightDecay: 0, validationSplit: 0.15, optimizer: 'Adam', kernelSize: 31, sldOutputPoints: 500, applyLogTransform: false, normalizationMethod: 'min-max', clipMin: 1e-9 });
    expect(config.generator).toMatchObject({ qMin: 0.01, qMax: 0.25, numQPoints: 200, qResolution: 0.05, scale: 0.9, background: 1e-7, sldOutputPoints: 500 });
    expect(config.training).toMatchObject({ learningRate: 2e-4, weightDecay: 0, validationSplit: 0.15, optimizer: 'adam', kernelSize: 31 });
    expect(config.preprocessing).toEqual({ applyLogTransform: false, normalizationMethod: 'minmax', clipMin: 1e-9 });
    const other = parsePipelineConfig({ optimizer: 'SGD', momentum: 0.9, normalizationMethod: 'z-score' });
    expect(other.training).toMatchObject({ optimizer: 'sgd', momentum: 0.9 });
    expect(other.preprocessing.normalizationMethod).toBe('zscore');
    expect(parsePipelineConfig({ training: { optimizer: 'AdamW' }, preprocessing: { normalizationMethod: 'zscore' } })).toMatchObject({
      training: { optimizer: 'adamw', momentum: 0 },
      preprocessing: { normalizationMethod: 'zscore' },
    });
    expect(parsePipelineConfig({ training: { learningRate: 0.01 } }).training.learningRate).toBe(0.01);
    const twice = thrown(() => parsePipelineConfig({ learningRate: 0.01, training: { learningRate: 0.02 } }));
    expect(twice).toMatchObject({ code: 'INVALID_CONFIG', path: 'learningRate' });
  });

  it('names the offending field of every error', () => {
    const cases: Array<[unknown, string]> = [
      [{ generator: { numCurves: 5 } }, 'generator.numCurves'],
      [{ training: { epochs: 0 } }, 'training.epochs'],
      [{ training: { dropout: 0.95 } }, 'training.dropout'],
      [{ training: { kernelSize: 50 } }, 'training.kernelSize'],
      [{ layers: [{ sld: 2 }, { sld: 'x' }, { sld: 0 }] }, 'layers[1].sld'],
      [{ layers: [{ sld: 2 }, { sld: 1, thickness: -3 }, { sld: 0 }] }, 'layers[1].thickness'],
      [{ generatr: {} }, ''],
      [{ training: { epoch: 3 } }, 'training'],
      [{ dataSource: 'real' }, 'dataSource'],
      [{ workflow: 'sld_chi' }, 'workflow'],
      [{ normalizationMethod: 'robust' }, 'preprocessing.normalizationMethod'],
      [{ optimizer: 'rmsprop' }, 'training.optimizer'],
      [{ momentum: 0.9 }, 'training.momentum'],
      [{ optimizer: 'sgd', momentum: 1 }, 'training.momentum'],
      [{ storage: { hub: { repo: '../etc' } } }, 'storage.hub.repo'],
      [{ storage: { hub: { repo: 'me/data', timeoutMs: 10 } } }, 'storage.hub.timeoutMs'],
      [{ storage: { hub: { repo: 'me/data', retries: -1 } } }, 'storage.hub.retries'],
      [{ storage: { history: { userId: '../../x' } } }, 'storage.history.userId'],
      [{ storage: { history: { collection: 'system.users' } } }, 'storage.history.collection'],
      [{ qMin: 0.2, qMax: 0.1 }, 'generator.qMax'],
      [{ generator: { layerBound: [{ i: 1, par: 'sld', bounds: [0, 1] }] } }, 'generator.layerBound'],
      [{ layers: INTERFACE_BODY.layers, generator: { numFilmLayers: 3, layerBound: [] } }, 'generator.numFilmLayers'],
    ];
    for (const [json, path] of cases) {
      const error = thrown(() => parsePipelineConfig(json));
      expect(error.code, JSON.stringify(json)).toBe('INVALID_CONFIG');
      expect(error.path, JSON.stringify(json)).toBe(path);
      expect(error.expected, JSON.stringify(json)).toBeTruthy();
    }
    expect(thrown(() => parsePipelineConfig([])).code).toBe('INVALID_CONFIG');
  });

  it('allows negative SLDs (H₂O, Ti), which the interface refuses', () => {
    const config = parsePipelineConfig({ layers: [{ sld: 2.07 }, { sld: -0.56, thickness: 50 }, { sld: -1.95, thickness: 30 }, { sld: 0, thickness: 0 }] });
    expect(config.layers!.map((l) => l.sld)).toEqual([2.07, -0.56, -1.95, 0]);
  });
});

describe('boundsAroundLayers', () => {
  it('varies every film layer around the given values and keeps substrate and air fixed', () => {
    const bounds = boundsAroundLayers([
      { sld: 2.07, thickness: 0, roughness: 3 },
      { sld: -0.56, thickness: 50, roughness: 0 },
      { sld: 6.0, thickness: 100, roughness: 8 },
      { sld: 0, thickness: 0, roughness: 0 },
    ]);
    expect(bounds).toEqual([
      { i: 1, par: 'sld', bounds: [-1.06, -0.06000000000000005] },
      { i: 1, par: 'thickness', bounds: [40, 60] },
      { i: 1, par: 'roughness', bounds: [0, 5] },
      { i: 2, par: 'sld', bounds: [4.8, 7.2] },
      { i: 2, par: 'thickness', bounds: [80, 120] },
      { i: 2, par: 'roughness', bounds: [4, 12] },
    ]);
  });
});
