export { CounterJudge, type CounterScope, type CounterSummary, type ProbeResult } from './judge.js';
export { COUNTER, PROBE_SW, type ProbeKind } from './limits.js';
export {
  runCountersOnDevice,
  type CountersOptions,
  type DeviceCountersOutcome,
} from './run-counters.js';
