/**
 * occlude: occlusion sensitivity heat-maps (Zeiler & Fergus 2014) for TF.js image classifiers.
 *
 * The API, and nothing else: the session (one image at a time), the runs (the CLI's workflows as
 * functions: folders, predictions, mistake review, checks, merging shards), the rendering and saving functions, their
 * types and the error. The CLI (src/cli) maps its flags onto these and prints what they return.
 * docs/architecture.md says where everything else lives.
 */

// one image at a time
export { Session, occludeImage, EMBEDDED_MODEL, EMBEDDED_MODELS, type SessionOptions, type OccludeOptions } from './session.js';
export type { OcclusionResult, ClassMap, Pass, Prediction } from './result.js';
export type { Rect } from './plan/grid.js';
export type { ModelInput, LoadedModel } from './model/load.js';
export type { ImageInput, RawImage, RgbImage } from './image/decode.js';
export type { ModelMetadata, InputSpec } from './model/metadata.js';

// the workflows
export { runFolder, type FolderOptions, type FolderEvents, type FolderResult } from './runs/folder.js';
export { runPredict, type PredictOptions, type PredictEvents, type PredictResult } from './runs/predict.js';
export {
  runReview,
  type ReviewOptions,
  type ReviewEvents,
  type ReviewRun,
  type ReviewResult,
  type ReviewedFrame,
  type ReviewedMistake,
  type ReviewGroup,
  type MapSummary,
} from './runs/review.js';
export { runCheck, type CheckOptions, type CheckEvents, type CheckResult } from './runs/check.js';
export { runMerge, type MergeOptions, type MergeResult } from './runs/merge.js';
export { parseShard, type Shard } from './runs/shard.js';
export type { RunEvents, ProgressEvent, ImageFailure } from './runs/events.js';
export type { SummaryRow } from './report/summary.js';
export type { CaseOutcome, CaseStatus, CheckManifest } from './report/check.js';
export type { OutputFiles } from './report/json.js';

// rendering and saving
export { renderOverlay, saveOverlay } from './render/save.js';
export { saveMap } from './heatmap/save.js';

// options and errors
export { DEFAULTS, type RenderOptions, type ColormapName, type FillSpec, type RangeSpec, type Mode, type BackendRequest, type EngineRequest } from './options.js';
export { OccludeError, type ErrorKind } from './errors.js';
