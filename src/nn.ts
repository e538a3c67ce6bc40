/**
 * reflectkit/nn: the CNN, its training and the tfjs backends, for any runtime (browsers, Deno, Node).
 * Kept apart from the root entry point so that physics and data users do not load TensorFlow.js.
 * `reflectkit/node` re-exports all of it, with native TensorFlow and folder checkpoints added.
 *
 * @packageDocumentation
 */
export { TorchAdam } from './nn/adam.js';
export type { AdamOptions, AdamState } from './nn/adam.js';
export { TorchSgd } from './nn/sgd.js';
export type { SgdOptions } from './nn/sgd.js';
export { OPTIMIZER_NAMES, createOptimizer, stateArraysPerVariable } from './nn/optimizer.js';
export type { Optimizer, OptimizerName, OptimizerSettings, OptimizerState } from './nn/optimizer.js';
export { BACKEND_ORDER, DEFAULT_LOADERS, currentBackend, useBackend } from './nn/backend.js';
export type { BackendInfo, BackendLoader, BackendName } from './nn/backend.js';
export type {
  CheckpointMeta,
  CheckpointStore,
  EarlyStoppingOptions,
  TrainerSettings,
  TrainingHistory,
  TrainingProgress,
  TrainingSnapshot,
} from './nn/checkpoint.js';
export { channelSchedule, cnnConfigSchema, countParameters, createCnn, resolveCnnConfig, trainableParameterCount } from './nn/cnn.js';
export type { Cnn, CnnConfig } from './nn/cnn.js';
export { DropoutSchedule, SeededDropout } from './nn/dropout.js';
export type { SeededDropoutArgs } from './nn/dropout.js';
export { installFastGradientKernels, restoreGradientKernels } from './nn/gradient-kernels.js';
export { WASM_HEAP_LIMIT, assertTrainingFits, estimateTrainingMemory } from './nn/memory.js';
export type { MemoryEstimate } from './nn/memory.js';
export { tf, tfl } from './nn/tf.js';
export { cnnConfigFromStateDict, loadStateDictIntoCnn, pyreflectStateDictLayout, pyreflectStateDictMetadata, stateDictFromCnn } from './nn/torch-state.js';
export type { StateDictEntry } from './nn/torch-state.js';
export { parseTrainConfig } from './nn/train-config.js';
export type { TrainConfig } from './nn/train-config.js';
export { LocalEngine, gatherRows, meanBatchLoss, readWeights, writeWeights } from './nn/engine.js';
export type { TrainingEngine } from './nn/engine.js';
export { Trainer, localEngine } from './nn/trainer.js';
export type { BatchEnd, EngineFactory, EpochEnd, TrainResult, TrainerCallbacks, TrainerOptions, TrainingData } from './nn/trainer.js';
export { predictSld } from './eval/predict.js';
export type { PredictInput, ReflectivityCurve, SldPredictor } from './eval/predict.js';
export { evaluateTestSplit, physicsFromGenerator, trainingSummary } from './eval/evaluate.js';
export type { EvaluateOptions, EvaluationPhysics, GeneratorPhysicsSource } from './eval/evaluate.js';
export { evaluateMeasured } from './eval/evaluate-measured.js';
export { evaluate } from './eval/evaluate-any.js';
export type { EvaluationInput } from './eval/evaluate-any.js';
export type { EvaluateMeasuredOptions, MeasuredInput } from './eval/evaluate-measured.js';
