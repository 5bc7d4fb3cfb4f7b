import { DeviceError } from '../errors.js';
import { ExchangeFailure } from '../exchange.js';

/** One HTTP call the client made, for the step report. */
export interface HttpCall {
  method: 'GET' | 'POST';
  url: string;
  status: number;
  /** The parsed JSON answer. */
  body: unknown;
}

/** Most bytes of an answer quoted in an error. */
const QUOTE = 200;

/** Largest answer read; the flow's biggest (a sign request with many keys) is a few KiB. */
export const ANSWER_LIMIT = 1024 * 1024;

/** The answer had more than ANSWER_LIMIT bytes: reading stopped there. */
class AnswerTooLarge extends Error {}

/** The body as text, reading no more than `limit` bytes. Throws AnswerTooLarge past it. */
async function readLimited(response: Response, limit: number): Promise<string> {
  if (!response.body) return '';
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
    size += chunk.length;
    if (size > limit) {
      await response.body.cancel().catch(() => undefined);
      throw new AnswerTooLarge(`more than ${limit} bytes`);
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function quote(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return JSON.stringify(flat.length > QUOTE ? `${flat.slice(0, QUOTE)}…` : flat);
}

/** The `{"error", "message"}` of a KeyBench answer, else the start of the text. */
function describeRejection(status: number, text: string): { code: string; message: string } {
  try {
    const parsed = JSON.parse(text) as unknown;
    if (parsed !== null && typeof parsed === 'object') {
      const { error, message } = parsed as Record<string, unknown>;
      if (typeof error === 'string') {
        const text = typeof message === 'string' ? message : '';
        return { code: error, message: `HTTP ${status} ${error}: ${text}`.trimEnd() };
      }
    }
  } catch {
    // Not JSON (python's example answers a traceback as text): quote it.
  }
  return { code: `HTTP_${status}`, message: `HTTP ${status}: ${quote(text)}` };
}

/**
 * One request to the server for `step`, answered with JSON. Redirects are not followed (a
 * server of this flow has no reason to send one, and it could point anywhere). Throws
 * DeviceError when the server cannot be reached or does not answer in `timeoutMs` (exit 2),
 * ExchangeFailure when it answers non-2xx, a redirect, more than ANSWER_LIMIT bytes or text
 * that is not JSON (exit 1).
 */
export async function callServer(
  step: string,
  method: 'GET' | 'POST',
  url: URL,
  form: Record<string, string> | undefined,
  timeoutMs: number,
): Promise<HttpCall> {
  let response: Response;
  let text: string;
  try {
    const init: RequestInit = {
      method,
      headers: { accept: 'application/json' },
      redirect: 'manual',
      signal: AbortSignal.timeout(timeoutMs),
    };
    if (form !== undefined) init.body = new URLSearchParams(form);
    response = await fetch(url, init);
    text = await readLimited(response, ANSWER_LIMIT);
  } catch (error) {
    if (error instanceof AnswerTooLarge) {
      throw new ExchangeFailure(
        step,
        'SERVER_ANSWER_TOO_LARGE',
        `${method} ${url.pathname}: the answer has ${error.message}; stopped reading`,
      );
    }
    const cause = error instanceof Error && error.cause instanceof Error ? error.cause : error;
    const reason = cause instanceof Error ? cause.message : String(cause);
    const what =
      error instanceof Error && error.name === 'TimeoutError'
        ? `no answer within ${timeoutMs} ms`
        : reason;
    throw new DeviceError(`${step}: server ${url.origin} unreachable: ${what}`, { cause: error });
  }

  if (response.status >= 300 && response.status <= 399) {
    const location = response.headers.get('location') ?? 'nowhere';
    throw new ExchangeFailure(
      step,
      `HTTP_${response.status}`,
      `${method} ${url.pathname}: HTTP ${response.status} redirect to ` +
        `${quote(new URL(location, url).href).slice(1, -1)}, not followed`,
    );
  }
  if (response.status < 200 || response.status > 299) {
    const { code, message } = describeRejection(response.status, text);
    throw new ExchangeFailure(step, code, `${method} ${url.pathname}: ${message}`);
  }
  try {
    return { method, url: url.href, status: response.status, body: JSON.parse(text) as unknown };
  } catch {
    throw new ExchangeFailure(
      step,
      'BAD_SERVER_JSON',
      `${method} ${url.pathname}: HTTP ${response.status} but the answer is not JSON: ` +
        quote(text),
    );
  }
}
