/**
 * reflectkit for Node: everything in the core entry point, with the generator replaced by one that
 * uses worker threads and streams to `.npy` files, plus file helpers.
 *
 * @packageDocumentation
 */
export * from './index.js';
export * from './nn.js';
export { FolderCheckpointStore, loadCheckpoint } from './nn/checkpoint-store.node.js';
export { NODE_LOADERS, availableMemory, loadDawnWebGpu, loadNativeTensorflow, useNodeBackend } from './nn/backend-node.node.js';
export { loadBundle, saveBundle } from './nn/model-folder.node.js';
export { WorkerEngine, workerEngine } from './nn/worker-engine.node.js';
export type { LoadedModel, ModelFolderConfig, SaveBundleOptions } from './nn/model-folder.node.js';
export { MODEL_ID } from './nn/model-folder.node.js';
export { readTrainingFiles } from './data/training-files.node.js';
export type { TrainingFiles } from './data/training-files.node.js';
export { ReflectivityDataGenerator } from './data/node-generator.node.js';
export type { GeneratedFiles } from './data/node-generator.node.js';
export { coreCount, maxWorkers, WorkerPoolExecutor } from './data/worker-pool.node.js';
export { AtomicFile, writeFileAtomic } from './io/atomic-file.node.js';
export { svgToPng, writeReport } from './report/png.node.js';
export type { PngOptions, WriteReportOptions } from './report/png.node.js';
export { NpyWriter, readNpy, readNpyHeader, writeNpy } from './io/npy-file.node.js';
export { readPth, readPthIndex, writePth } from './io/pth-file.node.js';
export { readMeasuredFile } from './io/measured-file.node.js';
export { generatorOptionsOf, resumePipeline, runPipeline } from './pipeline/run.node.js';
export type { RunPipelineOptions } from './pipeline/run.node.js';
export { defaultHistoryDir, historyParams, historyResult } from './pipeline/stores.node.js';
export type { PipelineHistory, PipelineHub } from './pipeline/stores.node.js';
export { HubStore } from './store/hub.node.js';
export type { HubBundleSummary, HubFileSource, HubOptions, HubPullReport, HubUploadOptions, HubUploadReport, HubUploadedFile, HubUrls, PulledFile } from './store/hub.node.js';
export { FileHistoryStore } from './store/history-files.node.js';
export type { FileHistoryStoreOptions } from './store/history-files.node.js';
export { MongoHistoryStore } from './store/history-mongo.node.js';
export type { MongoHistoryStoreOptions } from './store/history-mongo.node.js';
export { ResilientHistoryStore, addToHistory, openHistoryStore, syncHistory } from './store/history-sync.node.js';
export type { HistoryPlacement, HistorySyncOptions, HistorySyncReport, OpenHistoryStoreOptions, ResilientHistoryStoreOptions } from './store/history-sync.node.js';
export { newRecordId } from './store/history.js';
export type { HistoryEntry, HistoryListOptions, HistoryPage, HistoryRecord, HistoryStore, HistorySummary } from './store/history.js';
export type { StoredRecordRef } from './store/history-files.node.js';
export type { MongoInsertOutcome } from './store/history-mongo.node.js';
