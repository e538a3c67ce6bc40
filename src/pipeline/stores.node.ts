import { homedir } from 'node:os';
import { join } from 'node:path';
import type { EvaluationResult } from '../eval/result.js';
import { HubStore } from '../store/hub.node.js';
import { addToHistory, openHistoryStore } from '../store/history-sync.node.js';
import { FileHistoryStore } from '../store/history-files.node.js';
import { prepareRecord } from '../store/history.js';
import type { PipelineConfig } from './config.js';
import type { PipelineEvent } from './events.js';

/** The history store and where a record went, as `runPipeline` needs it. */
export interface PipelineHistory {
  /**
   * Records a finished run, under the record id and creation time the pipeline chose (kept in its run folder,
   * so that a resumed run recognises its own record: a record with that id already there is refused with
   * `HISTORY_UNAVAILABLE` at `id`, as the history stores do).
   *
   * @returns the record's id and the store that took it (`mongodb`, `embedded`, `embedded (pending sync)`).
   */
  add(userId: string, entry: { name: string | null; params: Record<string, unknown>; result: Record<string, unknown>; id?: string; createdAt?: string }): Promise<{
    /** The record's id. */
    id: string;
    /** The store that took it. */
    store: string;
  }>;
  /** Closes connections. */
  close(): Promise<void>;
}

/** What `runPipeline` needs of a Hub target (`HubStore` is one). */
export interface PipelineHub {
  /** Uploads `nr_train.npy` and `sld_train.npy` to `models/{modelId}/`, verified. */
  uploadTrainingData(modelId: string, files: { nr: string; sld: string }, options?: { signal?: AbortSignal }): Promise<unknown>;
  /** Uploads a bundle folder to `models/{modelId}/`, verified. */
  pushBundle(dir: string, options: { modelId?: string; removeLocal?: boolean; signal?: AbortSignal }): Promise<unknown>;
  /** The folder's web page. */
  urls(modelId: string): {
    /** `…/tree/main/models/{modelId}`. */
    browse: string;
  };
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

/**
 * Opens the history store a config names: MongoDB (`storage.history.mongodbUri`, else
 * `REFLECTKIT_MONGODB_URI`) with the embedded store as its fallback, or the embedded store alone (folder
 * `storage.history.dir`, else {@link defaultHistoryDir}). Warnings (MongoDB unreachable) become log events.
 * With `mongoPasswordMissing` (a resumed run whose `pipeline.json` keeps the URI without its password and
 * whose environment does not give it), MongoDB is not tried at all (a login with a wrong password can lock an
 * account): the record goes to the embedded store, pending a sync.
 */
export async function openPipelineHistory(
  config: PipelineConfig,
  emit: (event: PipelineEvent) => void,
  options: { mongoPasswordMissing?: boolean } = {},
): Promise<PipelineHistory> {
  const h = config.storage.history;
  if (options.mongoPasswordMissing === true && h.mongodbUri !== null) {
    const embedded = new FileHistoryStore({ dir: h.dir ?? defaultHistoryDir() });
    return {
      add: async (userId, entry) => {
        const record = await embedded.insertRecord(prepareRecord(userId, entry), { pending: true });
        return { id: record.id, store: 'embedded (pending sync)' };
      },
      close: () => embedded.close(),
    };
  }
  const mongoUri = h.mongodbUri ?? process.env.REFLECTKIT_MONGODB_URI;
  const store = openHistoryStore({
    dir: h.dir ?? defaultHistoryDir(),
    ...(mongoUri === undefined || mongoUri === '' ? {} : { mongoUri }),
    database: h.database,
    collection: h.collection,
    onWarning: (message) => emit({ type: 'log', level: 'warn', message: `history: ${message}` }),
  });
  return {
    add: async (userId, entry) => {
      const added = await addToHistory(store, userId, entry);
      return { id: added.record.id, store: added.store };
    },
    close: () => store.close(),
  };
}

/**
 * The Hub target a config names (`storage.hub`), with the token from `HF_TOKEN`; retries and uploads are
 * reported as log events.
 */
export function openPipelineHub(config: PipelineConfig, emit: (event: PipelineEvent) => void): PipelineHub | null {
  const target = config.storage.hub;
  if (target === null) return null;
  return new HubStore({
    repo: target.repo,
    repoType: target.repoType,
    private: target.private,
    retries: target.retries,
    timeoutMs: target.timeoutMs,
    // HubStore's lines already start with `hub: `.
    onLog: (message) => emit({ type: 'log', level: 'info', message: message.startsWith('hub: ') ? message : `hub: ${message}` }),
  });
}
