import { AUTH_P1 } from '@keybench/hid-transport';

import type { ConformanceCase } from '../case.js';
import { randomBytes } from '../context.js';

const layer = 'counter' as const;

export const COUNTER_CASES: readonly ConformanceCase[] = [
  {
    id: 'CT-01',
    layer,
    title: 'a 6985 refusal does not count: counters of the signatures around it differ by 1',
    source: 'G-U2F (end of main)',
    person: ['touch', 'no-touch'],
    run: async (ctx) => {
      const credential = await ctx.credential();
      const first = await ctx.authenticate(credential, 'CT-01 AUTHENTICATE 1 of 2');
      await ctx.presence.withhold('CT-01 AUTHENTICATE without a touch');
      ctx.expectSw(
        await ctx.authenticateOnce(credential, AUTH_P1.ENFORCE_USER_PRESENCE),
        0x6985,
        'AUTHENTICATE without a touch',
      );
      const second = await ctx.authenticate(credential, 'CT-01 AUTHENTICATE 2 of 2');
      ctx.check(
        second.counter === first.counter + 1,
        `counter ${first.counter + 1}`,
        () => `counter ${second.counter} after ${first.counter}`,
      );
    },
  },
  {
    id: 'CT-02',
    layer,
    title: 'two signatures: the second counter is greater',
    source: 'FA-AUTH P-2',
    person: ['touch'],
    run: async (ctx) => {
      const credential = await ctx.credential();
      const first = await ctx.authenticate(credential, 'CT-02 AUTHENTICATE 1 of 2');
      const second = await ctx.authenticate(credential, 'CT-02 AUTHENTICATE 2 of 2');
      ctx.check(
        second.counter > first.counter,
        `a counter above ${first.counter}`,
        () => `${second.counter}`,
      );
    },
  },
  {
    id: 'CT-03',
    layer,
    title: 'five register/authenticate rounds: 0 < step < 256 and counter ≤ 0x80000000',
    source: 'SK-U2F test_u2f',
    person: ['touch'],
    run: async (ctx) => {
      let previous: number | undefined;
      for (let round = 0; round < 5; round++) {
        const credential = await ctx.register(`CT-03 REGISTER ${round + 1} of 5`);
        const { counter } = await ctx.authenticate(
          credential,
          `CT-03 AUTHENTICATE ${round + 1} of 5`,
        );
        ctx.check(
          counter <= 0x80000000,
          'a counter ≤ 0x80000000',
          () => `0x${counter.toString(16)}`,
        );
        if (previous !== undefined) {
          const step = counter - previous;
          ctx.check(
            step > 0 && step < 256,
            'a step of 1..255 between rounds',
            () => `${previous} → ${counter}`,
          );
        }
        previous = counter;
      }
    },
  },
  {
    id: 'CT-04',
    layer,
    title: 'check-only, 6A80 (foreign handle, other appId) do not count: next step is +1',
    source: 'uncovered by public suites (conformance §3, counters)',
    person: ['touch'],
    run: async (ctx) => {
      const credential = await ctx.credential();
      const first = await ctx.authenticate(credential, 'CT-04 AUTHENTICATE 1 of 2');
      ctx.expectSw(
        await ctx.authenticateOnce(credential, AUTH_P1.CHECK_ONLY),
        0x6985,
        'check-only',
      );
      ctx.expectSw(
        await ctx.authenticateOnce(credential, AUTH_P1.ENFORCE_USER_PRESENCE, {
          keyHandle: randomBytes(credential.keyHandle.length),
        }),
        0x6a80,
        'foreign handle',
      );
      ctx.expectSw(
        await ctx.authenticateOnce(credential, AUTH_P1.ENFORCE_USER_PRESENCE, {
          appParam: randomBytes(32),
        }),
        0x6a80,
        'another appId',
      );
      const second = await ctx.authenticate(credential, 'CT-04 AUTHENTICATE 2 of 2');
      ctx.check(
        second.counter === first.counter + 1,
        `counter ${first.counter + 1}`,
        () => `counter ${second.counter} after ${first.counter}`,
      );
    },
  },
  {
    id: 'CT-05',
    layer,
    title: 'a P1 08 signature counts like any other (03 → 08 → 03 strictly increasing)',
    source: 'uncovered by public suites (conformance §3, counters)',
    person: ['touch'],
    run: async (ctx) => {
      const credential = await ctx.credential();
      const a = await ctx.authenticate(credential, 'CT-05 AUTHENTICATE 1 of 3');
      const b = await ctx.authenticate(credential, 'CT-05', AUTH_P1.DONT_ENFORCE_USER_PRESENCE);
      const c = await ctx.authenticate(credential, 'CT-05 AUTHENTICATE 3 of 3');
      ctx.check(
        a.counter < b.counter && b.counter < c.counter,
        'three increasing counters',
        () => `${a.counter}, ${b.counter}, ${c.counter}`,
      );
    },
  },
  {
    id: 'CT-06',
    layer,
    title: 'ten signatures: every step positive and below 256; the steps are recorded',
    source: 'uncovered by public suites (conformance §3, counter steps)',
    person: ['touch'],
    run: async (ctx) => {
      const credential = await ctx.credential();
      const counters: number[] = [];
      for (let i = 0; i < 10; i++) {
        counters.push(
          (await ctx.authenticate(credential, `CT-06 AUTHENTICATE ${i + 1} of 10`)).counter,
        );
      }
      const steps = counters.slice(1).map((value, i) => value - counters[i]!);
      ctx.metric('steps', steps.join(','));
      ctx.check(
        steps.every((step) => step > 0 && step < 256),
        'steps of 1..255',
        () => counters.join(' → '),
      );
    },
  },
  {
    id: 'CT-07',
    layer,
    title: 'the counter survives a replug (power cycle)',
    source: 'uncovered by public suites (conformance §3, counters across power cycles)',
    person: ['touch', 'replug'],
    run: async (ctx) => {
      const credential = await ctx.register('CT-07 REGISTER');
      const before = await ctx.authenticate(credential, 'CT-07 AUTHENTICATE before the replug');
      await ctx.replug('CT-07');
      const after = await ctx.authenticate(credential, 'CT-07 AUTHENTICATE after the replug');
      ctx.check(
        after.counter > before.counter,
        `a counter above ${before.counter}`,
        () => `${after.counter}`,
      );
    },
  },
];
