/**
 * reflectkit: neutron reflectometry ML pipeline (pyreflect's) for Node, Deno and browsers.
 *
 * This entry point is the browser-safe core: no Node built-ins. File, worker-thread and other
 * Node-only code is in `reflectkit/node`.
 *
 * @packageDocumentation
 */
export { ERROR_CODES, ReflectkitError, isReflectkitError } from './errors.js';
export type { ReflectkitErrorCode, ReflectkitErrorDetails } from './errors.js';

// physics
export {
  allocatePreparedStack,
  prepareStack,
  reflectionAmplitude,
  reflectivitySquared,
} from './physics/abeles.js';
export type { PreparedStack, SlabStack } from './physics/abeles.js';
export { DEFAULT_Q_RESOLUTION, FWHM_TO_SIGMA_DIVISOR, PROFILE_DZ } from './physics/constants.js';
export { erf, fastErf } from './physics/erf.js';
export { ForwardModel } from './physics/forward.js';
export type { ForwardModelOptions, Simulation } from './physics/forward.js';
export { profileGrid, resampledProfile, smoothProfile } from './physics/profile.js';
export type { ProfileGrid, ProfileScratch } from './physics/profile.js';
export { allocateProfileScratch } from './physics/profile.js';
export { DEFAULT_Q_GRID, LEGACY_Q_GRID, linspace, logspaceQ } from './physics/qgrid.js';
export { applyResolution, buildResolutionOperator, sigmaFromRelativeFwhm } from './physics/resolution.js';
export type { ResolutionOperator } from './physics/resolution.js';

// sample
export { autoLayerBound, autoLayerDesc, legacyLayerBound, legacyLayerDesc } from './sample/defaults.js';
export { LAYER_PARAMETERS, cloneLayers, layersToArrays } from './sample/layers.js';
export type { LayerArrays, LayerBound, LayerDesc, LayerParameter } from './sample/layers.js';
export { SeededRandom } from './sample/random.js';
export { ParameterSampler } from './sample/sampler.js';
export type { SamplingMethod } from './sample/sampler.js';
export { validateBounds, validateLayers } from './sample/validate.js';

// data
export { curveArray } from './data/dataset.js';
export type { NrArray, NrSldDataset, SldArray } from './data/dataset.js';
export { InThreadExecutor } from './data/executor.js';
export type { ChunkExecutor, ChunkResult, ChunkTask } from './data/executor.js';
export type { GenerationPlan } from './data/plan.js';
export { ReflectivityDataGenerator, validateCurveCount } from './data/generator.js';
export type { GeneratedChunk, RunOptions } from './data/generator.js';
export { resolveGeneratorModel, validateQArray } from './data/generator-options.js';
export { simulateModel } from './data/simulate.js';
export type { SimulationModel, SimulationOutput } from './data/simulate.js';
export type { GenerationProgress, GeneratorOptions, QArrayRules, ResolvedGeneratorModel } from './data/generator-options.js';

// io
export { decodeNpy, encodeNpy, encodeNpyHeader, parseNpyHeader } from './io/npy.js';
export type { NpyArray, NpyDtype, NpyHeader } from './io/npy.js';
export { GAUSSIAN_FWHM_PER_SIGMA, isOrsoText, parseColumnText, parseMeasured, parseOrso } from './io/measured.js';
export { PickleWriter, describePickleValue, unpickle } from './io/pickle.js';
export type {
  PickleContext,
  PickleDict,
  PickleGlobal,
  PickleGlobalHandler,
  PickleGlobals,
  PickleKey,
  PickleList,
  PickleObject,
  PickleTuple,
  PickleValue,
  UnpickleOptions,
} from './io/pickle.js';
export { STATE_DICT_GLOBALS, decodePth, encodePth, encodeStateDictPickle, parseStateDictPickle, pthChunks } from './io/pth.js';
export type { PthChunkedData, PthDtype, PthIndex, PthMetadata, PthStorageRef, PthTensor, PthTensorInput, PthTensorRecord, PthWriteOptions } from './io/pth.js';
export { NUMPY_OBJECT_GLOBALS, decodePickledNpy, encodePickledStatsNpy } from './io/pickled-npy.js';
export type { PyreflectStatsLayout } from './io/pickled-npy.js';
export type { ColumnTextOptions, DqConvention, MeasuredCurve, MeasuredOptions, OrsoOptions } from './io/measured.js';

// preprocess
export { NrSldScaler } from './preprocess/scaler.js';
export type { CurveMoments, CurveStats, NormalizationMethod, PyreflectStats, ScalerStats } from './preprocess/scaler.js';
export { splitIndices, splitSizes } from './preprocess/split.js';
export type { SplitIndices } from './preprocess/split.js';
export { compose, identity, log10Clip, minMax, zScore } from './preprocess/transforms.js';
export type { AxisMoments, AxisRange, Transform } from './preprocess/transforms.js';
export { interpolateOntoGrid } from './preprocess/interpolate.js';
export type { CurveSamples, GridInterpolation } from './preprocess/interpolate.js';

// eval (the parts without tfjs: NR from SLD, metrics, the result type)
export { computeNrFromSld, estimateMedium, parseNrFromSldRequest } from './eval/nr-from-sld.js';
export type { NrFromSld, NrFromSldOptions, NrFromSldRequest, ProfileOrder, SldProfile } from './eval/nr-from-sld.js';
export { chiSquaredData, chiSquaredLog, comparisonIndices, relativeError, sldErrorMetrics } from './eval/metrics.js';
export { straightenDepth } from './eval/depth.js';
export type { EvaluationMetrics, EvaluationResult, EvaluationSource, SldComparisonPoint, SldErrorMetrics } from './eval/result.js';
export { microslabStack } from './physics/microslab.js';
export type { Medium } from './physics/microslab.js';

// pipeline configuration (runPipeline itself is in reflectkit/node)
export { boundsAroundLayers, parsePipelineConfig } from './pipeline/config.js';
export type { PipelineConfig, PipelineConfigInput } from './pipeline/config.js';
export { PIPELINE_PHASES } from './pipeline/events.js';
export type { PipelineEvent, PipelineLogEvent, PipelinePhase, PipelinePhaseEvent, PipelineProgressEvent, PipelineResult, PipelineResultEvent } from './pipeline/events.js';

export { VERSION } from './version.js';
