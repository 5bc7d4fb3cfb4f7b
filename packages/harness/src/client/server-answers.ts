import { ExchangeFailure } from '../exchange.js';

/** What /enroll must hold for the client to go on (JS API v1.1 register request). */
export interface EnrollAnswer {
  appId: string;
  challenge: string;
}

/** One key a sign request offers, with the appId it was registered under. */
export interface SignCandidate {
  keyHandle: string;
  appId: string;
}

/** What /sign must hold (JS API v1.1 sign request). */
export interface SignAnswer {
  appId: string;
  challenge: string;
  candidates: SignCandidate[];
}

/** What the server's /verify answered. */
export interface VerifyAnswer {
  keyHandle: string;
  touch: number;
  counter: number;
}

function shown(value: unknown): string {
  return JSON.stringify(value)?.slice(0, 80) ?? 'nothing';
}

function bad(step: string, message: string): ExchangeFailure {
  return new ExchangeFailure(step, 'BAD_SERVER_JSON', message);
}

function record(value: unknown, step: string, what: string): Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw bad(step, `${what}: expected a JSON object, got ${shown(value)}`);
  }
  return value as Record<string, unknown>;
}

function text(object: Record<string, unknown>, name: string, step: string, what: string): string {
  const value = object[name];
  if (typeof value !== 'string' || value === '') {
    throw bad(step, `${what}.${name}: expected a string, got ${shown(value)}`);
  }
  return value;
}

/**
 * The appId and the U2F_V2 challenge of an /enroll answer. Throws ExchangeFailure
 * BAD_SERVER_JSON (step `enroll`) naming the member that is missing or wrong.
 */
export function readEnrollAnswer(body: unknown): EnrollAnswer {
  const request = record(body, 'enroll', 'register request');
  const appId = text(request, 'appId', 'enroll', 'register request');
  const list = request['registerRequests'];
  const entries = Array.isArray(list)
    ? list.map((entry) => record(entry, 'enroll', 'register request.registerRequests[]'))
    : [];
  const v2 = entries.find((entry) => (entry['version'] ?? 'U2F_V2') === 'U2F_V2');
  if (v2 === undefined) {
    throw bad(
      'enroll',
      `register request.registerRequests: expected a U2F_V2 entry, got ${shown(list)}`,
    );
  }
  return { appId, challenge: text(v2, 'challenge', 'enroll', 'registerRequests[]') };
}

/**
 * The appId, challenge and offered keys of a /sign answer. Throws ExchangeFailure
 * BAD_SERVER_JSON (step `sign`) when a member is missing or no key is offered.
 */
export function readSignAnswer(body: unknown): SignAnswer {
  const request = record(body, 'sign', 'sign request');
  const appId = text(request, 'appId', 'sign', 'sign request');
  const challenge = text(request, 'challenge', 'sign', 'sign request');
  const keys = request['registeredKeys'];
  if (!Array.isArray(keys) || keys.length === 0) {
    const got = shown(keys);
    throw bad('sign', `sign request.registeredKeys: expected a non-empty array, got ${got}`);
  }
  const candidates = keys.map((key) => {
    const entry = record(key, 'sign', 'sign request.registeredKeys[]');
    const keyHandle = text(entry, 'keyHandle', 'sign', 'registeredKeys[]');
    const ownAppId = entry['appId'];
    return { keyHandle, appId: typeof ownAppId === 'string' ? ownAppId : appId };
  });
  return { appId, challenge, candidates };
}

/**
 * A /verify answer, `{"keyHandle", "touch", "counter"}` as python-u2flib-server's example
 * sends it. Throws ExchangeFailure BAD_SERVER_JSON (step `verify`) otherwise.
 */
export function readVerifyAnswer(body: unknown, keyHandle: string): VerifyAnswer {
  const answer = record(body, 'verify', 'verify answer');
  const { counter, touch } = answer;
  if (typeof counter !== 'number' || typeof touch !== 'number') {
    throw bad(
      'verify',
      `verify answer: expected {"keyHandle", "touch", "counter"}, got ${shown(answer)}`,
    );
  }
  const echoed = answer['keyHandle'];
  return { keyHandle: typeof echoed === 'string' ? echoed : keyHandle, touch, counter };
}
