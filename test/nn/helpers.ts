import { ReflectivityDataGenerator } from '../../src/data/generator.js';
import type { TrainingData } from '../../src/nn/trainer.js';
import { NrSldScaler } from '../../src/preprocess/scaler.js';
import { splitIndices } from '../../src/preprocess/split.js';

/** A small model that trains in well under a second per epoch on wasm. */
export const SMALL = { layers: 2, kernelSize: 3, inputPoints: 32, outputPoints: 32, seed: 7 } as const;

/** Normalised train/validation data on SMALL's grids, from the real generator. */
export async function smallData(curves = 120, seed = 1): Promise<TrainingData & { scaler: NrSldScaler }> {
  const dataset = await new ReflectivityDataGenerator({ seed, numLayers: 1, numQ: SMALL.inputPoints, profilePoints: SMALL.outputPoints }).generate(curves);
  const split = splitIndices(curves, { seed });
  const scaler = NrSldScaler.fit(dataset.nr, dataset.sld, { rows: split.train });
  return {
    scaler,
    trainX: scaler.modelInput(dataset.nr, split.train),
    trainY: scaler.modelTarget(dataset.sld, split.train),
    validationX: scaler.modelInput(dataset.nr, split.validation),
    validationY: scaler.modelTarget(dataset.sld, split.validation),
  };
}
