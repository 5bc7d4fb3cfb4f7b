import { ApduError, type ChannelOptions } from '@keybench/hid-transport';
import { U2fError } from '@keybench/server-core';

import type { DeviceSpec } from '../device-spec.js';
import { classifyStepError, ExchangeFailure } from '../exchange.js';
import type {
  CredentialRecord,
  DeviceRecord,
  FindingInput,
  HistoryStore,
} from '../history/index.js';
import { openDevice, type OpenedDevice } from '../open-device.js';
import { usbIdentity } from '../usb-identity.js';
import { probe, register, registrationOf, sign, type CeremonyContext } from './ceremonies.js';
import { CounterJudge, type CounterSummary } from './judge.js';
import { COUNTER, PROBE_SW, type ProbeKind } from './limits.js';

export interface CountersOptions extends CeremonyContext {
  /** Signature rounds; each signs once with every credential. */
  rounds: number;
  /** Credentials to keep on the key (registered on first use, then reused). */
  credentials: number;
  /** Diagnostics (touch prompts, reused credentials) for stderr. */
  log?: (line: string) => void;
  /** Channel timeouts (`--frame-timeout`); default the channel's. */
  channel?: ChannelOptions;
}

export interface CredentialOutcome {
  id: number;
  /** First 8 bytes of the key handle, hex. */
  keyHandle: string;
  reused: boolean;
  signs: number;
  first?: number;
  last?: number;
  historyValue?: number;
  historyRunId?: number;
}

/** A finding as stored, with its id. */
export type StoredFinding = FindingInput & { id: number };

/** What one key's counters run found; `exitCode` 0 clean, 1 regression, 2 device error. */
export interface DeviceCountersOutcome {
  device: string;
  exitCode: number;
  deviceId?: number;
  identity?: string;
  subject?: string;
  version?: string;
  credentials: CredentialOutcome[];
  summary?: CounterSummary;
  findings: StoredFinding[];
  error?: string;
}

const label = (credential: CredentialRecord) =>
  `credential #${credential.id} (kh ${Buffer.from(credential.keyHandle.subarray(0, 4)).toString('hex')}…)`;

/**
 * Runs `keybench counters` on one key: identifies it (attestation certificate fingerprint
 * plus USB product and serial), reuses or registers its credentials, signs `rounds` times
 * with each, probes check-only, a foreign key handle and (in-process key) a missing touch
 * between signatures, and judges every counter against this run and the history. Every
 * observation and finding is stored as it happens. Never throws: failures become the
 * outcome's `error` and `exitCode`.
 */
export async function runCountersOnDevice(
  spec: DeviceSpec,
  store: HistoryStore,
  runId: number,
  options: CountersOptions,
): Promise<DeviceCountersOutcome> {
  const outcome: DeviceCountersOutcome = {
    device: spec.text,
    exitCode: 0,
    credentials: [],
    findings: [],
  };
  let opened: OpenedDevice | undefined;
  try {
    opened = await openDevice(spec, {
      virtual: { presence: 'button' },
      ...(options.channel ? { channel: options.channel } : {}),
    });
    await measure(opened, spec, store, runId, options, outcome);
  } catch (error) {
    const failure = describe(error);
    outcome.error = failure.message;
    outcome.exitCode = Math.max(outcome.exitCode, failure.exitCode);
  } finally {
    await opened?.close().catch(() => undefined);
  }
  if (outcome.findings.some((f) => f.severity === 'fail'))
    outcome.exitCode = Math.max(outcome.exitCode, 1);
  return outcome;
}

/** Runs one step of the run; its failure names the step (classifyStepError). */
async function inStep<T>(step: string, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    throw classifyStepError(step, error);
  }
}

/** A wrong answer is a failed check (exit 1); silence or a broken device is exit 2. */
function describe(error: unknown): { exitCode: number; message: string } {
  const message = error instanceof Error ? error.message : String(error);
  if (error instanceof ExchangeFailure || error instanceof U2fError || error instanceof ApduError) {
    return { exitCode: 1, message };
  }
  return { exitCode: 2, message };
}

async function measure(
  opened: OpenedDevice,
  spec: DeviceSpec,
  store: HistoryStore,
  runId: number,
  options: CountersOptions,
  outcome: DeviceCountersOutcome,
): Promise<void> {
  const version = await inStep('version', () => opened.device.version());
  const identifying = await inStep('register', () => register(opened, options));
  const device = store.recordDevice(
    {
      fingerprint: identifying.certificate.fingerprint,
      ...(await usbIdentity(spec)),
      subject: identifying.certificate.subject,
      issuer: identifying.certificate.issuer,
      version,
      description: opened.description,
    },
    runId,
    spec.text,
  );
  Object.assign(outcome, {
    deviceId: device.id,
    identity: device.identity,
    subject: device.subject,
    version,
  });

  const judge = new CounterJudge(
    runId,
    (id) => label(credentialsById.get(id)!),
    (id) => store.lastCounter(id, runId),
  );
  const credentialsById = new Map<number, CredentialRecord>();
  const keep = (findings: FindingInput[]) => {
    for (const finding of findings) {
      const stored = { ...finding, deviceId: device.id };
      outcome.findings.push({ ...stored, id: store.recordFinding(runId, stored) });
    }
  };

  const credentials = await chooseCredentials(
    opened,
    device,
    store,
    runId,
    options,
    identifying,
    keep,
  );
  for (const { record } of credentials) credentialsById.set(record.id, record);

  const signOnce = async (credential: CredentialRecord): Promise<boolean> => {
    let answer: { counter: number; userPresence: number };
    try {
      answer = await sign(opened, options, registrationOf(credential), credential.keyHandle);
    } catch (error) {
      // Good firmware refuses to sign once the counter is at 0xffffffff (it cannot go up).
      if (error instanceof ApduError && (judge.maxValue ?? 0) >= COUNTER.MAX - 1) {
        judge.markExhausted();
        return false;
      }
      throw classifyStepError(`authenticate with ${label(credential)}`, error);
    }
    store.recordCounter(runId, {
      deviceId: device.id,
      credentialId: credential.id,
      event: 'sign',
      value: answer.counter,
      p1: 0x03,
      statusWord: 0x9000,
      userPresence: answer.userPresence,
    });
    keep(judge.observe({ event: 'sign', credentialId: credential.id, value: answer.counter }));
    return true;
  };

  const probeOnce = async (credential: CredentialRecord, kind: ProbeKind) => {
    const statusWord = await inStep(`probe ${kind} with ${label(credential)}`, () =>
      probe(opened, options, kind, credential.keyHandle),
    );
    store.recordCounter(runId, {
      deviceId: device.id,
      credentialId: credential.id,
      event: kind,
      p1: kind === 'check-only' ? 0x07 : 0x03,
      statusWord,
    });
    keep(judge.observe({ event: kind, credentialId: credential.id, statusWord }));
  };

  // CT-01: each probe sits between two signatures of the same credential, so its effect on
  // the counter shows as one step. A missing touch can only be staged on an in-process key.
  const probes: ProbeKind[] = ['check-only', 'foreign-handle'];
  if (opened.virtualKey) probes.push('no-presence');
  const first = credentials[0]!.record;

  try {
    signing: for (let round = 0; round < options.rounds; round++) {
      for (const { record } of credentials) {
        if (!(await signOnce(record))) break signing;
        if (round === 0 && record === first) {
          for (const kind of probes) {
            await probeOnce(record, kind);
            if (!(await signOnce(record))) break signing;
          }
        }
      }
    }
  } finally {
    // Also when the key fails half-way: what was measured is still judged and shown.
    const { summary, findings } = judge.finish();
    keep(findings);
    outcome.summary = summary;
    outcome.credentials = credentials.map(({ record, reused }) => {
      const seen = summary.credentials.find((c) => c.credentialId === record.id);
      return {
        id: record.id,
        keyHandle: Buffer.from(record.keyHandle.subarray(0, 8)).toString('hex'),
        reused,
        signs: seen?.signs ?? 0,
        ...(seen?.first === undefined ? {} : { first: seen.first }),
        ...(seen?.last === undefined ? {} : { last: seen.last }),
        ...(seen?.history
          ? { historyValue: seen.history.value, historyRunId: seen.history.runId }
          : {}),
      };
    });
  }
}

/**
 * The credentials to sign with: those stored for this key and appId that the key still
 * recognises (check-only answers 0x6985), topped up with new registrations. The registration
 * that identified the key is the first new one, so a key's first run costs K touches.
 */
async function chooseCredentials(
  opened: OpenedDevice,
  device: DeviceRecord,
  store: HistoryStore,
  runId: number,
  options: CountersOptions,
  identifying: Awaited<ReturnType<typeof register>>,
  keep: (findings: FindingInput[]) => void,
): Promise<{ record: CredentialRecord; reused: boolean }[]> {
  const chosen: { record: CredentialRecord; reused: boolean }[] = [];
  for (const stored of store.credentials(device.id, options.appId)) {
    if (chosen.length >= options.credentials) break;
    const statusWord = await inStep(`probe check-only with ${label(stored)}`, () =>
      probe(opened, options, 'check-only', stored.keyHandle),
    );
    if (statusWord === PROBE_SW['check-only']) {
      chosen.push({ record: stored, reused: true });
      continue;
    }
    keep([
      {
        kind: 'credential-not-recognised',
        severity: 'warn',
        credentialId: stored.id,
        message:
          `${label(stored)}: stored for this key in run ${stored.createdRunId ?? '?'} but check-only ` +
          `answered 0x${statusWord.toString(16).padStart(4, '0')}, not 0x6985; not used`,
      },
    ]);
  }
  if (chosen.length > 0) {
    options.log?.(`${opened.description}: reusing ${chosen.length} stored credential(s)`);
  }

  let fresh: Awaited<ReturnType<typeof register>> | undefined = identifying;
  while (chosen.length < options.credentials) {
    const registered = fresh ?? (await inStep('register', () => register(opened, options)));
    fresh = undefined;
    const record = store.recordCredential(
      device.id,
      { appId: options.appId, keyHandle: registered.keyHandle, publicKey: registered.publicKey },
      runId,
    );
    chosen.push({ record, reused: false });
  }
  return chosen;
}
