import { BoundedCache } from '../engine.js';
import { parseAttestationCertificate, type AttestationCertificate } from './certificate.js';
import { transportsFromMask } from './transports.js';
import { TrustStore, type DeviceInfo, type VendorInfo } from './trust-store.js';

/** Why an attestation is untrusted or weak. */
export const ATTESTATION_REASON = Object.freeze({
  SELF_SIGNED: 'self-signed',
  UNKNOWN_ISSUER: 'unknown-issuer',
  V1_CERTIFICATE: 'v1-certificate',
  SHA1_SIGNATURE: 'sha1-signature',
  EXPIRED: 'expired',
  NOT_YET_VALID: 'not-yet-valid',
} as const);

/** The judgement on an attestation certificate. */
export interface AttestationVerdict {
  /** A root in the trust store signed the certificate (and, when asked, dates are valid). */
  trusted: boolean;
  vendor?: VendorInfo;
  device?: DeviceInfo;
  /** The device's display name, when metadata names it. */
  deviceName?: string;
  /** Union of the certificate extension and the metadata bitmask; null when neither says. */
  transports: string[] | null;
  /** Every finding, e.g. `unknown-issuer`, `self-signed`, `v1-certificate`. */
  reasons: string[];
  /** Identifier of the metadata entry that vouched for the certificate. */
  metadataIdentifier?: string;
}

/** Options of {@link verifyAttestation}. */
export interface AttestationOptions {
  /** Roots and metadata; the shipped Yubico store by default. */
  trustStore?: TrustStore;
  /** Check notBefore/notAfter (off by default: test and soft tokens use expired certs). */
  checkDates?: boolean;
  /** The time for date checks. */
  now?: Date;
}

let defaultStore: TrustStore | undefined;

/** The shared default trust store (Yubico's U2F root), built on first use. */
export function defaultTrustStore(): TrustStore {
  defaultStore ??= TrustStore.withYubico();
  return defaultStore;
}

const verdicts = new WeakMap<TrustStore, BoundedCache<string, AttestationVerdict>>();

/**
 * Judges an attestation certificate against a trust store. Never throws for an untrusted
 * certificate: the verdict says why. Verdicts without date checks are cached per store and
 * certificate; treat them as read-only.
 *
 * @throws U2fError BAD_CERTIFICATE when given bytes that are not a certificate.
 */
export function verifyAttestation(certificate: AttestationCertificate | Uint8Array,
  options: AttestationOptions = {}): AttestationVerdict {
  const cert = certificate instanceof Uint8Array
    ? parseAttestationCertificate(certificate) : certificate;
  const store = options.trustStore ?? defaultTrustStore();
  const checkDates = options.checkDates === true;

  let cache = verdicts.get(store);
  if (cache === undefined) {
    cache = new BoundedCache(512);
    verdicts.set(store, cache);
  }
  const key = `${store.generation}:${cert.fingerprint}`;
  if (!checkDates) {
    const cached = cache.get(key);
    if (cached !== undefined) return cached;
  }

  const verdict = judge(cert, store, checkDates, options.now ?? new Date());
  if (!checkDates) cache.set(key, verdict);
  return verdict;
}

function judge(cert: AttestationCertificate, store: TrustStore, checkDates: boolean,
  now: Date): AttestationVerdict {
  const reasons: string[] = [];
  const anchor = store.resolve(cert);

  if (anchor === undefined) {
    reasons.push(isSelfSigned(cert) ? ATTESTATION_REASON.SELF_SIGNED
      : ATTESTATION_REASON.UNKNOWN_ISSUER);
  }
  if (cert.version < 3) reasons.push(ATTESTATION_REASON.V1_CERTIFICATE);
  if (cert.sha1Signature) reasons.push(ATTESTATION_REASON.SHA1_SIGNATURE);

  let datesOk = true;
  if (checkDates) {
    if (now > cert.notAfter) reasons.push(ATTESTATION_REASON.EXPIRED);
    if (now < cert.notBefore) reasons.push(ATTESTATION_REASON.NOT_YET_VALID);
    datesOk = now <= cert.notAfter && now >= cert.notBefore;
  }

  const verdict: AttestationVerdict = {
    trusted: anchor !== undefined && datesOk,
    transports: cert.transports === null ? null : [...cert.transports],
    reasons,
  };
  if (anchor === undefined) return Object.freeze(verdict);

  verdict.vendor = anchor.entry.vendorInfo;
  verdict.metadataIdentifier = anchor.entry.identifier;
  const device = store.matchDevice(anchor.entry, cert);
  if (device !== undefined) {
    verdict.device = device;
    if (typeof device.displayName === 'string') verdict.deviceName = device.displayName;
    if (typeof device.transports === 'number') {
      const union = new Set([...(verdict.transports ?? []), ...transportsFromMask(
        device.transports)]);
      verdict.transports = [...union];
    }
  }
  return Object.freeze(verdict);
}

function isSelfSigned(cert: AttestationCertificate): boolean {
  if (cert.node.subject !== cert.node.issuer) return false;
  try {
    return cert.node.verify(cert.node.publicKey);
  } catch {
    return false;
  }
}
