import { X509Certificate as NodeCertificate } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

import { describe, toHex } from '../bytes.js';
import { U2fError } from '../errors.js';
import { LIMITS } from '../limits.js';
import { YUBICO_METADATA } from '../data/yubico-metadata.js';
import { extensionValue, type AttestationCertificate } from './certificate.js';

/** Vendor information from metadata. */
export interface VendorInfo {
  name?: string;
  url?: string;
  imageUrl?: string;
}

/** A selector of the Yubico metadata format. */
export interface DeviceSelector {
  type: string;
  parameters: Record<string, unknown>;
}

/** A device model from metadata. */
export interface DeviceInfo {
  deviceId?: string;
  displayName?: string;
  /** Bitmask BT=1, BLE=2, USB=4, NFC=8. */
  transports?: number;
  selectors?: DeviceSelector[];
  [extra: string]: unknown;
}

/** A trusted root with the metadata that came with it. */
export interface TrustAnchor {
  root: NodeCertificate;
  entry: MetadataEntry;
}

/** One metadata document after loading. */
export interface MetadataEntry {
  identifier: string;
  version: number;
  vendorInfo: VendorInfo;
  devices: DeviceInfo[];
  roots: NodeCertificate[];
  /** `metadata-yubico` or `fido-metadata-statement`. */
  format: string;
}

/**
 * Vendor roots and their metadata, loaded from JSON in the Yubico metadata format
 * (`{identifier, version, vendorInfo, trustedCertificates: [PEM], devices: [...]}`) or as FIDO
 * metadata statements (`{description, attestationRootCertificates: [base64 DER], ...}`, also
 * inside an MDS payload `{entries: [{metadataStatement}]}`).
 */
export class TrustStore {
  private readonly entries = new Map<string, MetadataEntry>();
  private anchors: TrustAnchor[] = [];
  /** Bumped on every change so cached verdicts can be told apart. */
  generation = 0;

  /**
   * A store holding the given documents (objects or JSON text).
   *
   * @throws U2fError BAD_METADATA for a malformed document.
   */
  static fromJson(...documents: unknown[]): TrustStore {
    const store = new TrustStore();
    for (const doc of documents) store.add(doc);
    return store;
  }

  /**
   * A store holding the metadata of JSON files: each path is a `.json` file or a directory
   * whose `*.json` files are all read, in name order (as u2flib's create_resolver does).
   *
   * @throws U2fError BAD_METADATA for a malformed document, its message naming the file; the
   *   file system's error for a path that cannot be read (the caller's configuration).
   */
  static fromFiles(...paths: string[]): TrustStore {
    const store = new TrustStore();
    for (const path of paths) {
      const files = statSync(path).isDirectory()
        ? readdirSync(path).filter((name) => name.endsWith('.json')).sort()
          .map((name) => join(path, name))
        : [path];
      for (const file of files) {
        try {
          store.add(readFileSync(file, 'utf8'));
        } catch (error) {
          if (!(error instanceof U2fError)) throw error;
          throw new U2fError(error.code, `${file}: ${error.message.replace(/^u2f: /, '')}`, error);
        }
      }
    }
    return store;
  }

  /** A store holding Yubico's U2F root and device metadata (shipped in src/data). */
  static withYubico(): TrustStore {
    return TrustStore.fromJson(YUBICO_METADATA);
  }

  /**
   * Adds a metadata document, a list of them, or JSON text. A document whose identifier is
   * already present replaces it only when its version is newer (server.md 3.2).
   *
   * @throws U2fError BAD_METADATA for a malformed document.
   */
  add(document: unknown): void {
    this.addAt(document, 'metadata', 0);
  }

  private addAt(document: unknown, field: string, depth: number): void {
    if (depth > LIMITS.METADATA_DEPTH) {
      throw bad(field, `lists nested at most ${LIMITS.METADATA_DEPTH} deep`, 'deeper nesting');
    }
    let doc = document;
    if (typeof doc === 'string') {
      try {
        doc = JSON.parse(doc);
      } catch {
        throw bad(field, 'JSON text', 'unparseable text');
      }
    }
    if (Array.isArray(doc)) {
      doc.forEach((item, i) => this.addAt(item, `${field}[${i}]`, depth + 1));
      return;
    }
    const record = objectAt(doc, field);

    if (Array.isArray(record['entries'])) {
      record['entries'].forEach((item, i) => {
        // MDS entries without a statement (status reports only) carry no roots.
        const what = `${field}.entries[${i}]`;
        const statement = objectAt(item, what)['metadataStatement'];
        if (statement !== undefined) this.addAt(statement, `${what}.metadataStatement`, depth + 1);
      });
      return;
    }

    const entry = Array.isArray(record['attestationRootCertificates'])
      ? fromFidoStatement(record) : fromYubicoFormat(record);
    const current = this.entries.get(entry.identifier);
    if (current !== undefined && entry.version <= current.version) return;
    this.entries.set(entry.identifier, entry);
    this.reindex();
  }

  /** Every loaded metadata entry. */
  list(): MetadataEntry[] {
    return [...this.entries.values()];
  }

  /**
   * The anchor whose root signed the certificate (issuer name equal to the root's subject,
   * signature verified); undefined when none did. Only the signature is checked here.
   */
  resolve(cert: AttestationCertificate): TrustAnchor | undefined {
    for (const anchor of this.anchors) {
      if (anchor.root.subject !== cert.node.issuer) continue;
      try {
        if (cert.node.verify(anchor.root.publicKey)) return anchor;
      } catch {
        // A root whose key type cannot check this signature is simply not the issuer.
      }
    }
    return undefined;
  }

  /** The metadata device the certificate matches, per the Yubico selector rules. */
  matchDevice(entry: MetadataEntry, cert: AttestationCertificate): DeviceInfo | undefined {
    for (const device of entry.devices) {
      const selectors = device.selectors;
      if (selectors === undefined || selectors.length === 0) return device;
      if (selectors.some((s) => selectorMatches(s, cert))) return device;
    }
    return undefined;
  }

  private reindex(): void {
    this.anchors = [];
    for (const entry of this.entries.values()) {
      for (const root of entry.roots) this.anchors.push({ root, entry });
    }
    this.generation++;
  }
}

function selectorMatches(selector: DeviceSelector, cert: AttestationCertificate): boolean {
  const params = selector.parameters;
  if (selector.type === 'x509Extension') {
    const key = params['key'];
    if (typeof key !== 'string') return false;
    const value = extensionValue(cert, key);
    if (value === undefined) return false;
    const wanted = params['value'];
    if (wanted === undefined) return true;
    if (typeof wanted === 'string') return Buffer.from(value).toString('utf8') === wanted;
    if (wanted !== null && typeof wanted === 'object') {
      const typed = wanted as Record<string, unknown>;
      if (typed['type'] === 'hex' && typeof typed['value'] === 'string') {
        return toHex(value) === typed['value'].toLowerCase();
      }
    }
    return false;
  }
  if (selector.type === 'fingerprint') {
    const list = params['fingerprints'];
    const sha1 = cert.node.fingerprint.replaceAll(':', '').toLowerCase();
    return Array.isArray(list) && list.some((f) => typeof f === 'string' &&
      (f.toLowerCase() === sha1 || f.toLowerCase() === cert.fingerprint));
  }
  return false;
}

function fromYubicoFormat(record: Record<string, unknown>): MetadataEntry {
  const identifier = record['identifier'];
  const version = record['version'];
  if (typeof identifier !== 'string') throw bad('metadata.identifier', 'a string',
    describe(identifier));
  if (typeof version !== 'number' || !Number.isFinite(version)) {
    throw bad('metadata.version', 'a finite number', describe(version));
  }
  const certs = record['trustedCertificates'] ?? [];
  if (!Array.isArray(certs)) throw bad('metadata.trustedCertificates', 'an array',
    describe(certs));
  const devices = record['devices'] ?? [];
  if (!Array.isArray(devices)) throw bad('metadata.devices', 'an array', describe(devices));

  return {
    identifier,
    version,
    vendorInfo: readVendorInfo(record['vendorInfo'] ?? {}),
    devices: devices.map((d, i) => readDevice(d, `metadata.devices[${i}]`)),
    roots: certs.map((pem, i) => loadRoot(pem, `metadata.trustedCertificates[${i}]`)),
    format: 'metadata-yubico',
  };
}

/** A plain object (not an array, not null), else BAD_METADATA naming `field`. */
function objectAt(value: unknown, field: string): Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw bad(field, 'an object', describe(value));
  }
  return value as Record<string, unknown>;
}

/** An optional string member, else BAD_METADATA. */
function optionalText(record: Record<string, unknown>, name: string, field: string):
  string | undefined {
  const value = Object.hasOwn(record, name) ? record[name] : undefined;
  if (value !== undefined && typeof value !== 'string') {
    throw bad(`${field}.${name}`, 'a string', describe(value));
  }
  return value;
}

function readVendorInfo(value: unknown): VendorInfo {
  const record = objectAt(value, 'metadata.vendorInfo');
  const out: VendorInfo = {};
  for (const name of ['name', 'url', 'imageUrl'] as const) {
    const text = optionalText(record, name, 'metadata.vendorInfo');
    if (text !== undefined) out[name] = text;
  }
  return out;
}

/**
 * A device entry checked field by field at load time, so a malformed one fails here with
 * BAD_METADATA instead of as a TypeError inside a later registration.
 */
function readDevice(value: unknown, field: string): DeviceInfo {
  const record = objectAt(value, field);
  optionalText(record, 'deviceId', field);
  optionalText(record, 'displayName', field);
  const transports = record['transports'];
  if (transports !== undefined && (typeof transports !== 'number' ||
    !Number.isInteger(transports) || transports < 0)) {
    throw bad(`${field}.transports`, 'a bitmask (non-negative integer)', describe(transports));
  }
  const selectors = record['selectors'];
  if (selectors === undefined || selectors === null) {
    const device: DeviceInfo = { ...record };
    delete device.selectors;
    return device;
  }
  if (!Array.isArray(selectors)) throw bad(`${field}.selectors`, 'an array', describe(selectors));
  return {
    ...record,
    selectors: selectors.map((s, i) => {
      const what = `${field}.selectors[${i}]`;
      const selector = objectAt(s, what);
      const type = selector['type'];
      if (typeof type !== 'string') throw bad(`${what}.type`, 'a string', describe(type));
      return { type, parameters: objectAt(selector['parameters'] ?? {}, `${what}.parameters`) };
    }),
  };
}

function fromFidoStatement(record: Record<string, unknown>): MetadataEntry {
  const description = typeof record['description'] === 'string' ? record['description'] : '';
  const keyIds = record['attestationCertificateKeyIdentifiers'];
  const identifier = [record['aaguid'], record['aaid'], Array.isArray(keyIds) ? keyIds[0] : '',
    description].find((v) => typeof v === 'string' && v !== '') as string | undefined;
  const roots = (record['attestationRootCertificates'] as unknown[]).map((b64, i) =>
    loadRoot(b64, `metadataStatement.attestationRootCertificates[${i}]`));

  const device: DeviceInfo = { displayName: description };
  if (typeof record['aaguid'] === 'string') device.deviceId = record['aaguid'];
  return {
    identifier: identifier ?? `statement-${roots.map((r) => r.fingerprint256).join(',')}`,
    version: typeof record['authenticatorVersion'] === 'number'
      ? record['authenticatorVersion'] : 0,
    vendorInfo: { name: description },
    devices: [device],
    roots,
    format: 'fido-metadata-statement',
  };
}

function loadRoot(value: unknown, field: string): NodeCertificate {
  if (typeof value !== 'string') throw bad(field, 'a PEM or base64 certificate', describe(value));
  try {
    const pem = value.includes('-----BEGIN') ? value : Buffer.from(value, 'base64');
    return new NodeCertificate(pem);
  } catch {
    throw bad(field, 'a parseable X.509 certificate', 'unparseable bytes');
  }
}

function bad(field: string, expected: string, actual: string): U2fError {
  return new U2fError('BAD_METADATA', `${field}: expected ${expected}, got ${actual}`, {
    field, expected, actual });
}
