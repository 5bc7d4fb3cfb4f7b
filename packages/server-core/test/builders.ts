import 'reflect-metadata';
import { createPrivateKey, sign, webcrypto, type KeyObject } from 'node:crypto';

import * as x509 from '@peculiar/x509';

import { appParam, registrationSignedBytes, authenticationSignedBytes } from '../src/index.js';
import { b64u, concat, hex, sha256 } from './helpers.js';

x509.cryptoProvider.set(webcrypto as unknown as Crypto);

export const EC = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
export const RSA = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256', publicExponent:
  new Uint8Array([1, 0, 1]), modulusLength: 2048 } as const;

export interface TestCert {
  der: Uint8Array;
  pem: string;
  keys: CryptoKeyPair;
  /** The private key as a node KeyObject (for signing registrations). */
  signer: KeyObject;
}

/** Builds a certificate with @peculiar/x509: self-signed, or issued by `issuer`. */
export async function makeCert(o: {
  subject: string;
  issuer?: TestCert & { subject: string };
  algorithm?: typeof EC | typeof RSA | { name: 'ECDSA'; namedCurve: 'P-256'; hash: 'SHA-1' };
  extensions?: x509.Extension[];
  notBefore?: Date;
  notAfter?: Date;
  serial?: string;
}): Promise<TestCert & { subject: string }> {
  const algorithm = o.algorithm ?? EC;
  const keys = (await webcrypto.subtle.generateKey(algorithm as EcKeyGenParams,
    true, ['sign', 'verify'])) as CryptoKeyPair;
  const common = {
    serialNumber: o.serial ?? '0a0b0c',
    notBefore: o.notBefore ?? new Date('2020-01-01T00:00:00Z'),
    notAfter: o.notAfter ?? new Date('2049-01-01T00:00:00Z'),
    extensions: o.extensions ?? [],
  };
  let cert: x509.X509Certificate;
  if (o.issuer === undefined) {
    cert = await x509.X509CertificateGenerator.createSelfSigned({ ...common, name: o.subject,
      keys, signingAlgorithm: algorithm });
  } else {
    cert = await x509.X509CertificateGenerator.create({ ...common, subject: o.subject,
      issuer: o.issuer.subject, publicKey: keys.publicKey,
      signingKey: o.issuer.keys.privateKey, signingAlgorithm: issuerAlgorithm(o.issuer) });
  }
  const pkcs8 = await webcrypto.subtle.exportKey('pkcs8', keys.privateKey);
  return {
    der: new Uint8Array(cert.rawData),
    pem: cert.toString('pem'),
    keys,
    signer: createPrivateKey({ key: Buffer.from(pkcs8), format: 'der', type: 'pkcs8' }),
    subject: o.subject,
  };
}

function issuerAlgorithm(issuer: TestCert): Algorithm {
  return issuer.keys.privateKey.algorithm.name === 'ECDSA' ? EC : RSA;
}

/** An extension with raw bytes as its value. */
export function rawExtension(oid: string, value: Uint8Array): x509.Extension {
  return new x509.Extension(oid, false, value.slice());
}

export type Signer = (message: Uint8Array) => Uint8Array;

export function nodeSigner(key: KeyObject): Signer {
  return (message) => new Uint8Array(sign('sha256', message, { key, dsaEncoding: 'der' }));
}

export const REGISTER_TYP = 'navigator.id.finishEnrollment';
export const SIGN_TYP = 'navigator.id.getAssertion';

/** A registration response signed by `attest` over the given parts. */
export function buildRegistration(o: {
  appId: string;
  challenge: string;
  origin?: string;
  typ?: string;
  keyHandle: Uint8Array;
  publicKey: Uint8Array;
  certificate: Uint8Array;
  attest: Signer;
  signedAppId?: string;
  clientDataText?: string;
  reserved?: number;
  trailing?: Uint8Array;
}) {
  const clientDataText = o.clientDataText ?? JSON.stringify({ typ: o.typ ?? REGISTER_TYP,
    challenge: o.challenge, origin: o.origin ?? o.appId });
  const message = registrationSignedBytes(appParam(o.signedAppId ?? o.appId),
    sha256(clientDataText), o.keyHandle, o.publicKey);
  const signature = o.attest(message);
  const data = concat(new Uint8Array([o.reserved ?? 0x05]), o.publicKey,
    new Uint8Array([o.keyHandle.length & 0xff]), o.keyHandle, o.certificate, signature,
    o.trailing ?? new Uint8Array());
  return {
    request: { appId: o.appId, registerRequests: [{ version: 'U2F_V2' as const,
      challenge: o.challenge }], registeredKeys: [] },
    response: { registrationData: b64u(data), clientData: b64u(clientDataText),
      version: 'U2F_V2' },
    data,
  };
}

/** A sign response by `user` for the given flags and counter. */
export function buildSignResponse(o: {
  appId: string;
  challenge: string;
  origin?: string;
  typ?: string;
  keyHandle: string;
  flags?: number;
  counter: number;
  user: Signer;
  signedAppId?: string;
  clientDataText?: string;
}) {
  const clientDataText = o.clientDataText ?? JSON.stringify({ typ: o.typ ?? SIGN_TYP,
    challenge: o.challenge, origin: o.origin ?? new URL(o.appId).origin });
  const fc = new Uint8Array(5);
  fc[0] = o.flags ?? 0x01;
  new DataView(fc.buffer).setUint32(1, o.counter);
  const message = authenticationSignedBytes(appParam(o.signedAppId ?? o.appId), fc,
    sha256(clientDataText));
  const signature = o.user(message);
  return {
    keyHandle: o.keyHandle,
    signatureData: b64u(concat(fc, signature)),
    clientData: b64u(clientDataText),
  };
}

export { hex };
