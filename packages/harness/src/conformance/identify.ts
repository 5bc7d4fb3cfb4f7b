import { U2F_INS } from '@keybench/hid-transport';

import { APP_ID, concat, randomBytes, sha256 } from './context.js';
import { parseAttestationCertificate, parseRegistrationData } from './u2f-imports.js';
import type { Session } from './session.js';

/** Who a key is, from the attestation certificate of one registration. */
export interface KeyIdentity {
  /** SHA-256 of the certificate DER, lower-case hex. */
  readonly fingerprint: string;
  readonly subject: string;
  readonly issuer: string;
}

/** How long the identifying registration may wait for a touch. */
const TOUCH_TIMEOUT_MS = 30_000;

/**
 * Registers once to read the key's attestation certificate, so a stored run can name the key
 * the way `counters` does. Only the layout and the certificate are read here; whether the
 * registration verifies is the suite's business (RG cases). When nobody can touch the key,
 * one attempt is made without waiting. Throws (any error) when the key gives no certificate.
 */
export async function identifyKey(session: Session): Promise<KeyIdentity> {
  const challengeParam = randomBytes(32);
  const appParam = sha256(APP_ID);
  let registrationData: Uint8Array;

  if (session.presence.unavailable('touch') === undefined) {
    await session.presence.touch('a registration that identifies the key');
    registrationData = await session.device.register(challengeParam, appParam, {
      timeoutMs: TOUCH_TIMEOUT_MS,
    });
  } else {
    const data = concat(challengeParam, appParam);
    const reply = await session.device.sendApdu({ ins: U2F_INS.REGISTER, p1: 0x03, data });
    if (reply.sw !== 0x9000) {
      throw new Error(`REGISTER answered 0x${reply.sw.toString(16)} and nobody can touch the key`);
    }
    registrationData = reply.data;
  }

  const certificate = parseAttestationCertificate(
    parseRegistrationData(registrationData).certificate,
  );
  return {
    fingerprint: certificate.fingerprint,
    subject: certificate.subject,
    issuer: certificate.issuer,
  };
}
