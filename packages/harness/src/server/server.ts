import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

import type { CounterPolicy } from '@keybench/server-core';

import { createU2fHandler, type RequestLogEntry } from './app.js';
import { SERVER_ERROR } from './http-error.js';
import { ServerStore } from './store.js';

/** Options of {@link startU2fServer}. */
export interface U2fServerOptions {
  /** Address to bind (default 127.0.0.1). */
  host?: string;
  /** Port to bind; 0 picks a free one (default 8081, the python example's). */
  port?: number;
  /** The appId; default the server's own origin, `http://localhost:PORT`. */
  appId?: string;
  /**
   * Extra allowed clientData origins. The appId's origin is always allowed; without any
   * given, `http://localhost:PORT` and `http://127.0.0.1:PORT` are.
   */
  facets?: readonly string[];
  /** SQLite file holding registrations and counters; `:memory:` for a private one. */
  db: string;
  counterPolicy?: CounterPolicy;
  challengeTtlMs?: number;
  bodyLimit?: number;
  /** Longest a client may take to send a whole request, body included (default 30 s). */
  requestTimeoutMs?: number;
  /** Longest a client may take to send the headers (default 10 s). */
  headersTimeoutMs?: number;
  /** Called once per request (the server itself never prints). */
  log?: (entry: RequestLogEntry) => void;
}

/** A listening example server. */
export interface RunningU2fServer {
  readonly host: string;
  readonly port: number;
  /** `http://HOST:PORT` as bound (IPv6 hosts in brackets). */
  readonly url: string;
  readonly appId: string;
  readonly facets: readonly string[];
  readonly store: ServerStore;
  /** Stops accepting, drops open connections and closes the database. */
  close(): Promise<void>;
}

function urlHost(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

function originOf(value: string): string | undefined {
  try {
    const origin = new URL(value).origin;
    return origin === 'null' ? undefined : origin;
  } catch {
    return undefined;
  }
}

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (error: Error) => reject(error);
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve();
    });
  });
}

/** Connection-level failures Node reports before a request exists, as status and code. */
const CLIENT_ERRORS: Readonly<Record<string, readonly [number, string, string]>> = Object.freeze({
  ERR_HTTP_REQUEST_TIMEOUT: [408, 'Request Timeout', SERVER_ERROR.REQUEST_TIMEOUT],
  HPE_HEADER_OVERFLOW: [431, 'Request Header Fields Too Large', SERVER_ERROR.HEADERS_TOO_LARGE],
});

/** The whole HTTP answer to a request Node could not read, with a JSON error body. */
function clientErrorAnswer(error: NodeJS.ErrnoException): string {
  const [status, reason, code] = CLIENT_ERRORS[error.code ?? ''] ?? [
    400,
    'Bad Request',
    SERVER_ERROR.BAD_REQUEST,
  ];
  const detail =
    error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
      ? 'request: not received in time'
      : `request: not valid HTTP/1.1 (${error.code ?? 'parse error'})`;
  const body = JSON.stringify({ error: code, message: detail });
  return (
    `HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json\r\n` +
    `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`
  );
}

/**
 * Opens the store and starts the example U2F server. Throws RangeError for a bad port,
 * the SQLite error when the database cannot be opened, and the listen error (EADDRINUSE,
 * EACCES) when the port cannot be bound; nothing is left open then.
 */
export async function startU2fServer(options: U2fServerOptions): Promise<RunningU2fServer> {
  const host = options.host ?? '127.0.0.1';
  const wanted = options.port ?? 8081;
  if (!Number.isInteger(wanted) || wanted < 0 || wanted > 65535) {
    throw new RangeError(`serve: port must be 0 to 65535, got ${wanted}`);
  }

  const store = new ServerStore(options.db);
  const requestTimeout = options.requestTimeoutMs ?? 30_000;
  const headersTimeout = Math.min(options.headersTimeoutMs ?? 10_000, requestTimeout);
  const server = createServer({
    requestTimeout,
    headersTimeout,
    // How often Node looks for clients past those limits (its default is every 30 s).
    connectionsCheckingInterval: Math.max(50, Math.min(1000, headersTimeout / 4)),
  });
  try {
    await listen(server, wanted, host);
  } catch (error) {
    store.close();
    throw error;
  }

  const port = (server.address() as AddressInfo).port;
  const appId = options.appId ?? `http://localhost:${port}`;
  const own = [originOf(appId)].filter((f): f is string => f !== undefined);
  const given = options.facets ?? [];
  const loopback =
    given.length === 0 ? [`http://localhost:${port}`, `http://127.0.0.1:${port}`] : [];
  const facets = [...new Set([...own, ...given, ...loopback])];

  const handler = createU2fHandler({
    appId,
    facets,
    store,
    ...(options.counterPolicy ? { counterPolicy: options.counterPolicy } : {}),
    ...(options.challengeTtlMs ? { challengeTtlMs: options.challengeTtlMs } : {}),
    ...(options.bodyLimit ? { bodyLimit: options.bodyLimit } : {}),
    ...(options.log ? { log: options.log } : {}),
  });
  // The handler answers every failure itself; should writing the answer fail, drop the socket.
  server.on('request', (req, res) => {
    handler(req, res).catch(() => res.destroy());
  });
  // A malformed request line or header, huge headers, or a client too slow to send its
  // request never reach the handler: answer with a JSON error and hang up.
  server.on('clientError', (error: NodeJS.ErrnoException, socket) => {
    if (!socket.writable || error.code === 'ECONNRESET') {
      socket.destroy();
      return;
    }
    socket.end(clientErrorAnswer(error));
  });

  let closing: Promise<void> | undefined;
  return {
    host,
    port,
    url: `http://${urlHost(host)}:${port}`,
    appId,
    facets,
    store,
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }).finally(() => store.close());
      return closing;
    },
  };
}
