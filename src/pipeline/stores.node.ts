import { homedir } from 'node:os';
import { join } from 'node:path';
import type { EvaluationResult } from '../eval/result.js';
import type { PipelineConfig } from './config.js';
import type { PipelineEvent } from './events.js';

/** Where a run's history record goes: what {@link runPipeline} needs of a history store. */
export interface PipelineHistory {
  /** Records a finished run; returns its id and the store that took it. */
  add(userId: string, entry: { name: string | null; params: Record<string, unknown>; result: Record<string, unknown> }): Promise<{ id: string; store: string }>;
  close(): Promise<void>;
}

/** What {@link runPipeline} needs of a Hub target (`HubStore` of `reflectkit/node` is one). */
export interface PipelineHub {
  uploadTrainingData(modelId: string, files: { nr: string; sld: string }, options?: { signal?: AbortSignal }): Promise<unknown>;
  pushBundle(dir: string, options: { modelId?: string; removeLocal?: boolean; signal?: AbortSignal }): Promise<unknown>;
  urls(modelId: string): { browse: string };
}

/**
 * The folder of the embedded history store when the config names none: `REFLECTKIT_HISTORY_DIR`, else
 * `~/.reflectkit/history` (one per user account, shared by every run folder).
 */
export function defaultHistoryDir(): string {
  return process.env.REFLECTKIT_HISTORY_DIR ?? join(homedir(), '.reflectkit', 'history');
}

/**
 * The record's `params`: the interface's shape (`layers`, `generator {numCurves, numFilmLayers, layerBound}`,
 * `training {batchSize, epochs, layers, dropout, latentDim, aeEpochs, mlpEpochs}`) with what reflectkit adds
 * (the seed, the physics, the whole resolved config under `reflectkit`). The user's layers are stored as
 * given, never the last sampled values (pyreflect's shared-description bug).
 */
export function historyParams(config: PipelineConfig, seed: number): Record<string, unknown> {
  const t = config.training;
  return {
    layers: config.layers,
    generator: { numCurves: config.generator.numCurves, numFilmLayers: config.generator.numFilmLayers, layerBound: config.generator.layerBound },
    training: { batchSize: t.batchSize, epochs: t.epochs, layers: t.layers, dropout: t.dropout, latentDim: t.latentDim, aeEpochs: t.aeEpochs, mlpEpochs: t.mlpEpochs },
    seed,
    reflectkit: config,
  };
}

/**
 * The record's `result`: the interface's result object (`nr`, `sld`, `training`, `chi`, `metrics {mse, r2,
 * mae}`, `model_id`, `name`, `timing`), with reflectkit's corrected metrics (over the whole test split, in
 * physical units; see docs/evaluation.md) and the backend.
 */
export function historyResult(result: EvaluationResult, modelId: string, name: string | null, timing: Record<string, number>): Record<string, unknown> {
  return {
    nr: result.nr,
    sld: result.sld,
    training: result.training,
    chi: result.chi,
    metrics: { mse: result.metrics.mse, r2: result.metrics.r2, mae: result.metrics.mae, chi2: result.metrics.chi2, testCurves: result.metrics.curves },
    model_id: modelId,
    name,
    timing,
    backend: result.backend,
  };
}

/** Opens the history store a config names (MongoDB with the embedded fallback, or the embedded store). */
export async function openPipelineHistory(config: PipelineConfig, emit: (event: PipelineEvent) => void): Promise<PipelineHistory> {
  void config;
  void emit;
  throw new Error('not yet wired');
}

/** The Hub target a config names, with the token from `HF_TOKEN`. */
export function openPipelineHub(config: PipelineConfig, emit: (event: PipelineEvent) => void): PipelineHub {
  void config;
  void emit;
  throw new Error('not yet wired');
}
