import { generateKeyPairSync, createPrivateKey, sign, verify, webcrypto,
  type KeyObject } from 'node:crypto';
import { performance } from 'node:perf_hooks';

import { appParam } from './app-param.js';
import { authenticationSignedBytes, registrationSignedBytes } from './verify.js';
import { beginAuthentication, completeAuthentication } from './authentication.js';
import { completeRegistration } from './registration.js';
import { websafeEncode } from './base64url.js';
import { concatBytes } from './bytes.js';
import { x509 } from './attestation/x509.js';
import { nobleEngine } from './noble-engine.js';
import { nodeEngine } from './node-engine.js';
import type { DeviceRegistration, RegisterRequestMessage, SignResponse } from './messages.js';

/** Operations per second measured by {@link runServerCoreBench}. */
export interface ServerCoreBenchResult {
  rawVerifyPerSec: number;
  completeAuthenticationPerSec: number;
  completeRegistrationPerSec: number;
  nobleAuthenticationPerSec: number;
}

const APP_ID = 'https://bench.keybench.test';
const ORIGIN = APP_ID;
const encoder = new TextEncoder();

/**
 * Measures raw node:crypto P-256 verification against completeAuthentication and
 * completeRegistration (node engine) and completeAuthentication on the noble engine. It
 * generates its own keys, certificate and messages first; only verification is timed.
 *
 * @throws RangeError for a non-positive iteration count.
 */
export async function runServerCoreBench(o: { iterations?: number } = {}):
  Promise<ServerCoreBenchResult> {
  const iterations = o.iterations ?? 2000;
  if (!Number.isInteger(iterations) || iterations < 1) {
    throw new RangeError('runServerCoreBench: iterations must be a positive integer');
  }

  const auth = buildAuthentications(Math.min(iterations, 256));

  const rawVerify = (i: number): void => {
    const m = auth.raw[i % auth.raw.length]!;
    if (!verify('sha256', m.message, { key: auth.key, dsaEncoding: 'der' }, m.signature)) {
      throw new Error('bench: raw verify failed');
    }
  };
  const authenticate = (i: number): void => {
    completeAuthentication(auth.request, auth.responses[i % auth.responses.length]!,
      [auth.registration]);
  };

  // The machine is shared: each ceremony runs interleaved with raw verification in small
  // blocks, timed in CPU time, so outside load skews neither the rates nor their ratios.
  // The ceremonies get separate phases so one's garbage is not collected on the other's clock.
  const authTimes = compare(iterations, rawVerify, authenticate);

  // Built only now, so the garbage of building them is not collected during the first phase.
  const registrations = await buildRegistrations(Math.min(iterations, 1000));
  const register = (i: number): void => {
    const r = registrations[i % registrations.length]!;
    completeRegistration(r.request, r.response);
  };
  const regTimes = compare(iterations, rawVerify, register);
  const rawVerifyPerSec = Math.round((2 * iterations) /
    (authTimes.rawSeconds + regTimes.rawSeconds));
  const completeAuthenticationPerSec = Math.round(iterations / authTimes.seconds);
  const completeRegistrationPerSec = Math.round(iterations / regTimes.seconds);

  const nobleIterations = Math.max(10, Math.floor(iterations / 20));
  const nobleAuthenticationPerSec = rate(nobleIterations, (i) => {
    completeAuthentication(auth.request, auth.responses[i % auth.responses.length]!,
      [auth.registration], { engine: nobleEngine });
  });

  return { rawVerifyPerSec, completeAuthenticationPerSec, completeRegistrationPerSec,
    nobleAuthenticationPerSec };
}

/** Runs `raw` and `run` `count` times each, alternating blocks; CPU seconds of each. */
function compare(count: number, raw: (i: number) => void, run: (i: number) => void):
  { rawSeconds: number; seconds: number } {
  // Warm-up: V8 needs a couple of thousand calls before the ceremony code is fully optimised.
  for (let i = 0; i < Math.min(2000, Math.max(300, count)); i++) {
    raw(i);
    run(i);
  }
  const block = 100;
  let rawSeconds = 0;
  let seconds = 0;
  for (let done = 0; done < count; done += block) {
    const n = Math.min(block, count - done);
    rawSeconds += timed(n, done, raw);
    seconds += timed(n, done, run);
  }
  return { rawSeconds, seconds };
}

/**
 * CPU seconds (user + system, this process) taken by `count` runs starting at `from`. CPU
 * time rather than wall time: on a shared machine the process is often descheduled.
 */
function timed(count: number, from: number, run: (i: number) => void): number {
  const start = process.cpuUsage();
  for (let i = from; i < from + count; i++) run(i);
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1e6;
}

function rate(count: number, run: (i: number) => void): number {
  for (let i = 0; i < Math.min(20, count); i++) run(i);
  const start = performance.now();
  for (let i = 0; i < count; i++) run(i);
  const seconds = (performance.now() - start) / 1000;
  return Math.round(count / seconds);
}

function point(key: KeyObject): Uint8Array {
  const spki = key.export({ format: 'der', type: 'spki' });
  return new Uint8Array(spki.subarray(spki.length - 65));
}

function clientData(typ: string, challenge: string): string {
  return websafeEncode(encoder.encode(JSON.stringify({ typ, challenge, origin: ORIGIN })));
}

function buildAuthentications(count: number) {
  const user = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const keyHandle = websafeEncode(new Uint8Array(64).fill(7));
  const registration: DeviceRegistration = { version: 'U2F_V2', keyHandle,
    publicKey: websafeEncode(point(user.publicKey)), appId: APP_ID, transports: null };
  const request = beginAuthentication({ appId: APP_ID, registrations: [registration] });
  const cd = clientData('navigator.id.getAssertion', request.challenge);
  const challengeParam = nodeEngine.sha256(Buffer.from(cd, 'base64url'));

  const raw: { message: Uint8Array; signature: Uint8Array }[] = [];
  const responses: SignResponse[] = [];
  for (let i = 0; i < count; i++) {
    const flagsAndCounter = new Uint8Array([0x01, 0, 0, (i >> 8) & 0xff, i & 0xff]);
    const message = authenticationSignedBytes(appParam(APP_ID), flagsAndCounter, challengeParam);
    const signature = sign('sha256', message, { key: user.privateKey, dsaEncoding: 'der' });
    raw.push({ message, signature });
    responses.push({ keyHandle, clientData: cd,
      signatureData: websafeEncode(concatBytes(flagsAndCounter, signature)) });
  }
  return { key: user.publicKey, registration, request, responses, raw };
}

async function buildRegistrations(count: number) {
  const subtle = webcrypto.subtle;
  const algorithm = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
  const keys = await subtle.generateKey(algorithm, true, ['sign', 'verify']);
  const cert = await x509().X509CertificateGenerator.createSelfSigned({
    serialNumber: '01',
    name: 'CN=KeyBench bench attestation',
    notBefore: new Date('2026-01-01T00:00:00Z'),
    notAfter: new Date('2036-01-01T00:00:00Z'),
    signingAlgorithm: algorithm,
    keys,
  }, webcrypto as unknown as Parameters<
    ReturnType<typeof x509>['X509CertificateGenerator']['createSelfSigned']>[1]);
  const der = new Uint8Array(cert.rawData);
  const pkcs8 = await subtle.exportKey('pkcs8', keys.privateKey);
  const attestationKey = createPrivateKey({ key: Buffer.from(pkcs8), format: 'der',
    type: 'pkcs8' });

  const out: { request: RegisterRequestMessage; response: { registrationData: string;
    clientData: string } }[] = [];
  for (let i = 0; i < count; i++) {
    const user = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    const challenge = websafeEncode(new Uint8Array(32).fill(i & 0xff));
    const request: RegisterRequestMessage = { appId: APP_ID,
      registerRequests: [{ version: 'U2F_V2', challenge }], registeredKeys: [] };
    const cd = clientData('navigator.id.finishEnrollment', challenge);
    const keyHandle = new Uint8Array(64).fill(i & 0xff);
    const publicKey = point(user.publicKey);
    const message = registrationSignedBytes(appParam(APP_ID),
      nodeEngine.sha256(Buffer.from(cd, 'base64url')), keyHandle, publicKey);
    const signature = sign('sha256', message, { key: attestationKey, dsaEncoding: 'der' });
    const data = concatBytes(new Uint8Array([0x05]), publicKey, new Uint8Array([64]), keyHandle,
      der, signature);
    out.push({ request, response: { registrationData: websafeEncode(data), clientData: cd } });
  }
  return out;
}
