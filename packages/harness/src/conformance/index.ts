export { CATALOGUE, EXCLUDED, caseById } from './catalogue.js';
export { LAYERS, type ConformanceCase, type Layer, type PersonNeed } from './case.js';
export {
  PROFILES,
  PROFILE_NAMES,
  profileNamed,
  type Profile,
  type ProfileName,
} from './profiles.js';
export { runConformance, selectCases, type RunOptions } from './runner.js';
export type { CaseResult, RunReport, RunStatus, FrameLine } from './result.js';
export { FAULT_EXPECTATIONS } from './fault-map.js';
export { junitReport } from './reporters/junit.js';
export { consoleReport } from './reporters/console.js';
