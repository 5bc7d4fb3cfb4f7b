export { Prng } from './prng.js';
export {
  describeInput,
  framesOf,
  inputJson,
  inputSize,
  type ApduInput,
  type FramesInput,
  type FuzzFrame,
  type FuzzInput,
} from './input.js';
export { FUZZ_MODES, generateInput, type FuzzMode } from './generate.js';
export { APDU_MUTATIONS } from './generate-apdu.js';
export { FRAME_MUTATIONS } from './generate-frames.js';
export { checkHealth, type FailureKind, type Verdict } from './health.js';
export { exercise } from './exercise.js';
export { shrinkInput, type ShrinkBudget, type ShrinkResult } from './shrink.js';
export {
  openFuzzTarget,
  openVirtualTarget,
  type DeviceWrapper,
  type FuzzTarget,
  type ReportHandler,
  type TargetOptions,
} from './target.js';
export {
  runFuzz,
  type FuzzFailure,
  type FuzzOptions,
  type FuzzReport,
  type FuzzStatus,
} from './run.js';
export { fuzzReportJson, fuzzSummaryLines, reproduceCommand } from './report.js';
export { findReplayWindow, type ReplayWindow } from './replay.js';
