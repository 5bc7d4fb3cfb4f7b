import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import type { DeviceRegistration } from '@keybench/server-core';
import { afterEach, describe, expect, it } from 'vitest';

import { PendingRequests } from '../src/server/pending.js';
import { escapeHtml } from '../src/server/page.js';
import { DuplicateKeyHandleError, ServerStore } from '../src/server/store.js';

const APP_ID = 'http://localhost:8081';
const open: ServerStore[] = [];
const dirs: string[] = [];

afterEach(() => {
  for (const store of open.splice(0)) store.close();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function file(): string {
  const dir = mkdtempSync(join(tmpdir(), 'keybench-store-'));
  dirs.push(dir);
  return join(dir, 'nested', 'serve.db');
}

function store(path = ':memory:'): ServerStore {
  const s = new ServerStore(path);
  open.push(s);
  return s;
}

function registration(keyHandle: string): DeviceRegistration {
  return { version: 'U2F_V2', keyHandle, publicKey: 'BAAA', appId: APP_ID, transports: ['usb'] };
}

describe('ServerStore', () => {
  it('stores a registration with transports and no counter until first use', () => {
    const s = store();
    s.addRegistration('ann', registration('kh1'), 'CN=Test');

    const [key] = s.keysOf('ann', APP_ID);

    expect(key!.registration).toEqual(registration('kh1'));
    expect(key!.certificateSubject).toBe('CN=Test');
    expect(key!.lastUsedAt).toBeNull();
    expect(s.keysOf('ann', 'https://other.example')).toEqual([]);
    expect(s.keysOf('bob', APP_ID)).toEqual([]);
  });

  it('refuses a key handle already registered under the appId, writing nothing', () => {
    const s = store();
    s.addRegistration('ann', registration('kh1'), '');

    expect(() => s.addRegistration('bob', registration('kh1'), '')).toThrow(
      DuplicateKeyHandleError,
    );
    expect(s.keysOf('bob', APP_ID)).toEqual([]);
    expect(s.keysOf('ann', APP_ID)).toHaveLength(1);
  });

  it('writes the counter only when verification passes', () => {
    const s = store();
    s.addRegistration('ann', registration('kh1'), '');

    expect(() =>
      s.authenticate('ann', APP_ID, () => {
        throw new Error('signature did not verify');
      }),
    ).toThrow('signature did not verify');
    expect(s.keysOf('ann', APP_ID)[0]!.registration.counter).toBeUndefined();

    s.authenticate('ann', APP_ID, ([key]) => ({ registration: { ...key!, counter: 7 } }));
    const [stored] = s.keysOf('ann', APP_ID);
    expect(stored!.registration.counter).toBe(7);
    expect(stored!.lastUsedAt).not.toBeNull();
  });

  it('refuses to store a counter for a key the user does not hold', () => {
    const s = store();
    s.addRegistration('ann', registration('kh1'), '');

    expect(() =>
      s.authenticate('ann', APP_ID, () => ({
        registration: { ...registration('other'), counter: 1 },
      })),
    ).toThrow(/not stored/);
    expect(s.keysOf('ann', APP_ID)[0]!.registration.counter).toBeUndefined();
  });

  it('persists across reopening, and two stores on one file see each other', () => {
    const path = file();
    const first = store(path);
    first.addRegistration('ann', registration('kh1'), '');
    const second = store(path);

    second.authenticate('ann', APP_ID, ([key]) => ({ registration: { ...key!, counter: 3 } }));
    first.authenticate('ann', APP_ID, ([key]) => {
      expect(key!.counter).toBe(3);
      return { registration: { ...key!, counter: 4 } };
    });
    first.close();
    open.splice(open.indexOf(first), 1);

    const reopened = store(path);
    expect(reopened.keysOf('ann', APP_ID)[0]!.registration.counter).toBe(4);
    expect(reopened.db.pragma('user_version', { simple: true })).toBe(1);
    expect(reopened.db.pragma('journal_mode', { simple: true })).toBe('wal');
  });
});

describe('PendingRequests', () => {
  it('gives a request once, to its owner, while fresh', () => {
    let now = 1_000;
    const pending = new PendingRequests<string>({ ttlMs: 100, now: () => now });
    pending.add('ann', 'c1', 'r1');
    pending.add('ann', 'c2=', 'r2');
    pending.add('ann', 'c3', 'r3');

    expect(pending.take('bob', 'c1')).toBeUndefined();
    expect(pending.take('ann', 'c1')).toBe('r1');
    expect(pending.take('ann', 'c1')).toBeUndefined();
    expect(pending.take('ann', 'c2')).toBe('r2');

    now += 100;
    expect(pending.has('ann')).toBe(false);
    expect(pending.take('ann', 'c3')).toBeUndefined();
  });

  it('keeps at most perUser requests per owner, dropping the oldest', () => {
    const pending = new PendingRequests<number>({ perUser: 2 });
    pending.add('ann', 'a', 1);
    pending.add('ann', 'b', 2);
    pending.add('bob', 'x', 9);
    pending.add('ann', 'c', 3);

    expect(pending.take('ann', 'a')).toBeUndefined();
    expect(pending.take('ann', 'b')).toBe(2);
    expect(pending.take('ann', 'c')).toBe(3);
    expect(pending.take('bob', 'x')).toBe(9);
    expect(pending.size).toBe(0);
  });

  it('refuses non-positive limits', () => {
    expect(() => new PendingRequests({ ttlMs: 0 })).toThrow(RangeError);
    expect(() => new PendingRequests({ perUser: -1 })).toThrow(RangeError);
  });
});

describe('escapeHtml', () => {
  it('escapes the five HTML-special characters', () => {
    expect(escapeHtml(`<a href="x">'&'</a>`)).toBe(
      '&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;',
    );
  });
});
