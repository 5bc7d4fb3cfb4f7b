import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import { U2fError, websafeDecode, websafeEncode } from '../src/index.js';
import vectors from './vectors/base64url.json' with { type: 'json' };

const text = (b: Uint8Array): string => Buffer.from(b).toString('latin1');

describe('websafe base64 (server.md 2.4)', () => {
  for (const [plain, encoded] of vectors.valid as [string, string][]) {
    it(`decodes and encodes RFC 4648 ${JSON.stringify(encoded)}`, () => {
      expect(text(websafeDecode(encoded))).toBe(plain);
      expect(websafeEncode(Buffer.from(plain, 'latin1'))).toBe(encoded);
    });
  }

  for (const [plain, encoded] of vectors.paddedAccepted as [string, string][]) {
    it(`tolerates correct padding ${JSON.stringify(encoded)}`, () => {
      expect(text(websafeDecode(encoded))).toBe(plain);
    });
  }

  for (const bad of vectors.reject) {
    it(`rejects ${JSON.stringify(bad)} with BAD_BASE64`, () => {
      expect(() => websafeDecode(bad, 'x')).toThrow(expect.objectContaining({
        code: 'BAD_BASE64', field: 'x' }));
    });
  }

  it('names the field, the expectation and what came', () => {
    try {
      websafeDecode('Zm9v+g', 'response.keyHandle');
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(U2fError);
      expect((error as Error).message).toMatch(/response\.keyHandle.*URL-safe.*Zm9v\+g/);
    }
  });

  it('round-trips any bytes and never pads', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 80 }), (bytes) => {
      const encoded = websafeEncode(bytes);
      expect(encoded).not.toContain('=');
      expect(Buffer.from(websafeDecode(encoded)).equals(Buffer.from(bytes))).toBe(true);
    }));
  });

  it('throws only U2fError for any string', () => {
    fc.assert(fc.property(fc.string({ maxLength: 40 }), (s) => {
      try {
        websafeDecode(s);
      } catch (error) {
        expect(error).toBeInstanceOf(U2fError);
      }
    }));
  });
});
