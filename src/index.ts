/**
 * occlude: occlusion sensitivity heat-maps (Zeiler & Fergus 2014) for TF.js
 * image classifiers. The CLI (src/cli) is a thin layer over this API.
 */
export { Session, occludeImage, EMBEDDED_MODEL } from './session.js';
export { DEFAULTS, defaultWorkers } from './options.js';
export type { SessionOptions, OccludeOptions } from './session.js';
export type { OcclusionResult, Prediction, Pass, ClassMap } from './result.js';
export { OccludeError, invalidParameter } from './errors.js';
export { planGrid, planAxis, patchRect, type PatchGrid, type Rect } from './plan/grid.js';
export { Accumulator, toDrop, mapRange } from './heatmap/accumulate.js';
export { saveMap } from './heatmap/save.js';
export { runEngine, type EngineOptions, type EngineStats } from './infer/engine.js';
export { readImage, type RgbImage } from './image/decode.js';
export { Preprocessor } from './image/preprocess.js';
export { loadModel, type LoadedModel } from './model/load.js';
export { initBackend, type BackendRequest, type BackendInfo } from './model/backends.js';
export { readMetadata, resolveInputSpec, type ModelMetadata, type InputSpec } from './model/metadata.js';
export { colormapLut, COLORMAPS, type ColormapName } from './render/colormap.js';
export { renderOverlay, saveOverlay } from './render/save.js';
export type { RenderOptions } from './options.js';
export { resultJson } from './report/json.js';
export { createProgram, run } from './cli/program.js';
export { readManifest, evaluateCase, minimumPoint, energyShare, type CheckManifest, type CaseOutcome } from './report/check.js';
export { junitXml } from './report/junit.js';
export { writeReport, reportHtml, type PageEntry } from './report/page.js';
export { readLabels, confusion, saveSideBySide, type Confusion } from './report/review.js';
export { summaryRow, writeSummary, readSummary, type SummaryRow } from './report/summary.js';
