import {
  ApduError,
  CtapHidError,
  TransportError,
  type TouchOptions,
} from '@keybench/hid-transport';
import {
  beginAuthentication,
  beginRegistration,
  completeAuthentication,
  completeRegistration,
  U2fError,
  type AttestationVerdict,
  type DeviceRegistration,
} from '@keybench/server-core';

import { buildClientData, CLIENT_DATA_TYP, sha256, websafe } from './client-data.js';
import { DeviceError } from './errors.js';
import { frameTimeoutHint, frameTimeoutOf } from './frame-timeout.js';
import type { OpenedDevice } from './open-device.js';

export interface StepTiming {
  step: string;
  ms: number;
}

/** What one verified registration and authentication found. */
export interface ExchangeResult {
  device: string;
  version: string;
  appId: string;
  keyHandleLength: number;
  attestation: {
    subject: string;
    issuer: string;
    fingerprint: string;
    verdict: AttestationVerdict;
  };
  registration: DeviceRegistration;
  counter: number;
  userPresence: number;
  steps: StepTiming[];
}

/** A step of the exchange that did not verify: the device answered, the answer was wrong. */
export class ExchangeFailure extends Error {
  override readonly name = 'ExchangeFailure';
  readonly step: string;
  readonly code: string;
  constructor(step: string, code: string, message: string, options?: { cause?: unknown }) {
    super(`${step}: ${message}`, options);
    this.step = step;
    this.code = code;
  }
}

export interface ExchangeOptions {
  appId: string;
  /** Origin put in clientData and allowed as the only facet; default: the appId's origin. */
  origin: string;
  /** Whole deadline for each touch-gated command. */
  timeoutMs?: number;
  onTouchNeeded?: (step: string) => void;
  signal?: AbortSignal;
}

async function timed<T>(steps: StepTiming[], step: string, work: () => Promise<T> | T): Promise<T> {
  const start = performance.now();
  try {
    return await work();
  } catch (error) {
    throw classifyStepError(step, error);
  } finally {
    steps.push({ step, ms: performance.now() - start });
  }
}

/**
 * What went wrong in `step`, as the harness reports it: a wrong answer (U2fError, a status
 * word, a CTAPHID error code) becomes an ExchangeFailure naming the step (exit 1); silence or
 * broken framing becomes a DeviceError prefixed with the step (exit 2). Errors already
 * classified pass through; anything else is returned unchanged.
 */
export function classifyStepError(step: string, error: unknown): Error {
  if (error instanceof ExchangeFailure || error instanceof DeviceError) return error;
  if (error instanceof U2fError)
    return new ExchangeFailure(step, error.code, error.message, { cause: error });
  if (error instanceof ApduError) {
    return new ExchangeFailure(step, `SW_${error.swName}`, error.message, { cause: error });
  }
  if (error instanceof CtapHidError && error.code !== undefined) {
    return new ExchangeFailure(step, `CTAPHID_${error.codeName}`, error.message, { cause: error });
  }
  if (error instanceof CtapHidError || error instanceof TransportError) {
    return new DeviceError(`${step}: ${error.message}${frameTimeoutHint(error)}`, {
      cause: error,
    });
  }
  return error instanceof Error ? error : new Error(String(error));
}

/** The code of the failure a touch-gated step gets when no touch came in time. */
export const NO_TOUCH = 'NO_TOUCH';

/**
 * Runs a touch-gated command. When the key asked for a touch (0x6985) and the deadline ran
 * out without one — not a frame timeout, which is a key gone silent — that is a failed step
 * (ExchangeFailure NO_TOUCH: "no touch within N ms"), not an unusable key.
 */
export async function untilTouchedOrFail<T>(
  step: string,
  timeoutMs: number,
  work: (onTouchNeeded: () => void) => Promise<T>,
  onTouchNeeded?: () => void,
): Promise<T> {
  let asked = false;
  try {
    return await work(() => {
      asked = true;
      onTouchNeeded?.();
    });
  } catch (error) {
    const touchTimeout =
      asked &&
      error instanceof TransportError &&
      error.kind === 'timeout' &&
      frameTimeoutOf(error) === undefined;
    if (!touchTimeout) throw error;
    throw new ExchangeFailure(step, NO_TOUCH, `no touch within ${timeoutMs} ms`, {
      cause: error,
    });
  }
}

/**
 * Registers a new credential on the key and authenticates with it, verifying both with
 * server-core exactly as a relying party would. Throws ExchangeFailure when a step does not
 * verify or no touch came in time, DeviceError when the key stops answering.
 */
export async function runExchange(
  opened: OpenedDevice,
  options: ExchangeOptions,
): Promise<ExchangeResult> {
  const { appId, origin } = options;
  const steps: StepTiming[] = [];
  const facets = [origin];
  const timeoutMs = options.timeoutMs ?? 30_000;
  const touched = <T>(step: string, work: (touch: TouchOptions) => Promise<T>) =>
    untilTouchedOrFail(
      step,
      timeoutMs,
      (onTouchNeeded) =>
        work({ timeoutMs, onTouchNeeded, ...(options.signal ? { signal: options.signal } : {}) }),
      () => options.onTouchNeeded?.(step),
    );
  const appParam = sha256(appId);

  const version = await timed(steps, 'version', () => opened.device.version());

  const registerRequest = beginRegistration({ appId });
  const registerChallenge = registerRequest.registerRequests[0]!.challenge;
  const registerClientData = buildClientData(CLIENT_DATA_TYP.REGISTER, registerChallenge, origin);
  const registrationData = await timed(steps, 'register', () =>
    touched('register', (touch) =>
      opened.device.register(sha256(registerClientData), appParam, touch),
    ),
  );

  const registered = await timed(steps, 'verify registration', () =>
    completeRegistration(
      registerRequest,
      {
        registrationData: websafe(registrationData),
        clientData: websafe(registerClientData),
        version: 'U2F_V2',
      },
      { facets },
    ),
  );

  const signRequest = beginAuthentication({ appId, registrations: [registered.registration] });
  const signClientData = buildClientData(CLIENT_DATA_TYP.SIGN, signRequest.challenge, origin);
  const signatureData = await timed(steps, 'authenticate', () =>
    touched('authenticate', (touch) =>
      opened.device.authenticate(sha256(signClientData), appParam, registered.keyHandle, touch),
    ),
  );

  const authenticated = await timed(steps, 'verify authentication', () =>
    completeAuthentication(
      signRequest,
      {
        keyHandle: registered.registration.keyHandle,
        signatureData: websafe(signatureData),
        clientData: websafe(signClientData),
      },
      [registered.registration],
      { facets },
    ),
  );

  return {
    device: opened.description,
    version,
    appId,
    keyHandleLength: registered.keyHandle.length,
    attestation: {
      subject: registered.certificate.subject,
      issuer: registered.certificate.issuer,
      fingerprint: registered.certificate.fingerprint,
      verdict: registered.attestation,
    },
    registration: authenticated.registration,
    counter: authenticated.counter,
    userPresence: authenticated.userPresence,
    steps,
  };
}
