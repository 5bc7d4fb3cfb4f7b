import type { ConformanceCase, ExcludedCase } from './case.js';
import { APDU_CASES } from './cases/apdu.js';
import { AUTHENTICATE_CASES } from './cases/authenticate.js';
import { CHANNEL_CASES } from './cases/channel.js';
import { COUNTER_CASES } from './cases/counter.js';
import { ERROR_CASES } from './cases/error.js';
import { FRAMING_CASES } from './cases/framing.js';
import { HID_COMMAND_CASES } from './cases/hid-command.js';
import { PRESENCE_CASES } from './cases/presence.js';
import { REGISTER_CASES } from './cases/register.js';
import { TIMING_CASES } from './cases/timing.js';

/**
 * Every conformance case, in run order. Ids follow the catalogue (conformance.md §1); cases
 * it lists as uncovered by any public suite (§3) continue the same series (FR-14.., CH-12..,
 * AP-13, RG-07, AU-11.., CT-04.., TM-08..). Ids are stable: never renumber, only append.
 */
export const CATALOGUE: readonly ConformanceCase[] = Object.freeze([
  ...FRAMING_CASES,
  ...CHANNEL_CASES,
  ...HID_COMMAND_CASES,
  ...APDU_CASES,
  ...REGISTER_CASES,
  ...AUTHENTICATE_CASES,
  ...COUNTER_CASES,
  ...PRESENCE_CASES,
  ...ERROR_CASES,
  ...TIMING_CASES,
]);

/** Catalogued cases that do not apply to U2F over HID, with the reason. */
export const EXCLUDED: readonly ExcludedCase[] = Object.freeze([
  {
    id: 'CMD-10',
    title: 'MakeCredential over CBOR, KEEPALIVE, CANCEL',
    source: 'FA-HID2 P-9..P-11; TD test_keep_alive',
    reason: 'CTAP2 only',
  },
  {
    id: 'TM-07',
    title: 'KEEPALIVE and CANCEL timing',
    source: 'FA-HID2 P-9, P-10',
    reason: 'CTAP2 only',
  },
  {
    id: 'AU-10',
    title: 'U2F handles through CTAP2 and back',
    source: 'SK-IOP',
    reason: 'CTAP2 interoperability',
  },
  {
    id: 'AP-12',
    title: 'host-side APDU encoding vectors',
    source: 'PF tests/test_ctap1.py',
    reason: 'tests the host, not the key (hid-transport unit tests cover our encoder)',
  },
  {
    id: 'RG-04',
    title: 'attestation certificate against a metadata statement',
    source: 'FA-REG P-2, P-3',
    reason: 'needs a metadata statement; `keybench check` judges attestation trust',
  },
]);

/** The case with `id`, or undefined. */
export function caseById(id: string): ConformanceCase | undefined {
  return CATALOGUE.find((test) => test.id === id);
}
