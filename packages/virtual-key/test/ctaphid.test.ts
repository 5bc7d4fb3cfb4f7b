import { afterEach, describe, expect, it } from 'vitest';

import { toHex } from '@keybench/hid-transport';

import { Bench, head, report } from './host.js';

let bench: Bench;
afterEach(async () => {
  await bench?.close();
});

describe('CTAPHID INIT', () => {
  it('allocates a channel on broadcast and echoes the nonce (CH-01)', async () => {
    bench = await Bench.create();
    const [reply] = bench.raw(report(0xffffffff, [0x86, 0x00, 0x08, 1, 2, 3, 4, 5, 6, 7, 8]));
    expect(toHex(reply!.subarray(0, 24))).toBe(
      'ffffffff860011' + '0102030405060708' + '4b420001' + '0201000003',
    );
    expect(toHex(reply!.subarray(24))).toBe('00'.repeat(40));
  });
});
