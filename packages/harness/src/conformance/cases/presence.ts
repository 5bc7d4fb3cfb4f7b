import { AUTH_P1 } from '@keybench/hid-transport';

import type { ConformanceCase } from '../case.js';
import { checkSignature, randomBytes } from '../context.js';

const layer = 'presence' as const;

export const PRESENCE_CASES: readonly ConformanceCase[] = [
  {
    id: 'UP-01',
    layer,
    title: 'REGISTER consumes the touch: AUTHENTICATE P1 03 right after gets 6985',
    source: 'G-U2F "fob with button should have consumed touch"',
    person: ['touch', 'no-touch'],
    run: async (ctx) => {
      const credential = await ctx.register('UP-01 REGISTER');
      await ctx.presence.withhold('UP-01 AUTHENTICATE right after REGISTER');
      ctx.expectSw(
        await ctx.authenticateOnce(credential, AUTH_P1.ENFORCE_USER_PRESENCE),
        0x6985,
        'AUTHENTICATE after REGISTER',
      );
    },
  },
  {
    id: 'UP-02',
    layer,
    title: 'check-only does not consume a touch: 6985, then P1 03 signs',
    source: 'G-U2F',
    person: ['touch'],
    run: async (ctx) => {
      const credential = await ctx.credential();
      if (!ctx.presence.instant)
        ctx.skip('needs a touch given before the requests (harness-driven button)');
      await ctx.presence.touch('UP-02');
      ctx.expectSw(
        await ctx.authenticateOnce(credential, AUTH_P1.CHECK_ONLY),
        0x6985,
        'check-only after a touch',
      );
      const challengeParam = randomBytes(32);
      const reply = await ctx.authenticateOnce(credential, AUTH_P1.ENFORCE_USER_PRESENCE, {
        challengeParam,
      });
      ctx.expectSw(reply, 0x9000, 'AUTHENTICATE with the touch check-only left');
      checkSignature(reply.data, credential, challengeParam);
    },
  },
  {
    id: 'UP-03',
    layer,
    title: 'a touch given with no request pending still counts on a new channel',
    source: 'G-U2F WaitForUserPresence',
    person: ['touch'],
    run: async (ctx) => {
      const credential = await ctx.credential();
      if (!ctx.presence.instant)
        ctx.skip('needs a touch given before the request (harness-driven button)');
      await ctx.presence.touch('UP-03');
      await ctx.channel.reinit();
      const challengeParam = randomBytes(32);
      const reply = await ctx.authenticateOnce(credential, AUTH_P1.ENFORCE_USER_PRESENCE, {
        challengeParam,
      });
      ctx.expectSw(reply, 0x9000, 'AUTHENTICATE on a new channel after the touch');
      checkSignature(reply.data, credential, challengeParam);
    },
  },
  {
    id: 'UP-04',
    layer,
    title: 'a request needing presence is answered 6985 at once (within 1 s), not held',
    source: 'python-fido2 (polls every 0.25 s); libfido2 U2F_PACE_MS',
    person: ['touch', 'no-touch'],
    run: async (ctx) => {
      const credential = await ctx.credential();
      await ctx.presence.withhold('UP-04 AUTHENTICATE without a touch');
      const started = performance.now();
      const reply = await ctx.authenticateOnce(credential, AUTH_P1.ENFORCE_USER_PRESENCE);
      const elapsed = performance.now() - started;
      ctx.metric('ms', elapsed);
      ctx.expectSw(reply, 0x6985, 'AUTHENTICATE without a touch');
      ctx.check(elapsed < 1000, '6985 within 1000 ms', () => `${elapsed.toFixed(0)} ms`);
    },
  },
];
