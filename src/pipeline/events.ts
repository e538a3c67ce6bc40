import type { EvaluationMetrics, EvaluationResult } from '../eval/result.js';

/** The phases of a pipeline run, in order. */
export const PIPELINE_PHASES = ['generate', 'upload-data', 'train', 'save', 'evaluate', 'report', 'hub', 'history'] as const;

/** One of {@link PIPELINE_PHASES}. */
export type PipelinePhase = (typeof PIPELINE_PHASES)[number];

/** What {@link runPipeline} tells its `onEvent` callback. */
export type PipelineEvent =
  | { type: 'log'; level: 'info' | 'warn'; message: string }
  /** A phase started, ended (with its wall time in seconds), or was skipped (done by an earlier attempt, or not configured). */
  | { type: 'phase'; phase: PipelinePhase; status: 'start' | 'end' | 'skip'; seconds?: number; reason?: string }
  /** Progress within a phase: curves generated, or batches of an epoch with the losses so far (normalised MSE). */
  | { type: 'progress'; phase: PipelinePhase; done: number; total: number; epoch?: number; epochs?: number; loss?: number; trainingLoss?: number; validationLoss?: number }
  | { type: 'result'; result: PipelineResult };

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
  metrics: Pick<EvaluationMetrics, 'mse' | 'mae' | 'r2' | 'chi2'> & { testCurves: number };
  /** The tfjs backend that trained and ran the model. */
  backend: string;
  /** Wall time per phase and in total, s (phases done by an earlier attempt keep their times). */
  timing: Record<string, number>;
  /** Files of the run: data, model bundle, report. */
  files: { data: string; model: string; report: string; resultJson: string };
  /** The history record's id and where it went (`mongodb`, `embedded`, or `embedded (pending sync)`), or null when history is off. */
  history: { id: string; store: string } | null;
  /** The Hub folder of the bundle, or null without a Hub target. */
  hub: { browse: string } | null;
}
