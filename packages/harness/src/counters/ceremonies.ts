import { AUTH_P1, U2F_INS } from '@keybench/hid-transport';
import {
  beginAuthentication,
  beginRegistration,
  completeAuthentication,
  completeRegistration,
  websafeDecode,
  type DeviceRegistration,
  type RegistrationCertificate,
} from '@keybench/server-core';

import { buildClientData, CLIENT_DATA_TYP, sha256, websafe } from '../client-data.js';
import { untilTouchedOrFail } from '../exchange.js';
import type { OpenedDevice } from '../open-device.js';
import type { ProbeKind } from './limits.js';

/** Where the ceremonies run: the appId, the origin in clientData, and touch handling. */
export interface CeremonyContext {
  appId: string;
  origin: string;
  timeoutMs: number;
  onTouchNeeded?: (step: string) => void;
}

export interface Registered {
  registration: DeviceRegistration;
  keyHandle: Uint8Array;
  publicKey: Uint8Array;
  certificate: RegistrationCertificate;
}

/** The in-process key runs in `button` mode: the harness presses before each touch step. */
function press(opened: OpenedDevice): void {
  opened.virtualKey?.press();
}

/** A touch-gated device call; no touch in time is a failed step (NO_TOUCH), exit 1. */
function touched<T>(
  context: CeremonyContext,
  step: string,
  work: (touch: { timeoutMs: number; onTouchNeeded: () => void }) => Promise<T>,
): Promise<T> {
  const { timeoutMs } = context;
  return untilTouchedOrFail(
    step,
    timeoutMs,
    (onTouchNeeded) => work({ timeoutMs, onTouchNeeded }),
    () => context.onTouchNeeded?.(step),
  );
}

/**
 * Registers a new credential and verifies it with server-core. Throws U2fError when the
 * answer does not verify, ExchangeFailure NO_TOUCH when no touch came in time, ApduError /
 * TransportError from the device.
 */
export async function register(
  opened: OpenedDevice,
  context: CeremonyContext,
): Promise<Registered> {
  const request = beginRegistration({ appId: context.appId });
  const clientData = buildClientData(
    CLIENT_DATA_TYP.REGISTER,
    request.registerRequests[0]!.challenge,
    context.origin,
  );

  press(opened);
  const registrationData = await touched(context, 'register', (touch) =>
    opened.device.register(sha256(clientData), sha256(context.appId), touch),
  );

  const result = completeRegistration(
    request,
    {
      registrationData: websafe(registrationData),
      clientData: websafe(clientData),
      version: 'U2F_V2',
    },
    { facets: [context.origin] },
  );
  return {
    registration: result.registration,
    keyHandle: websafeDecode(result.registration.keyHandle, 'keyHandle'),
    publicKey: websafeDecode(result.registration.publicKey, 'publicKey'),
    certificate: result.certificate,
  };
}

/** A stored credential as server-core takes it; without `counter`, so no counter policy runs. */
export function registrationOf(credential: {
  appId: string;
  keyHandle: Uint8Array;
  publicKey: Uint8Array;
}): DeviceRegistration {
  return {
    version: 'U2F_V2',
    keyHandle: websafe(credential.keyHandle),
    publicKey: websafe(credential.publicKey),
    appId: credential.appId,
    transports: null,
  };
}

/**
 * Authenticates with presence enforced (P1 0x03) and verifies the signature; returns the
 * counter and flags. Throws U2fError when the signature does not verify, ExchangeFailure
 * NO_TOUCH when no touch came in time, ApduError / TransportError from the device.
 */
export async function sign(
  opened: OpenedDevice,
  context: CeremonyContext,
  registration: DeviceRegistration,
  keyHandle: Uint8Array,
): Promise<{ counter: number; userPresence: number }> {
  const request = beginAuthentication({ appId: context.appId, registrations: [registration] });
  const clientData = buildClientData(CLIENT_DATA_TYP.SIGN, request.challenge, context.origin);

  press(opened);
  const signatureData = await touched(context, 'authenticate', (touch) =>
    opened.device.authenticate(sha256(clientData), sha256(context.appId), keyHandle, {
      ...touch,
      p1: AUTH_P1.ENFORCE_USER_PRESENCE,
    }),
  );

  const result = completeAuthentication(
    request,
    {
      keyHandle: registration.keyHandle,
      signatureData: websafe(signatureData),
      clientData: websafe(clientData),
    },
    [registration],
    { facets: [context.origin] },
  );
  return { counter: result.counter, userPresence: result.userPresence };
}

/** Control byte and key handle of each probe (conformance CT-01, AU-02, AU-04). */
function probeRequest(kind: ProbeKind, keyHandle: Uint8Array) {
  if (kind === 'check-only') return { p1: AUTH_P1.CHECK_ONLY, keyHandle };
  if (kind === 'no-presence') return { p1: AUTH_P1.ENFORCE_USER_PRESENCE, keyHandle };
  // AU-04: Google's U2FTest corrupts byte 0 with ^ 0x55.
  const foreign = keyHandle.slice();
  foreign[0] = foreign[0]! ^ 0x55;
  return { p1: AUTH_P1.ENFORCE_USER_PRESENCE, keyHandle: foreign };
}

/**
 * Sends one AUTHENTICATE that must not produce a signature and returns its status word,
 * without re-sending on 0x6985 (a 9000 here is itself a finding). `no-presence` needs an
 * in-process key whose button the harness holds back.
 */
export async function probe(
  opened: OpenedDevice,
  context: CeremonyContext,
  kind: ProbeKind,
  keyHandle: Uint8Array,
): Promise<number> {
  const { p1, keyHandle: handle } = probeRequest(kind, keyHandle);
  const data = new Uint8Array(65 + handle.length);
  data.set(sha256(`keybench counters probe ${kind}`), 0);
  data.set(sha256(context.appId), 32);
  data[64] = handle.length;
  data.set(handle, 65);

  const reply = await opened.device.sendApdu(
    { ins: U2F_INS.AUTHENTICATE, p1, data },
    { timeoutMs: Math.min(context.timeoutMs, 5_000) },
  );
  return reply.sw;
}
