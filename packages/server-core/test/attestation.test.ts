import { X509Certificate } from 'node:crypto';

import { beforeAll, describe, expect, it } from 'vitest';

import {
  completeRegistration, fixYubicoCertificate, parseAttestationCertificate, transportsFromExtension,
  TrustStore, U2fError, verifyAttestation, YUBICO_U2F_ROOT_CA_PEM, zeroSignatureUnusedBits,
  defaultTrustStore,
} from '../src/index.js';
import { buildRegistration, EC, makeCert, nodeSigner, rawExtension, RSA,
  type TestCert } from './builders.js';
import { hex, publicPoint, spec } from './helpers.js';
import vectors from './vectors/u2flib.json' with { type: 'json' };

type Named = TestCert & { subject: string };
const TRANSPORTS = '1.3.6.1.4.1.45724.2.1.1';
const YUBICO_DEVICE = '1.3.6.1.4.1.41482.2';
const APP = 'https://keybench.example';

let root: Named;
let leaf: Named;
let selfSigned: Named;
let rsaRoot: Named;
let rsaLeaf: Named;
let sha1Leaf: Named;
let expired: Named;

beforeAll(async () => {
  root = await makeCert({ subject: 'CN=KeyBench Test Root' });
  leaf = await makeCert({ subject: 'CN=KeyBench Test Key', issuer: root, extensions: [
    rawExtension(TRANSPORTS, hex(vectors.transportsExtension.value)),
    rawExtension(YUBICO_DEVICE, Buffer.from(vectors.yubicoDeviceExtension.value)),
  ] });
  selfSigned = await makeCert({ subject: 'CN=U2F Issuer' });
  rsaRoot = await makeCert({ subject: 'CN=KeyBench RSA Root', algorithm: RSA });
  rsaLeaf = await makeCert({ subject: 'CN=KeyBench RSA-signed Key', issuer: rsaRoot });
  sha1Leaf = await makeCert({ subject: 'CN=KeyBench SHA1',
    algorithm: { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-1' } });
  expired = await makeCert({ subject: 'CN=KeyBench Expired', issuer: root,
    notBefore: new Date('2012-01-01T00:00:00Z'), notAfter: new Date('2013-01-01T00:00:00Z') });
}, 30_000);

function yubicoStyleMetadata(rootPem: string, version = 1) {
  return {
    identifier: 'keybench-test-vendor',
    version,
    vendorInfo: { name: 'KeyBench Test Vendor', url: 'https://vendor.example' },
    trustedCertificates: [rootPem],
    devices: [
      { deviceId: '1.3.6.1.4.1.41482.1.1', displayName: 'Other key', transports: 4,
        selectors: [{ type: 'x509Extension', parameters: { key: '1.3.6.1.4.1.41482.1.1' } }] },
      { deviceId: '1.3.6.1.4.1.41482.1.2', displayName: 'Test NEO', transports: 4,
        selectors: [{ type: 'x509Extension', parameters: { key: YUBICO_DEVICE,
          value: '1.3.6.1.4.1.41482.1.2' } }] },
    ],
  };
}

describe('attestation certificates', () => {
  it('parses with @peculiar/x509 and caches by bytes', () => {
    const a = parseAttestationCertificate(leaf.der);
    const b = parseAttestationCertificate(new Uint8Array(leaf.der));
    expect(a).toBe(b);
    expect(a.subject).toBe('CN=KeyBench Test Key');
    expect(a.issuer).toBe('CN=KeyBench Test Root');
    expect(a.version).toBe(3);
    expect(a.fingerprint).toMatch(/^[0-9a-f]{64}$/);
    expect(a.publicKeyPoint?.length).toBe(65);
  });

  it('reads transports from the FIDO extension (03 02 04 30 → usb, nfc)', () => {
    expect(parseAttestationCertificate(leaf.der).transports).toEqual(['usb', 'nfc']);
    expect(transportsFromExtension(hex('03020430'))).toEqual(['usb', 'nfc']);
    expect(transportsFromExtension(hex('03020780'))).toEqual(['bt']);
    expect(transportsFromExtension(hex('0302043f'))).toEqual(['usb', 'nfc']);
    expect(transportsFromExtension(hex('0302'))).toBeUndefined();
    expect(parseAttestationCertificate(selfSigned.der).transports).toBeNull();
  });

  it('rejects bytes that are not a certificate with BAD_CERTIFICATE', () => {
    expect(() => parseAttestationCertificate(hex('3003020100'))).toThrow(expect.objectContaining({
      code: 'BAD_CERTIFICATE' }));
  });

  it('repairs the unused-bits byte of an RSA-2048 signature (server.md 3.1)', () => {
    const broken = new Uint8Array(rsaLeaf.der);
    broken[broken.length - 257] = 0x01;
    const rootKey = new X509Certificate(Buffer.from(rsaRoot.der)).publicKey;
    expect(verifyNode(broken, rootKey)).toBe(false);
    const repaired = zeroSignatureUnusedBits(broken);
    expect(verifyNode(repaired, rootKey)).toBe(true);
    expect(broken[broken.length - 257]).toBe(0x01);
  });

  it('leaves certificates outside the Yubico list untouched', () => {
    expect(fixYubicoCertificate(rsaLeaf.der)).toBe(rsaLeaf.der);
    expect(parseAttestationCertificate(rsaLeaf.der).fixed).toBe(false);
  });

  it('ships the Yubico U2F root CA', () => {
    const cert = new X509Certificate(YUBICO_U2F_ROOT_CA_PEM);
    expect(cert.subject).toBe('CN=Yubico U2F Root CA Serial 457200631');
    expect(cert.fingerprint256.replaceAll(':', '').toLowerCase())
      .toBe('0fa1386f80eb8713263ae5c1d84deb455bdf08aea50ab05503cefee82b092d42');
    expect(defaultTrustStore().list()[0]?.vendorInfo.name).toBe('Yubico');
  });
});

function verifyNode(der: Uint8Array, key: X509Certificate['publicKey']): boolean {
  try {
    return new X509Certificate(Buffer.from(der)).verify(key);
  } catch {
    return false;
  }
}

describe('verifyAttestation', () => {
  it('trusts a certificate signed by a root in Yubico-format metadata and names the device', () => {
    const store = TrustStore.fromJson(JSON.stringify(yubicoStyleMetadata(root.pem)));
    const verdict = verifyAttestation(leaf.der, { trustStore: store });
    expect(verdict.trusted).toBe(true);
    expect(verdict.vendor?.name).toBe('KeyBench Test Vendor');
    expect(verdict.deviceName).toBe('Test NEO');
    expect(verdict.transports).toEqual(['usb', 'nfc']);
    expect(verdict.reasons).toEqual([]);
  });

  it('trusts through a FIDO metadata statement (base64 DER roots)', () => {
    const statement = { description: 'KeyBench FIDO Key', aaid: 'kb01',
      attestationRootCertificates: [Buffer.from(root.der).toString('base64')],
      protocolFamily: 'u2f' };
    const verdict = verifyAttestation(leaf.der, { trustStore: TrustStore.fromJson(
      { entries: [{ metadataStatement: statement }] }) });
    expect(verdict.trusted).toBe(true);
    expect(verdict.deviceName).toBe('KeyBench FIDO Key');
  });

  it('reports self-signed, unknown issuer and SHA-1, untrusted by the default store', () => {
    expect(verifyAttestation(selfSigned.der).reasons).toEqual(['self-signed']);
    expect(verifyAttestation(leaf.der).reasons).toEqual(['unknown-issuer']);
    expect(verifyAttestation(leaf.der).trusted).toBe(false);
    expect(verifyAttestation(sha1Leaf.der).reasons).toEqual(['self-signed', 'sha1-signature']);
  });

  it('checks dates only when asked', () => {
    const store = TrustStore.fromJson(yubicoStyleMetadata(root.pem));
    expect(verifyAttestation(expired.der, { trustStore: store }).trusted).toBe(true);
    const dated = verifyAttestation(expired.der, { trustStore: store, checkDates: true });
    expect(dated.trusted).toBe(false);
    expect(dated.reasons).toContain('expired');
  });

  it('reports a v1 certificate (no [0] version field)', () => {
    const verdict = verifyAttestation(toVersion1(selfSigned.der));
    expect(verdict.reasons).toContain('v1-certificate');
    expect(parseAttestationCertificate(toVersion1(selfSigned.der)).version).toBe(1);
  });

  it("reports the spec's expired Gnubby pilot certificate as untrusted, not expired", () => {
    const verdict = verifyAttestation(parseRegistrationCert());
    expect(verdict.trusted).toBe(false);
    expect(verdict.reasons).not.toContain('expired');
  });

  it('replaces metadata only with a newer version', () => {
    const store = TrustStore.fromJson(yubicoStyleMetadata(root.pem, 2));
    store.add({ ...yubicoStyleMetadata(root.pem, 2), trustedCertificates: [] });
    expect(verifyAttestation(leaf.der, { trustStore: store }).trusted).toBe(true);
    store.add({ ...yubicoStyleMetadata(root.pem, 3), trustedCertificates: [] });
    expect(verifyAttestation(leaf.der, { trustStore: store }).trusted).toBe(false);
  });

  it('rejects malformed metadata with BAD_METADATA', () => {
    for (const bad of ['{', 7, { identifier: 1, version: 1 },
      { identifier: 'x', version: 1, trustedCertificates: ['nope'] }]) {
      expect(() => TrustStore.fromJson(bad)).toThrow(expect.objectContaining({
        code: 'BAD_METADATA' }));
    }
  });
});

describe('attestation in completeRegistration', () => {
  const userPoint = publicPoint(spec.registration.userPrivateKey);
  const challenge = spec.registration.challenge;

  it('is advisory by default and can be required', () => {
    const { request, response } = buildRegistration({ appId: APP, challenge,
      keyHandle: new Uint8Array(16).fill(1), publicKey: userPoint, certificate: selfSigned.der,
      attest: nodeSigner(selfSigned.signer) });
    const result = completeRegistration(request, response);
    expect(result.attestation.trusted).toBe(false);
    expect(result.attestation.reasons).toEqual(['self-signed']);
    expect(() => completeRegistration(request, response, { requireTrustedAttestation: true }))
      .toThrow(expect.objectContaining({ code: 'ATTESTATION_UNTRUSTED' }));
  });

  it('passes a trusted attestation when required and records transports', () => {
    const store = TrustStore.fromJson(yubicoStyleMetadata(root.pem));
    const { request, response } = buildRegistration({ appId: APP, challenge,
      keyHandle: new Uint8Array(16).fill(1), publicKey: userPoint, certificate: leaf.der,
      attest: nodeSigner(leaf.signer) });
    const result = completeRegistration(request, response, { requireTrustedAttestation: true,
      trustStore: store });
    expect(result.registration.transports).toEqual(['usb', 'nfc']);
    expect(result.attestation.deviceName).toBe('Test NEO');
    expect(result.certificate.fingerprint).toMatch(/^[0-9a-f]{64}$/);
  });

  it('rejects an attestation certificate whose key is not P-256', () => {
    const { request, response } = buildRegistration({ appId: APP, challenge,
      keyHandle: new Uint8Array(16).fill(1), publicKey: userPoint, certificate: rsaRoot.der,
      attest: nodeSigner(leaf.signer) });
    expect(() => completeRegistration(request, response)).toThrow(expect.objectContaining({
      code: 'BAD_CERTIFICATE' }));
    expect(U2fError).toBeDefined();
  });
});

function parseRegistrationCert(): Uint8Array {
  const data = hex(spec.registration.registrationData);
  return data.subarray(67 + 64, 67 + 64 + 320);
}

void EC;

/** DER length bytes for `n`. */
function derLength(n: number): number[] {
  if (n < 0x80) return [n];
  if (n < 0x100) return [0x81, n];
  return [0x82, n >> 8, n & 0xff];
}

/** Splits a DER element into header length and content. */
function element(der: Uint8Array, at = 0): { header: number; length: number } {
  const first = der[at + 1] as number;
  if (first < 0x80) return { header: 2, length: first };
  const count = first & 0x7f;
  let length = 0;
  for (let i = 0; i < count; i++) length = length * 256 + (der[at + 2 + i] as number);
  return { header: 2 + count, length };
}

/**
 * The same certificate with its `[0] INTEGER 2` version removed: a v1 layout (the signature no
 * longer matches, which parsing does not check).
 */
function toVersion1(der: Uint8Array): Uint8Array {
  const outer = element(der);
  const tbsAt = outer.header;
  const tbs = element(der, tbsAt);
  const tbsContent = der.subarray(tbsAt + tbs.header, tbsAt + tbs.header + tbs.length);
  expect(Array.from(tbsContent.subarray(0, 5))).toEqual([0xa0, 3, 2, 1, 2]);
  const newTbsContent = tbsContent.subarray(5);
  const newTbs = [0x30, ...derLength(newTbsContent.length), ...newTbsContent];
  const rest = der.subarray(tbsAt + tbs.header + tbs.length);
  const content = [...newTbs, ...rest];
  return new Uint8Array([0x30, ...derLength(content.length), ...content]);
}
