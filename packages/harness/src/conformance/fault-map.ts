import type { FaultSpec } from '@keybench/virtual-key';

/**
 * Which cases catch each fault the virtual key can inject: with the fault on, running the
 * listed cases (in catalogue order, nothing else) must fail every one of them. A test
 * (conformance-faults.test.ts) holds the suite to this table, fault by fault.
 */
export interface FaultExpectation {
  /** The fault, with a value where the default would make the run slow. */
  readonly fault: FaultSpec;
  /** Cases run first and not judged (to give the fault something to repeat). */
  readonly after?: readonly string[];
  /** Cases that must fail. Empty only with `undetectable`. */
  readonly mustFail: readonly string[];
  /** Why no black-box case can see it, when none can. */
  readonly undetectable?: string;
}

export const FAULT_EXPECTATIONS: readonly FaultExpectation[] = Object.freeze([
  // After two signatures the counter steps back by 2; ten signatures in a row see it.
  { fault: { name: 'counter-regress' }, mustFail: ['CT-06'] },
  { fault: { name: 'counter-reset-on-restart' }, mustFail: ['CT-07'] },
  { fault: { name: 'counter-stuck' }, mustFail: ['CT-02', 'CT-04'] },
  // Starts at 0xfffffffe: the second signature wraps to 0.
  { fault: { name: 'counter-wrap' }, mustFail: ['CT-02'] },
  {
    fault: { name: 'counter-shared' },
    mustFail: [],
    undetectable:
      'a per-credential key that shares one counter behaves exactly like a global-counter ' +
      'key; only the declared counter scope (metadata) tells them apart',
  },
  { fault: { name: 'bad-attestation-signature' }, mustFail: ['RG-02', 'RG-05'] },
  { fault: { name: 'bad-assertion-signature' }, mustFail: ['AU-01', 'CT-02'] },
  // Signed over the previous request's appParam: zeros after a restart (CT-07), appId B
  // after a request under B (AU-14).
  { fault: { name: 'wrong-app-param' }, mustFail: ['AU-14', 'CT-07'] },
  { fault: { name: 'presence-bit-clear' }, mustFail: ['AU-01'] },
  { fault: { name: 'approve-without-touch' }, mustFail: ['RG-01', 'AU-07', 'UP-01', 'UP-04'] },
  { fault: { name: 'foreign-handle-6700' }, mustFail: ['AU-03', 'AU-04', 'AU-05', 'AU-12'] },
  { fault: { name: 'foreign-handle-6984' }, mustFail: ['AU-03', 'AU-04', 'AU-05', 'AU-12'] },
  { fault: { name: 'short-apdu-only' }, mustFail: ['AP-01', 'RG-02'] },
  { fault: { name: 'wrong-reply-cid' }, mustFail: ['FR-08', 'CMD-01', 'AP-01'] },
  // Both make INIT fail, so the key is unusable: every selected case fails (exit 2).
  { fault: { name: 'wrong-init-nonce' }, mustFail: ['CH-01', 'FR-08'] },
  { fault: { name: 'drop-frames' }, mustFail: ['FR-08', 'AP-01'] },
  { fault: { name: 'duplicate-frames' }, mustFail: ['FR-08', 'FR-11'] },
  { fault: { name: 'reorder-frames' }, mustFail: ['FR-08', 'FR-14'] },
  // The first MSG has no earlier reply to repeat; the ones after it get their predecessor's.
  { fault: { name: 'stale-reply' }, after: ['AP-01'], mustFail: ['AP-05', 'AP-07'] },
  { fault: { name: 'slow-reply', value: 300 }, mustFail: ['TM-01'] },
  { fault: { name: 'busy-ignored' }, mustFail: ['CH-11'] },
  { fault: { name: 'keepalive-flood' }, mustFail: ['TM-09'] },
  { fault: { name: 'der-non-canonical' }, mustFail: ['RG-02', 'AU-01'] },
  { fault: { name: 'signature-trailing-bytes' }, mustFail: ['RG-02', 'AU-01'] },
  { fault: { name: 'attestation-cert-length' }, mustFail: ['RG-02'] },
]);
