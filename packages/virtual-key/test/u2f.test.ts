import { X509Certificate } from 'node:crypto';

import { afterEach, describe, expect, it } from 'vitest';

import { toHex } from '@keybench/hid-transport';

import { Bench } from './host.js';
import {
  apdu,
  appParam,
  authenticateApdu,
  otherAppParam,
  parseRegistration,
  parseSignature,
  registerApdu,
  statusOf,
  verifyAssertion,
  verifyRegistration,
} from './u2f-helpers.js';

let bench: Bench;
afterEach(async () => {
  await bench?.close();
});

async function open(options: Parameters<typeof Bench.create>[0] = {}) {
  bench = await Bench.create(options);
  const cid = bench.allocate();
  return { cid, send: (bytes: Uint8Array | number[]) => bench.apdu(cid, bytes) };
}

describe('VERSION and APDU rules', () => {
  it('answers U2F_V2 to all four VERSION encodings (AP-01..AP-04)', async () => {
    const { send } = await open();
    for (const form of [
      [0, 3, 0, 0, 0, 0, 0],
      [0, 3, 0, 0, 0, 0, 0, 0, 0],
      [0, 3, 0, 0],
      [0, 3, 0, 0, 0],
    ]) {
      expect(toHex(send(form))).toBe('5532465f56329000');
    }
  });

  it('answers 6700 without data to VERSION with data (AP-05)', async () => {
    const { send } = await open();
    expect(toHex(send([0, 3, 0, 0, 0, 0, 3, 0x61, 0x62, 0x63, 0, 0]))).toBe('6700');
  });

  it('answers 6D00 to an unknown INS (AP-06)', async () => {
    const { send } = await open();
    expect(toHex(send([0, 0, 0, 0, 0, 0, 0]))).toBe('6d00');
    expect(toHex(send([0, 0x40, 0, 0, 0, 0, 0, 0, 0]))).toBe('6d00');
  });

  it('answers 6E00 to CLA ≠ 0, before judging the length (AP-07)', async () => {
    const { send } = await open();
    expect(toHex(send([1, 3, 0, 0, 0, 0, 3, 0x61, 0x62, 0x63, 0, 0]))).toBe('6e00');
    expect(toHex(send([0x80, 3]))).toBe('6e00');
  });

  it('answers 6700 to REGISTER with a wrong Lc or short body (AP-08, RG-03)', async () => {
    const { send } = await open();
    const body = new Array(64).fill(0x11);
    expect(toHex(send([0, 1, 0, 0, 0, 0, 0xff, ...body]))).toBe('6700');
    expect(toHex(send([0, 1, 0, 0, 0, 0, 3, 0x61, 0x62, 0x63, 0, 0]))).toBe('6700');
    expect(toHex(send([0, 1, 3]))).toBe('6700');
  });

  it('accepts a short-form REGISTER (AP-09) and AUTHENTICATE with 0-2 Le bytes (AP-10)',
    async () => {
      const { send } = await open();
      const short = [0, 1, 0, 0, 64, ...new Uint8Array(32).fill(0x42), ...appParam];
      const reg = parseRegistration(send(short));
      expect(verifyRegistration(reg)).toBe(true);

      const auth = authenticateApdu(0x03, reg.keyHandle);
      const noLe = auth.subarray(0, auth.length - 2);
      expect(statusOf(send(noLe))).toBe('9000');
      expect(statusOf(send([...noLe, 0]))).toBe('9000');
      expect(statusOf(send(auth))).toBe('9000');
      expect(toHex(send([...auth, 0]))).toBe('6700');
    });

  it('answers 6700 to an AUTHENTICATE whose key handle length disagrees with Lc', async () => {
    const { send } = await open();
    const data = [...new Uint8Array(64), 10, 1, 2, 3];
    expect(toHex(send(apdu(0x02, 0x03, Uint8Array.from(data))))).toBe('6700');
  });
});

describe('REGISTER', () => {
  it('returns 05 | point | L | key handle | certificate | signature, verifiable (RG-02)',
    async () => {
      const { send } = await open();
      const response = send(registerApdu());
      expect(statusOf(response)).toBe('9000');
      const reg = parseRegistration(response);
      expect(reg.reserved).toBe(0x05);
      expect(reg.publicKey[0]).toBe(0x04);
      expect(reg.keyHandle.length).toBe(64);
      expect(reg.certificate.length).toBeGreaterThanOrEqual(128);
      expect(toHex(reg.certificate.subarray(0, 2))).toBe('3082');
      expect(verifyRegistration(reg)).toBe(true);
      expect(toHex(reg.certificate)).toBe(toHex(bench.key.attestationCertificate));
    });

  it('uses a self-signed v3 ecdsa-with-SHA256 P-256 attestation certificate', async () => {
    await open();
    const certificate = new X509Certificate(Buffer.from(bench.key.attestationCertificate));
    expect(certificate.verify(certificate.publicKey)).toBe(true);
    expect(certificate.publicKey.asymmetricKeyDetails?.namedCurve).toBe('prime256v1');
    expect(certificate.toLegacyObject().asn1Curve).toBe('prime256v1');
    // X.509 v3: [0] EXPLICIT version INTEGER 2 right inside the TBSCertificate.
    const der = bench.key.attestationCertificate;
    expect(toHex(der.subarray(8, 13))).toBe('a003020102');
    // signatureAlgorithm ecdsa-with-SHA256 (1.2.840.10045.4.3.2).
    expect(toHex(der)).toContain('06082a8648ce3d040302');
  });

  it('ignores P1 and gives distinct key handles for the same request (RG-05, RG-06)',
    async () => {
      const { send } = await open();
      const handles = new Set<string>();
      for (const p1 of [0x00, 0x03, 0x80, 0xff, 0x03]) {
        const request = registerApdu();
        request[2] = p1;
        const reg = parseRegistration(send(request));
        expect(verifyRegistration(reg)).toBe(true);
        handles.add(toHex(reg.keyHandle));
      }
      expect(handles.size).toBe(5);
    });

  it('makes key handles of the configured length, 1 and 255 included', async () => {
    for (const keyHandleLength of [1, 17, 255]) {
      const { send } = await open({ keyHandleLength });
      const reg = parseRegistration(send(registerApdu()));
      expect(reg.keyHandle.length).toBe(keyHandleLength);
      const response = send(authenticateApdu(0x03, reg.keyHandle));
      expect(verifyAssertion(reg.publicKey, response)).toBe(true);
      await bench.close();
    }
  });
});

describe('AUTHENTICATE', () => {
  async function registered(options: Parameters<typeof Bench.create>[0] = {}) {
    const session = await open(options);
    if (options.presence === 'button') bench.key.press();
    const reg = parseRegistration(session.send(registerApdu()));
    return { ...session, reg };
  }

  it('P1 03 signs appParam | 01 | counter | challengeParam (AU-01)', async () => {
    const { send, reg } = await registered();
    const response = send(authenticateApdu(0x03, reg.keyHandle));
    expect(statusOf(response)).toBe('9000');
    expect(toHex(response.subarray(0, 5))).toBe('0100000001');
    expect(verifyAssertion(reg.publicKey, response)).toBe(true);
  });

  it('P1 07 answers 6985 with no data for its own handle, 6A80 for a foreign one (AU-02, AU-03)',
    async () => {
      const { send, reg } = await registered();
      expect(toHex(send(authenticateApdu(0x07, reg.keyHandle)))).toBe('6985');
      const foreign = Uint8Array.from(reg.keyHandle);
      foreign[0]! ^= 0x40;
      expect(toHex(send(authenticateApdu(0x07, foreign)))).toBe('6a80');
      expect(bench.key.counter).toBe(0);
    });

  it('answers 6A80 to tampered handles, every bit flipped in turn (AU-04)', async () => {
    const { send, reg } = await registered({ presence: 'button' });
    for (let bit = 0; bit < reg.keyHandle.length * 8; bit += 7) {
      const tampered = Uint8Array.from(reg.keyHandle);
      tampered[bit >> 3]! ^= 1 << (bit & 7);
      expect(toHex(send(authenticateApdu(0x03, tampered)))).toBe('6a80');
    }
    expect(toHex(send(authenticateApdu(0x03, new Uint8Array(64).fill(0x55))))).toBe('6a80');
  });

  it('answers 6A80 to the right handle under another appId (AU-05)', async () => {
    const { send, reg } = await registered();
    expect(toHex(send(authenticateApdu(0x03, reg.keyHandle, otherAppParam)))).toBe('6a80');
  });

  it('answers 6A80 to a truncated handle; 6700 in the google profile (AU-06)', async () => {
    const { send, reg } = await registered();
    expect(toHex(send(authenticateApdu(0x03, reg.keyHandle.subarray(0, 56))))).toBe('6a80');
    expect(toHex(send(authenticateApdu(0x03, new Uint8Array(0))))).toBe('6a80');
    await bench.close();

    const google = await registered({ profile: 'google' });
    expect(toHex(google.send(authenticateApdu(0x03, google.reg.keyHandle.subarray(0, 56)))))
      .toBe('6700');
  });

  it('P1 08 signs without a touch, with the presence bit clear (AU-07)', async () => {
    const { send, reg } = await registered({ presence: 'button' });
    const response = send(authenticateApdu(0x08, reg.keyHandle));
    expect(toHex(response.subarray(0, 5))).toBe('0000000001');
    expect(verifyAssertion(reg.publicKey, response)).toBe(true);
    expect(statusOf(response)).toBe('9000');
  });

  it('answers 6A80 to an unknown P1 with a valid handle (AU-08)', async () => {
    const { send, reg } = await registered();
    expect(toHex(send(authenticateApdu(0xee, reg.keyHandle)))).toBe('6a80');
  });
});

describe('user presence', () => {
  it('button: 6985 before a press, then one success consumes the touch (RG-01, UP-01)',
    async () => {
      const { send } = await open({ presence: 'button' });
      expect(toHex(send(registerApdu()))).toBe('6985');
      bench.key.press();
      const reg = parseRegistration(send(registerApdu()));
      expect(verifyRegistration(reg)).toBe(true);
      expect(toHex(send(authenticateApdu(0x03, reg.keyHandle)))).toBe('6985');
      bench.key.press();
      expect(statusOf(send(authenticateApdu(0x03, reg.keyHandle)))).toBe('9000');
      expect(toHex(send(authenticateApdu(0x03, reg.keyHandle)))).toBe('6985');
    });

  it('button: check-only and failed requests do not consume the touch (UP-02)', async () => {
    const { send } = await open({ presence: 'button' });
    bench.key.press();
    const reg = parseRegistration(send(registerApdu()));
    bench.key.press();
    expect(toHex(send(authenticateApdu(0x07, reg.keyHandle)))).toBe('6985');
    expect(toHex(send(authenticateApdu(0x03, reg.keyHandle, otherAppParam)))).toBe('6a80');
    expect(toHex(send([0, 1, 0, 0, 0, 0, 1, 0]))).toBe('6700');
    const response = send(authenticateApdu(0x03, reg.keyHandle));
    expect(toHex(response.subarray(0, 5))).toBe('0100000001');
  });

  it('button: a foreign handle is 6A80 at once, not 6985 waiting for a press', async () => {
    const { send } = await open({ presence: 'button' });
    bench.key.press();
    const reg = parseRegistration(send(registerApdu()));
    const tampered = Uint8Array.from(reg.keyHandle);
    tampered[0]! ^= 0x01;
    // No press armed: an own handle would wait (6985); a foreign one is refused outright.
    expect(toHex(send(authenticateApdu(0x03, tampered)))).toBe('6a80');
    expect(toHex(send(authenticateApdu(0x03, reg.keyHandle, otherAppParam)))).toBe('6a80');
    expect(toHex(send(authenticateApdu(0x03, reg.keyHandle)))).toBe('6985');
  });

  it('never: REGISTER answers 6985 even after a press', async () => {
    const { send } = await open({ presence: 'never' });
    expect(toHex(send(registerApdu()))).toBe('6985');
    bench.key.press();
    expect(toHex(send(registerApdu()))).toBe('6985');
  });

  it('auto: every request sees a touch', async () => {
    const { send } = await open();
    const reg = parseRegistration(send(registerApdu()));
    for (let i = 1; i <= 3; i++) {
      expect(toHex(send(authenticateApdu(0x03, reg.keyHandle)).subarray(0, 5)))
        .toBe(`01000000${i.toString(16).padStart(2, '0')}`);
    }
  });
});

describe('counter', () => {
  it('increases only on a successful signature, never on 6985, 6A80 or check-only (CT-01)',
    async () => {
      const { send } = await open({ presence: 'button' });
      bench.key.press();
      const reg = parseRegistration(send(registerApdu()));
      expect(bench.key.counter).toBe(0);
      bench.key.press();
      expect(parseSignature(send(authenticateApdu(0x03, reg.keyHandle))).counter).toBe(1);
      expect(toHex(send(authenticateApdu(0x03, reg.keyHandle)))).toBe('6985');
      expect(toHex(send(authenticateApdu(0x07, reg.keyHandle)))).toBe('6985');
      expect(toHex(send(authenticateApdu(0x03, reg.keyHandle, otherAppParam)))).toBe('6a80');
      expect(bench.key.counter).toBe(1);
      bench.key.press();
      expect(parseSignature(send(authenticateApdu(0x03, reg.keyHandle))).counter).toBe(2);
      expect(parseSignature(send(authenticateApdu(0x08, reg.keyHandle))).counter).toBe(3);
    });

  it('is global by default: two credentials share one sequence', async () => {
    const { send } = await open();
    const a = parseRegistration(send(registerApdu()));
    const b = parseRegistration(send(registerApdu(otherAppParam)));
    expect(parseSignature(send(authenticateApdu(0x03, a.keyHandle))).counter).toBe(1);
    expect(parseSignature(send(authenticateApdu(0x03, b.keyHandle, otherAppParam))).counter)
      .toBe(2);
  });

  it('is per credential on request', async () => {
    const { send } = await open({ counterMode: 'per-credential' });
    const a = parseRegistration(send(registerApdu()));
    const b = parseRegistration(send(registerApdu(otherAppParam)));
    expect(parseSignature(send(authenticateApdu(0x03, a.keyHandle))).counter).toBe(1);
    expect(parseSignature(send(authenticateApdu(0x03, a.keyHandle))).counter).toBe(2);
    expect(parseSignature(send(authenticateApdu(0x03, b.keyHandle, otherAppParam))).counter)
      .toBe(1);
  });
});
