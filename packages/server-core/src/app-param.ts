import { BoundedCache, type CryptoEngine } from './engine.js';
import { nodeEngine } from './node-engine.js';

const encoder = new TextEncoder();
const cache = new BoundedCache<string, Uint8Array>(1024);

/**
 * The application parameter: SHA-256 of the appId's UTF-8 bytes (Raw Message Formats §4).
 * Deliberately not IDNA (u2flib's pitfall, server.md 2.5). Returns a fresh copy.
 *
 * @throws TypeError if `appId` is not a string.
 */
export function appParam(appId: string, engine: CryptoEngine = nodeEngine): Uint8Array {
  return new Uint8Array(cachedAppParam(appId, engine));
}

/** {@link appParam} from a per-appId cache, for the verifiers; never hand it out. */
export function cachedAppParam(appId: string, engine: CryptoEngine): Uint8Array {
  if (typeof appId !== 'string') throw new TypeError(`appParam: appId must be a string`);
  const key = `${engine.name}\u0000${appId}`;
  const cached = cache.get(key);
  if (cached !== undefined) return cached;
  const digest = engine.sha256(encoder.encode(appId));
  cache.set(key, digest);
  return digest;
}
