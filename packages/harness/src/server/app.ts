import type { IncomingMessage, ServerResponse } from 'node:http';

import {
  beginAuthentication,
  beginRegistration,
  completeAuthentication,
  completeRegistration,
  keyData,
  makeChallenge,
  MemoryChallengeStore,
  parseClientData,
  U2F_V2,
  U2fError,
  type CounterPolicy,
  type DeviceRegistration,
  type RegisterRequestMessage,
  type RegisterResponse,
  type SignRequestMessage,
  type SignResponse,
} from '@keybench/server-core';

import { HttpError, SERVER_ERROR } from './http-error.js';
import { renderIndexPage } from './page.js';
import { PendingRequests } from './pending.js';
import { DEFAULT_BODY_LIMIT, readParams, type RequestParams } from './request-params.js';
import { DuplicateKeyHandleError, type ServerStore } from './store.js';

/** One handled request, for the log callback: one line per request. */
export interface RequestLogEntry {
  method: string;
  path: string;
  /** The user the request named (absent when it failed before that was read). */
  user?: string;
  status: number;
  /** "ok", or the error code answered. */
  outcome: string;
  ms: number;
  /** The error message for a failed request. */
  message?: string;
}

/** Options of {@link createU2fHandler}. */
export interface U2fAppOptions {
  appId: string;
  /** Allowed clientData origins. */
  facets: readonly string[];
  store: ServerStore;
  counterPolicy?: CounterPolicy;
  /** Lifetime of an issued challenge (default 5 minutes). */
  challengeTtlMs?: number;
  /** Largest body accepted, in bytes (default 64 KiB). */
  bodyLimit?: number;
  log?: (entry: RequestLogEntry) => void;
}

/** What a route answers: JSON, or an HTML page. */
type Reply = { json: unknown } | { html: string };

interface RouteContext {
  url: URL;
  params: RequestParams;
}

/** Endpoints of the python-u2flib-server example, and the methods each accepts. */
const ROUTES = Object.freeze({
  '/': ['GET', 'HEAD'],
  '/enroll': ['GET', 'POST'],
  '/bind': ['POST'],
  '/sign': ['GET', 'POST'],
  '/verify': ['POST'],
} as const satisfies Record<string, readonly string[]>);

type RoutePath = keyof typeof ROUTES;

/** JSON text of `data`, parsed; BAD_JSON when it does not parse. */
function parseData(params: RequestParams): unknown {
  if (params.data === undefined || params.data === '') {
    throw new HttpError(
      400,
      SERVER_ERROR.MISSING_DATA,
      'data: expected the U2F response JSON as form field or query parameter "data", got nothing',
    );
  }
  try {
    return JSON.parse(params.data);
  } catch {
    throw new HttpError(
      400,
      SERVER_ERROR.BAD_JSON,
      `data: expected JSON text, got ${JSON.stringify(params.data.slice(0, 40))}` +
        `${params.data.length > 40 ? '…' : ''}`,
    );
  }
}

/** The challenge inside the response's clientData, or undefined if that cannot be read. */
function peekChallenge(response: unknown): string | undefined {
  if (response === null || typeof response !== 'object') return undefined;
  const clientData = (response as Record<string, unknown>)['clientData'];
  if (typeof clientData !== 'string') return undefined;
  try {
    return parseClientData(clientData).challenge;
  } catch {
    return undefined;
  }
}

function challengeUnknown(username: string, step: 'enroll' | 'sign'): HttpError {
  return new HttpError(
    400,
    SERVER_ERROR.CHALLENGE_UNKNOWN,
    `clientData.challenge: not a challenge /${step} issued to "${username}" ` +
      `(never issued, already used or expired); GET /${step} for a new one`,
  );
}

/**
 * The request handler of the example server: the flow of python-u2flib-server's
 * `examples/u2f_server.py` (enroll, bind, sign, verify), with registrations and counters
 * in `store`, single-use expiring challenges, and every bad input answered with a 4xx and
 * `{"error", "message"}`. Never throws; an unexpected failure is a 500 without details.
 */
export function createU2fHandler(options: U2fAppOptions) {
  const { appId, store } = options;
  const facets = [...options.facets];
  const ttlMs = options.challengeTtlMs ?? 5 * 60_000;
  const challengeStore = new MemoryChallengeStore({ ttlMs });
  const enrollments = new PendingRequests<RegisterRequestMessage>({ ttlMs });
  const signings = new PendingRequests<SignRequestMessage>({ ttlMs });
  const bodyLimit = options.bodyLimit ?? DEFAULT_BODY_LIMIT;
  const counterPolicy = options.counterPolicy ?? 'strict';

  function storedKeys(username: string): DeviceRegistration[] {
    return store.keysOf(username, appId).map((key) => key.registration);
  }

  function enroll({ params }: RouteContext): Reply {
    const request = beginRegistration({
      appId,
      registeredKeys: storedKeys(params.username).map(keyData),
      challengeStore,
    });
    enrollments.add(params.username, request.registerRequests[0]!.challenge, request);
    return { json: request };
  }

  function bind({ params }: RouteContext): Reply {
    const response = parseData(params);
    const challenge = peekChallenge(response);
    const request =
      challenge === undefined ? undefined : enrollments.take(params.username, challenge);

    if (request === undefined) {
      // No request of ours matches: let server-core name what is wrong with the response
      // against a throwaway request; a well-formed one only fails on its challenge.
      try {
        const throwaway = beginRegistration({ appId });
        completeRegistration(throwaway, response as RegisterResponse, { facets });
      } catch (error) {
        if (!(error instanceof U2fError) || error.code !== 'CHALLENGE_MISMATCH') throw error;
      }
      throw challengeUnknown(params.username, 'enroll');
    }

    const result = completeRegistration(request, response as RegisterResponse, {
      facets,
      challengeStore,
    });
    store.addRegistration(params.username, result.registration, result.certificate.subject);
    return { json: true };
  }

  function sign({ params }: RouteContext): Reply {
    const registrations = storedKeys(params.username);
    if (registrations.length === 0) {
      throw new HttpError(
        400,
        SERVER_ERROR.NO_REGISTERED_KEYS,
        `user "${params.username}" has no registered keys; ` +
          'enroll one first (GET /enroll, POST /bind)',
      );
    }
    const request = beginAuthentication({ appId, registrations, challengeStore });
    signings.add(params.username, request.challenge, request);
    return { json: request };
  }

  function verify({ params }: RouteContext): Reply {
    const response = parseData(params);
    const challenge = peekChallenge(response);
    const request = challenge === undefined ? undefined : signings.take(params.username, challenge);

    if (request === undefined) {
      const keys = storedKeys(params.username);
      const throwaway: SignRequestMessage = {
        appId,
        challenge: makeChallenge(),
        registeredKeys:
          keys.length > 0 ? keys.map(keyData) : [{ version: U2F_V2, keyHandle: 'AA' }],
      };
      try {
        const options = { facets, counterPolicy };
        completeAuthentication(throwaway, response as SignResponse, keys, options);
      } catch (error) {
        if (!(error instanceof U2fError) || error.code !== 'CHALLENGE_MISMATCH') throw error;
      }
      throw challengeUnknown(params.username, 'sign');
    }

    const result = store.authenticate(params.username, appId, (keys) =>
      completeAuthentication(request, response as SignResponse, keys, {
        facets,
        challengeStore,
        counterPolicy,
        requireUserPresence: true,
      }),
    );
    return {
      json: {
        keyHandle: result.registration.keyHandle,
        touch: result.userPresence,
        counter: result.counter,
      },
    };
  }

  function index({ params }: RouteContext): Reply {
    const keys = store.keysOf(params.username, appId);
    return { html: renderIndexPage({ username: params.username, appId, facets, keys }) };
  }

  const handlers: Record<RoutePath, (context: RouteContext) => Reply> = {
    '/': index,
    '/enroll': enroll,
    '/bind': bind,
    '/sign': sign,
    '/verify': verify,
  };

  async function route(req: IncomingMessage, entry: RequestLogEntry): Promise<Reply> {
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://server.invalid');
    } catch {
      throw new HttpError(400, SERVER_ERROR.BAD_URL, 'request target: not a valid URL path');
    }
    entry.path = url.pathname;

    const path = url.pathname.replace(/(.)\/+$/, '$1');
    if (!Object.hasOwn(ROUTES, path)) {
      throw new HttpError(
        404,
        SERVER_ERROR.NOT_FOUND,
        `no page ${JSON.stringify(url.pathname.slice(0, 80))}; ` +
          'try /, /enroll, /bind, /sign, /verify',
      );
    }
    const allowed: readonly string[] = ROUTES[path as RoutePath];
    if (!allowed.includes(req.method ?? '')) {
      throw new HttpError(
        405,
        SERVER_ERROR.METHOD_NOT_ALLOWED,
        `${path}: expected ${allowed.join(' or ')}, got ${(req.method ?? '').slice(0, 16)}`,
        { allow: allowed.join(', ') },
      );
    }

    const params = await readParams(req, url, bodyLimit);
    entry.user = params.username;
    return handlers[path as RoutePath]({ url, params });
  }

  return async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const start = performance.now();
    const entry: RequestLogEntry = {
      method: (req.method ?? '?').slice(0, 16),
      path: (req.url ?? '').slice(0, 200),
      status: 200,
      outcome: 'ok',
      ms: 0,
    };

    try {
      const reply = await route(req, entry);
      if ('html' in reply) send(res, req, 200, 'text/html; charset=utf-8', reply.html);
      else send(res, req, 200, 'application/json', JSON.stringify(reply.json));
    } catch (error) {
      const failure = toHttpError(error);
      entry.status = failure.status;
      entry.outcome = failure.code;
      const internal = failure.status === 500 && error instanceof Error;
      entry.message = internal ? error.message : failure.message;
      const body = JSON.stringify({ error: failure.code, message: failure.message });
      send(res, req, failure.status, 'application/json', body, failure.headers);
    }

    entry.ms = performance.now() - start;
    options.log?.(entry);
  };
}

/** Every failure as an HttpError: client input is a 4xx; anything else a bare 500. */
function toHttpError(error: unknown): HttpError {
  if (error instanceof HttpError) return error;
  if (error instanceof U2fError) {
    return new HttpError(400, error.code, error.message.replace(/^u2f: /, ''));
  }
  if (error instanceof DuplicateKeyHandleError) {
    return new HttpError(409, SERVER_ERROR.KEY_HANDLE_TAKEN, error.message);
  }
  return new HttpError(500, SERVER_ERROR.INTERNAL, 'internal error; see the server log');
}

function send(
  res: ServerResponse,
  req: IncomingMessage,
  status: number,
  type: string,
  body: string,
  headers: Readonly<Record<string, string>> = {},
): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const bytes = Buffer.from(body, 'utf8');
  res.writeHead(status, {
    'content-type': type,
    'content-length': bytes.length,
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
    ...(status === 413 ? { connection: 'close' } : {}),
    ...headers,
  });
  res.end(req.method === 'HEAD' ? undefined : bytes);
}
