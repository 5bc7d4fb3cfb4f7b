import type { TraceEvent } from '@keybench/hid-transport';
import type { VirtualKeyOptions } from '@keybench/virtual-key';

import { parseDeviceSpec, type DeviceSpec } from '../device-spec.js';
import { UsageError } from '../errors.js';
import { appliesTo, type ConformanceCase } from './case.js';
import { CATALOGUE } from './catalogue.js';
import { TestContext, type Credential } from './context.js';
import { identifyKey, type KeyIdentity } from './identify.js';
import { ConformanceFailure, SkipCase } from './failure.js';
import type { PromptIo } from './presence.js';
import { PROFILES, profileNamed, type Profile, type ProfileName } from './profiles.js';
import { summarize, type CaseResult, type FrameLine, type RunReport } from './result.js';
import { frameTimeoutHint } from '../frame-timeout.js';
import { openSession, type Session } from './session.js';

export interface RunOptions {
  /** Default 'spec'. */
  profile?: ProfileName;
  /** Only cases whose id, title, layer or source contain this text (case-insensitive). */
  grep?: string;
  /** Exactly these case ids (after grep). */
  ids?: readonly string[];
  /** Stop at the first failure. */
  bail?: boolean;
  /** Skip cases that need a person (when the harness cannot drive presence itself). */
  noTouch?: boolean;
  /** Prompts for a person (a terminal); omitted: no prompting. */
  promptIo?: PromptIo;
  /** Extra options for the in-process virtual key (faults…). */
  virtual?: VirtualKeyOptions;
  /** Per-frame timeout of the host channel; default 2000 ms. */
  frameTimeoutMs?: number;
  /** Longest a single case may take. Default 60000. */
  caseTimeoutMs?: number;
  /** Called before the first case with how many will run. */
  onStart?: (total: number) => void;
  /** Called after each case. */
  onResult?: (result: CaseResult) => void;
  /**
   * Given: before the cases, one registration reads the key's attestation certificate and
   * this is called with who the key is, or with why it could not be told.
   */
  onIdentity?: (outcome: { identity: KeyIdentity } | { error: string }) => void | Promise<void>;
}

/** Times in reports to 0.001 ms: what a clock can tell, without binary-fraction noise. */
const round = (ms: number) => Math.round(ms * 1000) / 1000;

/** Reports kept per failed case. */
const MAX_FRAMES = 200;

/** The cases a run selects: profile, grep, ids. Order is catalogue order. */
export function selectCases(options: Pick<RunOptions, 'profile' | 'grep' | 'ids'> = {}) {
  const profile = PROFILES[options.profile ?? 'spec'];
  const needle = options.grep?.toLowerCase();
  return CATALOGUE.filter((test) => {
    if (!appliesTo(test, profile)) return false;
    if (options.ids && !options.ids.includes(test.id)) return false;
    if (!needle) return true;
    return [test.id, test.title, test.layer, test.source].some((text) =>
      text.toLowerCase().includes(needle),
    );
  });
}

/**
 * Throws UsageError when `options` select no case at all (a typo in --grep must not pass
 * as "0 of 0"), naming the grep and the profile.
 */
export function requireSomeCase(options: Pick<RunOptions, 'profile' | 'grep'>): void {
  if (selectCases(options).length > 0) return;
  const profile = options.profile ?? 'spec';
  const inProfile = selectCases({ grep: options.grep, profile: 'spec' }).length > 0;
  throw new UsageError(
    options.grep === undefined
      ? `no case selected for --profile ${profile}`
      : `no case matches --grep "${options.grep}"` +
          (inProfile ? ` under --profile ${profile} (some do under --profile spec)` : '') +
          ' (see --list)',
  );
}

/**
 * Runs the conformance suite against one key (`virtual`, `udp:HOST:PORT`, `hid:PATH`) and
 * returns its report; never throws for device trouble (a key that cannot be opened gives
 * status 'unusable'). Throws RangeError for an unknown profile, UsageError for a bad spec.
 */
export async function runConformance(
  device: string | DeviceSpec,
  options: RunOptions = {},
): Promise<RunReport> {
  const spec = typeof device === 'string' ? parseDeviceSpec(device) : device;
  const profile = profileNamed(options.profile ?? 'spec');
  const cases = selectCases(options);
  const started = performance.now();
  const startedAt = new Date().toISOString();
  let frames: FrameLine[] = [];
  let caseStart = started;
  const trace = (event: TraceEvent) => {
    frames.push({
      ms: Math.round((event.time - caseStart) * 10) / 10,
      direction: event.direction,
      hex: event.hex,
      ...(event.note === undefined ? {} : { note: event.note }),
    });
    if (frames.length > MAX_FRAMES * 2) frames = frames.slice(-MAX_FRAMES);
  };

  let session: Session;
  try {
    session = await openSession(spec, {
      trace,
      profile: profile.name,
      noTouch: options.noTouch === true,
      ...(options.frameTimeoutMs === undefined ? {} : { frameTimeoutMs: options.frameTimeoutMs }),
      ...(options.virtual ? { virtual: options.virtual } : {}),
      ...(options.promptIo ? { promptIo: options.promptIo } : {}),
    });
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    const message = reason + frameTimeoutHint(error);
    const unusable = new ConformanceFailure('a key that can be opened (INIT answered)', message);
    const results = cases.map((test) => failed(test, 0, unusable, frames));
    results.forEach((result) => options.onResult?.(result));
    return {
      device: spec.text,
      profile: profile.name,
      presence: 'none',
      startedAt,
      durationMs: round(performance.now() - started),
      status: 'unusable',
      error: message,
      results,
      summary: summarize(results),
    };
  }

  const results: CaseResult[] = [];
  const info = session.channel.info;
  let shared: Promise<Credential> | undefined;
  const counters = new Map<string, number>();
  let lost: string | undefined;
  const attestation = options.onIdentity ? await identify(session, options.onIdentity) : undefined;
  options.onStart?.(cases.length);

  try {
    for (const test of cases) {
      frames = [];
      caseStart = performance.now();
      const result = lost
        ? failed(test, 0, new ConformanceFailure('a key that answers', lost), [])
        : await runCase(
            test,
            profile,
            session,
            options,
            () => {
              shared ??= new TestContext(contextOptions(profile, session, () => shared!, counters))
                .register('the key handle shared by the run')
                .catch((error: unknown) => {
                  shared = undefined;
                  throw error;
                });
              return shared;
            },
            counters,
            () => frames,
          );
      results.push(result);
      options.onResult?.(result);
      if (result.status === 'fail' && !lost) lost = await recover(session);
      if (result.status === 'fail' && options.bail) break;
    }
  } finally {
    await session.close().catch(() => undefined);
  }

  const summary = summarize(results);
  return {
    device: spec.text,
    profile: profile.name,
    presence: session.presence.name,
    startedAt,
    durationMs: round(performance.now() - started),
    status: summary.fail > 0 ? 'failed' : 'passed',
    ...(results.length < cases.length ? { notRun: cases.length - results.length } : {}),
    ...(attestation ? { attestation } : {}),
    deviceInfo: {
      protocolVersion: info.protocolVersion,
      deviceVersion: info.deviceVersion.join('.'),
      capabilities: info.capabilities,
    },
    results,
    summary,
  };
}

/** Reads who the key is and tells `report`; a key that gives no certificate stays unnamed. */
async function identify(
  session: Session,
  report: NonNullable<RunOptions['onIdentity']>,
): Promise<KeyIdentity | undefined> {
  let identity: KeyIdentity;
  try {
    identity = await identifyKey(session);
  } catch (error) {
    await report({ error: error instanceof Error ? error.message : String(error) });
    return undefined;
  }
  await report({ identity });
  return identity;
}

function contextOptions(
  profile: Profile,
  session: Session,
  credential: () => Promise<Credential>,
  counters: Map<string, number>,
) {
  return {
    counters,
    profile,
    presence: session.presence,
    target: () => session,
    raw: () => session.raw,
    reopen: () => session.reopen(),
    touchTimeoutMs: 30_000,
    sharedCredential: credential,
  };
}

async function runCase(
  test: ConformanceCase,
  profile: Profile,
  session: Session,
  options: RunOptions,
  sharedCredential: () => Promise<Credential>,
  counters: Map<string, number>,
  frames: () => FrameLine[],
): Promise<CaseResult> {
  const started = performance.now();
  const base = { id: test.id, layer: test.layer, title: test.title, source: test.source };

  for (const need of test.person) {
    const reason = session.presence.unavailable(need);
    if (reason) return { ...base, status: 'skip', ms: 0, reason };
  }

  const ctx = new TestContext(contextOptions(profile, session, sharedCredential, counters));
  let timer: NodeJS.Timeout | undefined;
  const limit = options.caseTimeoutMs ?? 60_000;
  try {
    await session.raw.reset();
    await Promise.race([
      test.run(ctx),
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () =>
            reject(
              new ConformanceFailure(`the case to finish within ${limit} ms`, 'still running'),
            ),
          limit,
        );
      }),
    ]);
    return withExtras({ ...base, status: 'pass', ms: round(performance.now() - started) }, ctx);
  } catch (error) {
    const ms = round(performance.now() - started);
    if (error instanceof SkipCase)
      return withExtras({ ...base, status: 'skip', ms, reason: error.message }, ctx);
    return withExtras(failed(test, ms, error, frames()), ctx);
  } finally {
    clearTimeout(timer);
  }
}

function withExtras(result: CaseResult, ctx: TestContext): CaseResult {
  const metrics = Object.keys(ctx.metrics).length > 0 ? { metrics: { ...ctx.metrics } } : {};
  const notes = ctx.notes.length > 0 ? { notes: [...ctx.notes] } : {};
  return { ...result, ...metrics, ...notes };
}

function failed(
  test: ConformanceCase,
  ms: number,
  error: unknown,
  frames: FrameLine[],
): CaseResult {
  const base = { id: test.id, layer: test.layer, title: test.title, source: test.source };
  const message = error instanceof Error ? error.message : String(error);
  const expected =
    error instanceof ConformanceFailure
      ? error.expected
      : `the case's exchanges to complete (${test.title}), not an error`;
  const actual =
    error instanceof ConformanceFailure
      ? error.actual
      : `${error instanceof Error ? error.name : 'error'}: ${message}`;
  return {
    ...base,
    status: 'fail',
    ms,
    reason: message,
    expected,
    actual,
    frames: frames.slice(-MAX_FRAMES),
  };
}

/**
 * After a failure: forget queued reports and take a fresh channel, so the next case starts
 * clean. Returns why the key is lost when even that fails.
 */
async function recover(session: Session): Promise<string | undefined> {
  try {
    await session.raw.reset();
    await session.channel.reinit();
    return undefined;
  } catch (first) {
    try {
      await session.reopen();
      return undefined;
    } catch {
      return `the key stopped answering: ${first instanceof Error ? first.message : String(first)}`;
    }
  }
}
