import {
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterEach, describe, expect, it } from 'vitest';

import { toHex } from '@keybench/hid-transport';

import { StateFileError, VirtualKey } from '../src/index.js';
import { Bench } from './host.js';
import { authenticateApdu, parseRegistration, registerApdu, statusOf } from './u2f-helpers.js';

let directory: string;
const benches: Bench[] = [];
afterEach(async () => {
  for (const bench of benches.splice(0)) await bench.close();
  rmSync(directory, { recursive: true, force: true });
});

async function bench(options: Parameters<typeof Bench.create>[0]) {
  const created = await Bench.create(options);
  benches.push(created);
  return created;
}

const temp = () => {
  directory = mkdtempSync(join(tmpdir(), 'keybench-state-'));
  return join(directory, 'key.json');
};

describe('state file', () => {
  it('is created when missing and reloaded: key handles and attestation survive', async () => {
    const stateFile = temp();
    const first = await bench({ stateFile });
    const cid = first.allocate();
    const reg = parseRegistration(first.apdu(cid, registerApdu()));
    await first.close();

    const json = JSON.parse(readFileSync(stateFile, 'utf8')) as Record<string, unknown>;
    expect(json).toMatchObject({ format: 'keybench-virtual-key', version: 1, counter: 0 });

    const second = await bench({ stateFile });
    expect(toHex(second.key.attestationCertificate)).toBe(toHex(reg.certificate));
    const response = second.apdu(second.allocate(), authenticateApdu(0x03, reg.keyHandle));
    expect(toHex(response.subarray(0, 5))).toBe('0100000001');
  });

  it('has the counter on disk before the reply leaves', async () => {
    const stateFile = temp();
    const key = await bench({ stateFile });
    const cid = key.allocate();
    const reg = parseRegistration(key.apdu(cid, registerApdu()));
    for (let i = 1; i <= 3; i++) {
      key.apdu(cid, authenticateApdu(0x03, reg.keyHandle));
      // Read right after the synchronous reply, without close().
      expect((JSON.parse(readFileSync(stateFile, 'utf8')) as { counter: number }).counter).toBe(i);
    }
  });

  it('keeps settings: a key handle length chosen once applies after a restart', async () => {
    const stateFile = temp();
    await (await bench({ stateFile, keyHandleLength: 32, counterMode: 'per-credential' })).close();
    const again = await bench({ stateFile });
    const reg = parseRegistration(again.apdu(again.allocate(), registerApdu()));
    expect(reg.keyHandle.length).toBe(32);
  });

  it('refuses a corrupt file with an error naming it, and never overwrites it', async () => {
    const stateFile = temp();
    const contents = [
      '{ not json',
      '{"format":"other"}',
      '{"format":"keybench-virtual-key","version":1}',
    ];
    for (const content of contents) {
      writeFileSync(stateFile, content);
      const error = await VirtualKey.create({ stateFile }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(StateFileError);
      expect((error as Error).message).toContain(stateFile);
      expect(readFileSync(stateFile, 'utf8')).toBe(content);
    }
  });

  it('refuses wrong types and missing fields, naming the file and the field', async () => {
    const stateFile = temp();
    await (await bench({ stateFile })).close();
    const good = JSON.parse(readFileSync(stateFile, 'utf8')) as Record<string, unknown>;
    const cases: [string, string | RegExp][] = [
      ['', /not JSON/],
      [JSON.stringify(good).slice(0, 40), /not JSON/],
      ['[]', /format/],
      [JSON.stringify({ ...good, counters: [7, 8] }), /counters/],
      [JSON.stringify({ ...good, counters: null }), /counters/],
      [JSON.stringify({ ...good, counters: { abc: 1 } }), /counters/],
      [JSON.stringify({ ...good, counter: 2 ** 40 }), /counter must be a u32/],
      [JSON.stringify({ ...good, counter: '5' }), /counter must be a u32/],
      [JSON.stringify({ ...good, masterSecret: 5 }), /masterSecret/],
      [JSON.stringify({ ...good, settings: 'x' }), /settings/],
      [JSON.stringify({ ...good, attestation: undefined }), /attestation must hold/],
      [JSON.stringify({ ...good, attestation: { certificatePem: 5 } }), /attestation must hold/],
    ];
    for (const [content, why] of cases) {
      writeFileSync(stateFile, content);
      const error = await VirtualKey.create({ stateFile }).catch((e: unknown) => e);
      expect(error, content).toBeInstanceOf(StateFileError);
      expect((error as Error).message).toContain(stateFile);
      expect((error as Error).message).toMatch(why);
      expect((error as Error).message).not.toMatch(/attestation: attestation:/);
      expect(readFileSync(stateFile, 'utf8')).toBe(content);
    }
  });

  it('answers 6581 without a signature when the counter cannot be saved', async () => {
    const stateFile = temp();
    const key = await bench({ stateFile });
    const cid = key.allocate();
    const reg = parseRegistration(key.apdu(cid, registerApdu()));
    expect(statusOf(key.apdu(cid, authenticateApdu(0x03, reg.keyHandle)))).toBe('9000');

    // The state file's directory becomes unwritable: a directory sits where the file was.
    rmSync(stateFile);
    mkdirSync(stateFile);
    const response = key.apdu(cid, authenticateApdu(0x03, reg.keyHandle));
    expect(toHex(response)).toBe('6581');

    // Once the file can be written again, the counter carries on above both attempts.
    rmSync(stateFile, { recursive: true });
    const after = key.apdu(cid, authenticateApdu(0x03, reg.keyHandle));
    expect(statusOf(after)).toBe('9000');
    expect(new DataView(after.buffer, after.byteOffset).getUint32(1)).toBe(3);
    expect((JSON.parse(readFileSync(stateFile, 'utf8')) as { counter: number }).counter).toBe(3);
    await key.close();
  });

  it('refuses an unreadable path with an error naming it', async () => {
    const stateFile = temp();
    const error = await VirtualKey.create({ stateFile: directory }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StateFileError);
    expect((error as Error).message).toContain(directory);
    expect(stateFile).toContain(directory);
  });

  it('signs deterministically: two copies of one state give identical signatures', async () => {
    const stateFile = temp();
    const original = await bench({ stateFile });
    const reg = parseRegistration(original.apdu(original.allocate(), registerApdu()));
    await original.close();
    const copy = join(directory, 'copy.json');
    copyFileSync(stateFile, copy);

    const a = await bench({ stateFile });
    const b = await bench({ stateFile: copy });
    const request = authenticateApdu(0x03, reg.keyHandle);
    const fromA = a.apdu(a.allocate(), request);
    const fromB = b.apdu(b.allocate(), request);
    expect(statusOf(fromA)).toBe('9000');
    expect(toHex(fromA)).toBe(toHex(fromB));
  });
});

describe('attestation from PEM', () => {
  it('uses a loaded certificate and key', async () => {
    const stateFile = temp();
    await (await bench({ stateFile })).close();
    const json = JSON.parse(readFileSync(stateFile, 'utf8')) as {
      attestation: { certificatePem: string; privateKeyPem: string };
    };
    const loaded = await bench({ attestation: json.attestation });
    expect(Buffer.from(loaded.key.attestationCertificate).toString('base64')).toBe(
      json.attestation.certificatePem.replace(/-----[^-]+-----|\s/g, ''),
    );
  });

  it('refuses a key that does not match the certificate', async () => {
    const one = await bench({ stateFile: temp() });
    await one.close();
    const first = JSON.parse(readFileSync(join(directory, 'key.json'), 'utf8')) as {
      attestation: { certificatePem: string; privateKeyPem: string };
    };
    rmSync(join(directory, 'key.json'));
    await (await bench({ stateFile: join(directory, 'key.json') })).close();
    const second = JSON.parse(readFileSync(join(directory, 'key.json'), 'utf8')) as typeof first;
    await expect(VirtualKey.create({
      attestation: {
        certificatePem: first.attestation.certificatePem,
        privateKeyPem: second.attestation.privateKeyPem,
      },
    })).rejects.toThrow(/not for the given private key/);
    await expect(VirtualKey.create({
      attestation: { certificatePem: 'nope', privateKeyPem: second.attestation.privateKeyPem },
    })).rejects.toThrow(RangeError);
  });
});

describe('options', () => {
  it('rejects bad options with RangeError', async () => {
    await expect(VirtualKey.create({ keyHandleLength: 0 })).rejects.toThrow(RangeError);
    await expect(VirtualKey.create({ keyHandleLength: 256 })).rejects.toThrow(RangeError);
    await expect(VirtualKey.create({ profile: 'nope' })).rejects.toThrow(/known profiles/);
    await expect(VirtualKey.create({ presence: 'x' as never })).rejects.toThrow(RangeError);
    await expect(VirtualKey.create({ faults: [{ name: 'nope' as never }] }))
      .rejects.toThrow(/known faults/);
  });
});
