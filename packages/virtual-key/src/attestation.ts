import 'reflect-metadata';

import { createPrivateKey, createPublicKey, webcrypto } from 'node:crypto';

import { p256 } from '@noble/curves/nist.js';
import * as x509 from '@peculiar/x509';

import { equalBytes } from './bytes.js';
import { publicKeyOf } from './signature.js';

/** The key's attestation: a P-256 scalar and the DER certificate of its public key. */
export interface Attestation {
  readonly certificate: Uint8Array;
  readonly privateKey: Uint8Array;
}

type SelfSignedParams = Parameters<typeof x509.X509CertificateGenerator.createSelfSigned>[0];

const b64url = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64url');

/** A JWK for a P-256 private scalar (with its public point), as node and WebCrypto take it. */
function privateJwk(privateKey: Uint8Array) {
  const point = publicKeyOf(privateKey);
  return {
    kty: 'EC',
    crv: 'P-256',
    x: b64url(point.subarray(1, 33)),
    y: b64url(point.subarray(33, 65)),
    d: b64url(privateKey),
  };
}

/**
 * Generates a self-signed attestation certificate (X.509 v3, ecdsa-with-SHA256, P-256) for a
 * new random key, valid for 20 years, the way a batch of keys of one model gets one.
 */
export async function generateAttestation(): Promise<Attestation> {
  const privateKey = p256.utils.randomSecretKey();
  const jwk = privateJwk(privateKey);
  const algorithm = { name: 'ECDSA', namedCurve: 'P-256' };
  const keys = {
    privateKey: await webcrypto.subtle.importKey('jwk', jwk, algorithm, true, ['sign']),
    publicKey: await webcrypto.subtle.importKey(
      'jwk',
      { kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y },
      algorithm,
      true,
      ['verify'],
    ),
  } as unknown as SelfSignedParams['keys'];

  const notBefore = new Date();
  const notAfter = new Date(notBefore.getTime() + 20 * 365 * 24 * 3600 * 1000);
  const certificate = await x509.X509CertificateGenerator.createSelfSigned(
    {
      serialNumber: Buffer.from(p256.utils.randomSecretKey().subarray(0, 8)).toString('hex')
        .replace(/^[89a-f]/, '1'),
      name: 'CN=KeyBench Virtual U2F Key, O=KeyBench',
      notBefore,
      notAfter,
      signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' },
      keys,
    },
    webcrypto as unknown as Parameters<typeof x509.X509CertificateGenerator.createSelfSigned>[1],
  );
  return { certificate: new Uint8Array(certificate.rawData), privateKey };
}

/**
 * Loads an attestation certificate and its private key from PEM text (certificate
 * "BEGIN CERTIFICATE"; key PKCS#8 "BEGIN PRIVATE KEY" or SEC1 "BEGIN EC PRIVATE KEY").
 * Throws RangeError when either does not parse, the key is not P-256, or the certificate is
 * not for that key.
 */
export function loadAttestation(certificatePem: string, privateKeyPem: string): Attestation {
  let certificate: x509.X509Certificate;
  try {
    certificate = new x509.X509Certificate(certificatePem);
  } catch (error) {
    throw new RangeError(`attestation: certificate PEM does not parse: ${String(error)}`);
  }

  let jwk: { crv?: string; d?: string };
  try {
    jwk = createPrivateKey(privateKeyPem).export({ format: 'jwk' });
  } catch (error) {
    throw new RangeError(`attestation: private key PEM does not parse: ${String(error)}`);
  }
  if (jwk.crv !== 'P-256' || !jwk.d) {
    throw new RangeError(`attestation: private key must be EC P-256, got ${jwk.crv ?? 'non-EC'}`);
  }
  const privateKey = new Uint8Array(Buffer.from(jwk.d, 'base64url'));

  const certificateKey = createPublicKey({
    key: Buffer.from(certificate.publicKey.rawData),
    format: 'der',
    type: 'spki',
  }).export({ format: 'jwk' });
  const point = publicKeyOf(privateKey);
  const matches =
    certificateKey.crv === 'P-256' &&
    equalBytes(Buffer.from(certificateKey.x ?? '', 'base64url'), point.subarray(1, 33)) &&
    equalBytes(Buffer.from(certificateKey.y ?? '', 'base64url'), point.subarray(33, 65));
  if (!matches) {
    throw new RangeError('attestation: the certificate is not for the given private key');
  }
  return { certificate: new Uint8Array(certificate.rawData), privateKey };
}

/** PEM text of a DER certificate. */
export function certificateToPem(der: Uint8Array): string {
  const body = Buffer.from(der).toString('base64').replace(/(.{64})/g, '$1\n').trimEnd();
  return `-----BEGIN CERTIFICATE-----\n${body}\n-----END CERTIFICATE-----\n`;
}

/** PKCS#8 PEM text of a P-256 private scalar. */
export function privateKeyToPem(privateKey: Uint8Array): string {
  return createPrivateKey({ key: privateJwk(privateKey), format: 'jwk' })
    .export({ type: 'pkcs8', format: 'pem' })
    .toString();
}
