export * from './client-data.js';
export * from './device-spec.js';
export * from './errors.js';
export * from './exchange.js';
export * from './open-device.js';
export * from './history/index.js';
export * from './server/index.js';
export * from './client/index.js';
export {
  CATALOGUE,
  FAULT_EXPECTATIONS,
  runConformance,
  selectCases,
  type CaseResult,
  type RunOptions,
  type RunReport,
} from './conformance/index.js';
