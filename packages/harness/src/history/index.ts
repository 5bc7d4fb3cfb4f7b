export { HistoryFileError } from './errors.js';
export { defaultHistoryFile, openHistory, type OpenHistoryOptions } from './open-history.js';
export type * from './records.js';
export { HISTORY_APPLICATION_ID, SCHEMA_VERSION } from './schema.js';
export { deviceIdentity, HistoryStore } from './store.js';
export { keybenchVersions } from './versions.js';
export {
  finishCheckRun,
  recordCheckOutcome,
  recordCheckRun,
  startCheckRun,
  type CheckOutcome,
} from './record-checks.js';
