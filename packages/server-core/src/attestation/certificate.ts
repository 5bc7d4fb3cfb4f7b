import { X509Certificate as NodeCertificate } from 'node:crypto';

import { ByteReader, toHex } from '../bytes.js';
import { DER_TAG, expectTag, readDerElement } from '../der.js';
import { BoundedCache } from '../engine.js';
import { U2fError } from '../errors.js';
import { nodeEngine } from '../node-engine.js';
import { TRANSPORTS_EXT_OID, transportsFromExtension } from './transports.js';
import { x509, type X509 } from './x509.js';
import { fixYubicoCertificate } from './yubico-fix.js';

/** DER of the P-256 SubjectPublicKeyInfo header that precedes the 65-byte point. */
const P256_SPKI_PREFIX = '3059301306072a8648ce3d020106082a8648ce3d030107034200';

/** Signature algorithm OIDs (DER content bytes, hex) that use SHA-1. */
const SHA1_SIGNATURE_OIDS: ReadonlySet<string> = Object.freeze(new Set([
  '2a864886f70d010105', // sha1WithRSAEncryption 1.2.840.113549.1.1.5
  '2a8648ce3d0401', // ecdsa-with-SHA1 1.2.840.10045.4.1
]));

/** An attestation certificate, parsed once and shared by every registration that sends it. */
export interface AttestationCertificate {
  /** The DER after the Yubico repair (server.md 3.1); equal to `received` for most keys. */
  der: Uint8Array;
  /** The DER exactly as it came in the registration data. */
  received: Uint8Array;
  /** True when the Yubico repair changed the bytes. */
  fixed: boolean;
  subject: string;
  issuer: string;
  serialNumber: string;
  /** SHA-256 of `der`, lower-case hex. */
  fingerprint: string;
  notBefore: Date;
  notAfter: Date;
  /** X.509 version, 1..3. */
  version: number;
  /** True when the certificate is signed with SHA-1. */
  sha1Signature: boolean;
  /** The certificate key as a 65-byte P-256 point; undefined for any other key type. */
  publicKeyPoint?: Uint8Array;
  /** Transports from the FIDO extension 1.3.6.1.4.1.45724.2.1.1; null without it. */
  transports: string[] | null;
  /** The @peculiar/x509 object, for extensions and names. */
  x509: X509.X509Certificate;
  /** Node's view of the same certificate, for signature checks against roots. */
  node: NodeCertificate;
}

/** Most parsed certificates kept (each at most LIMITS.CERTIFICATE_BYTES). */
export const CERTIFICATE_CACHE_LIMIT = 512;
const cache = new BoundedCache<string, AttestationCertificate>(CERTIFICATE_CACHE_LIMIT);

/** Entries in the certificate cache (for tests of its bound). */
export function certificateCacheSize(): number {
  return cache.size;
}

/**
 * Parses an attestation certificate with @peculiar/x509, after applying the Yubico repair.
 * Results are cached by the received bytes (a batch of keys of one model shares one
 * certificate); treat them as read-only.
 *
 * @throws U2fError BAD_CERTIFICATE when the bytes are not an X.509 certificate.
 */
export function parseAttestationCertificate(received: Uint8Array): AttestationCertificate {
  const id = Buffer.from(received.buffer, received.byteOffset, received.byteLength)
    .toString('base64');
  const cached = cache.get(id);
  if (cached !== undefined) return cached;

  const copy = new Uint8Array(received);
  const der = fixYubicoCertificate(copy);
  const parsed = parse(der);
  cache.set(id, Object.freeze({ ...parsed, received: copy, fixed: der !== copy }));
  return cache.get(id) as AttestationCertificate;
}

function parse(der: Uint8Array): Omit<AttestationCertificate, 'received' | 'fixed'> {
  let cert: X509.X509Certificate;
  let node: NodeCertificate;
  let layout: { version: number; signatureOid: string };
  try {
    layout = readLayout(der);
    cert = new (x509().X509Certificate)(der.slice());
    node = new NodeCertificate(der);
  } catch (error) {
    if (error instanceof U2fError) throw error;
    throw new U2fError('BAD_CERTIFICATE', `certificate: not a parseable X.509 certificate ` +
      `(${der.length} bytes)`, { field: 'certificate', expected: 'X.509 DER',
      actual: `${der.length} bytes` });
  }

  const spki = new Uint8Array(cert.publicKey.rawData);
  const out: Omit<AttestationCertificate, 'received' | 'fixed'> = {
    der,
    subject: cert.subject,
    issuer: cert.issuer,
    serialNumber: cert.serialNumber,
    fingerprint: toHex(nodeEngine.sha256(der)),
    notBefore: cert.notBefore,
    notAfter: cert.notAfter,
    version: layout.version,
    sha1Signature: SHA1_SIGNATURE_OIDS.has(layout.signatureOid),
    transports: readTransports(cert),
    x509: cert,
    node,
  };
  if (spki.length === 91 && toHex(spki.subarray(0, 26)) === P256_SPKI_PREFIX) {
    out.publicKeyPoint = spki.slice(26);
  }
  return out;
}

function readTransports(cert: X509.X509Certificate): string[] | null {
  const ext = cert.getExtension(TRANSPORTS_EXT_OID);
  if (ext === null) return null;
  return transportsFromExtension(new Uint8Array(ext.value)) ?? null;
}

/**
 * Reads what @peculiar/x509 does not expose: the version (absent `[0]` means v1) and the
 * outer signature algorithm OID.
 */
function readLayout(der: Uint8Array): { version: number; signatureOid: string } {
  const code = 'BAD_CERTIFICATE';
  const outer = new ByteReader(der, 'certificate', code);
  const certificate = readDerElement(outer, 'certificate', code);
  expectTag(certificate, DER_TAG.SEQUENCE, 'certificate', code);
  outer.end('certificate');

  const parts = new ByteReader(certificate.content, 'certificate', code);
  const tbs = readDerElement(parts, 'tbsCertificate', code);
  expectTag(tbs, DER_TAG.SEQUENCE, 'tbsCertificate', code);
  const algorithm = readDerElement(parts, 'signatureAlgorithm', code);
  const oid = readDerElement(new ByteReader(algorithm.content, 'certificate', code),
    'signatureAlgorithm.oid', code);

  let version = 1;
  const fields = new ByteReader(tbs.content, 'certificate', code);
  if (fields.remaining > 0 && fields.peek('version') === DER_TAG.CONTEXT_0) {
    const wrapper = readDerElement(fields, 'version', code);
    const int = readDerElement(new ByteReader(wrapper.content, 'certificate', code),
      'version', code);
    version = (int.content[int.content.length - 1] ?? 0) + 1;
  }
  return { version, signatureOid: toHex(oid.content) };
}

/** Raw value of an extension (the OCTET STRING content), or undefined when absent. */
export function extensionValue(cert: AttestationCertificate, oid: string): Uint8Array | undefined {
  const ext = cert.x509.getExtension(oid);
  return ext === null ? undefined : new Uint8Array(ext.value);
}
