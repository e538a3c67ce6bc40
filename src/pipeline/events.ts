import type { EvaluationMetrics, EvaluationResult } from '../eval/result.js';

/** The phases of a pipeline run, in order. */
export const PIPELINE_PHASES = ['generate', 'upload-data', 'train', 'save', 'evaluate', 'report', 'hub', 'history'] as const;

/** One of {@link PIPELINE_PHASES}. */
export type PipelinePhase = (typeof PIPELINE_PHASES)[number];

/** A line of the run's log: progress in words, or a warning (the Hub or MongoDB failed and the run went on). */
export interface PipelineLogEvent {
  /** Discriminator. */
  type: 'log';
  /** `warn` for failures the run survived. */
  level: 'info' | 'warn';
  /** The line, in words (never a token or a password). */
  message: string;
}

/** A phase started, ended, or was skipped. */
export interface PipelinePhaseEvent {
  /** Discriminator. */
  type: 'phase';
  /** Which phase. */
  phase: PipelinePhase;
  /** `skip`: done by an earlier attempt, or not configured. */
  status: 'start' | 'end' | 'skip';
  /** Wall time of the phase, s (with `end`). */
  seconds?: number;
  /** Why it was skipped (with `skip`). */
  reason?: string;
}

/** Progress within a phase: curves generated, or batches of an epoch and the losses so far. */
export interface PipelineProgressEvent {
  /** Discriminator. */
  type: 'progress';
  /** `generate` or `train`. */
  phase: PipelinePhase;
  /** Curves done (generate), batches done in the epoch, or epochs done (at the end of an epoch). */
  done: number;
  /** Of how many. */
  total: number;
  /** The epoch, 1-based (train). */
  epoch?: number;
  /** Epochs of the run (train). */
  epochs?: number;
  /** This batch's loss, normalised MSE (per batch). */
  loss?: number;
  /** The epoch's mean training loss, normalised MSE (at the end of an epoch). */
  trainingLoss?: number;
  /** The epoch's validation loss, normalised MSE (at the end of an epoch). */
  validationLoss?: number;
}

/** The run finished. */
export interface PipelineResultEvent {
  /** Discriminator. */
  type: 'result';
  /** What `runPipeline` returns. */
  result: PipelineResult;
}

/** What `runPipeline` (in `reflectkit/node`) tells its `onEvent` callback. */
export type PipelineEvent = PipelineLogEvent | PipelinePhaseEvent | PipelineProgressEvent | PipelineResultEvent;

/** What a finished run returns (and writes as `result.json` beside `report.html`). */
export interface PipelineResult {
  /** The run folder. */
  runDir: string;
  /** The run's name, or null. */
  name: string | null;
  /** The model's id (its `.pth` name and Hub folder). */
  modelId: string;
  /** The evaluation on the test split: the interface's result object, corrected (see docs/evaluation.md). */
  result: EvaluationResult;
  /** Key metrics (SLD MSE, MAE, R² over the test split in 10⁻⁶ Å⁻² units, χ² of the example curve in log R). */
  metrics: Pick<EvaluationMetrics, 'mse' | 'mae' | 'r2' | 'chi2'> & {
    /** Curves in the test split. */
    testCurves: number;
  };
  /** The tfjs backend that trained and ran the model. */
  backend: string;
  /** Wall time per phase and in total, s (phases done by an earlier attempt keep their times). */
  timing: Record<string, number>;
  /** Files of the run: data, model bundle, report. */
  files: {
    /** `data/`: nr_train.npy, sld_train.npy, parameters.npy, generation.json. */
    data: string;
    /** `model/`: the bundle. */
    model: string;
    /** `report.html`. */
    report: string;
    /** `result.json`. */
    resultJson: string;
  };
  /** The history record's id and where it went (`mongodb`, `embedded`, or `embedded (pending sync)`), or null when history is off. */
  history: {
    /** The record's id (24 hex digits). */
    id: string;
    /** `mongodb`, `embedded` or `embedded (pending sync)`; `recorded before the interruption` when a resumed run finds the record its killed attempt added. */
    store: string;
  } | null;
  /** The Hub folder of the bundle, or null without a Hub target. */
  hub: {
    /** Web page of the bundle's folder. */
    browse: string;
  } | null;
}
