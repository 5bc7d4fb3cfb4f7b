#!/usr/bin/env node
// KeyBench benchmarks: every figure beside the limit it is measured against, in one run.
// Usage: pnpm bench [--quick] [--vm] [--json FILE]   (--vm adds the uhid VM test's timings)
// Prints a table on stdout and writes bench-results.json (or FILE).
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = fileURLToPath(new URL('..', import.meta.url));
const load = (pkg) => import(new URL(`../packages/${pkg}/dist/index.js`, import.meta.url).href);

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    json: { type: 'string', default: 'bench-results.json' },
    vm: { type: 'boolean', default: false },
  },
});
const quick = values.quick;
const scale = (n) => (quick ? Math.max(1, Math.round(n / 50)) : n);

const rows = [];
/** One figure and the limit it is judged against. */
function record(area, name, value, unit, limit) {
  rows.push({ area, name, value, unit, limit: limit ?? null });
}
const round = (n, digits = 1) => Number(n.toFixed(digits));

async function benchServerCore() {
  const { runServerCoreBench } = await load('server-core');
  const r = await runServerCoreBench({ iterations: scale(4000) });
  const auth = r.completeAuthenticationPerSec / r.rawVerifyPerSec;
  const reg = r.completeRegistrationPerSec / r.rawVerifyPerSec;
  record('server-core', 'raw node:crypto P-256 verify', round(r.rawVerifyPerSec), 'ops/s', 'reference');
  record('server-core', 'completeAuthentication', round(r.completeAuthenticationPerSec), 'ops/s',
    `≥ 70 % of raw verify: ${round(auth * 100)} % ${auth >= 0.7 ? 'met' : 'MISSED'}`);
  record('server-core', 'completeRegistration', round(r.completeRegistrationPerSec), 'ops/s',
    `≥ 50 % of raw verify: ${round(reg * 100)} % ${reg >= 0.5 ? 'met' : 'MISSED'}`);
  record('server-core', 'completeAuthentication, pure-JS engine', round(r.nobleAuthenticationPerSec),
    'ops/s', 'fallback engine');
}

async function benchTransport() {
  const { runTransportBench } = await load('hid-transport');
  const r = await runTransportBench({ iterations: scale(5000) });
  record('hid-transport', 'encode 7609-byte messages', round(r.encodeMBps), 'MB/s', null);
  record('hid-transport', 'decode 7609-byte messages', round(r.decodeMBps), 'MB/s', null);
  record('hid-transport', 'frames encoded', round(r.framesEncodedPerSec), 'frames/s', null);
  record('hid-transport', 'frames decoded', round(r.framesDecodedPerSec), 'frames/s', null);
}

/** Exchanges per second through the whole stack with an in-process key, vs its signing rate. */
async function benchEndToEnd() {
  const { VirtualKey } = await load('virtual-key');
  const { CtapHidChannel, U2fDevice } = await load('hid-transport');
  const { runExchange } = await load('harness');

  const limit = await measureKeyLimit(VirtualKey, CtapHidChannel, U2fDevice);
  const key = await VirtualKey.create({});
  const channel = await CtapHidChannel.open(key.connect());
  const opened = { description: 'virtual', channel, device: new U2fDevice(channel), close: async () => {} };
  const n = scale(300);
  const options = { appId: 'https://bench.example', origin: 'https://bench.example' };
  await runExchange(opened, options);
  const start = performance.now();
  for (let i = 0; i < n; i++) await runExchange(opened, options);
  const perSec = n / ((performance.now() - start) / 1000);
  await channel.close();
  await key.close();
  record('end to end', 'verified register+authenticate, in-process key', round(perSec), 'exchanges/s',
    `≥ 60 % of the key's limit ${round(limit)}/s: ${round((perSec / limit) * 100)} % ${perSec / limit >= 0.6 ? 'met' : 'MISSED'}`);
}

/**
 * The virtual key's own limit: raw REGISTER + AUTHENTICATE round trips in process, with no
 * verification. While doing that, the time the key itself spends in handleReport is summed,
 * so what is left is the host's own time per exchange (framing, channel, APDUs).
 */
async function measureKeyLimit(VirtualKey, CtapHidChannel, U2fDevice) {
  const key = await VirtualKey.create({});
  let keyMs = 0;
  const handle = key.handleReport.bind(key);
  key.handleReport = (report, reply) => {
    const start = performance.now();
    try {
      handle(report, reply);
    } finally {
      keyMs += performance.now() - start;
    }
  };
  const channel = await CtapHidChannel.open(key.connect());
  const device = new U2fDevice(channel);
  const appParam = new Uint8Array(32).fill(1);
  const exchange = async (i) => {
    const reg = await device.register(new Uint8Array(32).fill(i & 0xff), appParam);
    const keyHandle = reg.subarray(67, 67 + reg[66]);
    await device.authenticate(new Uint8Array(32).fill(~i & 0xff), appParam, keyHandle);
  };
  await exchange(0);
  const n = scale(300);
  keyMs = 0;
  const start = performance.now();
  for (let i = 0; i < n; i++) await exchange(i);
  const totalMs = performance.now() - start;
  const rate = n / (totalMs / 1000);
  const hostMs = (totalMs - keyMs) / n / 2;
  record('virtual-key', 'raw REGISTER+AUTHENTICATE, in-process (the key\'s limit)', round(rate), 'exchanges/s', 'limit for end to end');
  record('hid-transport', 'host time per U2F command on top of the key\'s work', round(hostMs, 3), 'ms',
    `< 0.2 ms: ${hostMs < 0.2 ? 'met' : 'MISSED'}`);
  await channel.close();
  await key.close();
  return rate;
}

/** Runs scripts/bench-drive.mjs against N virtual-key processes; returns its report. */
function driveKeys(keys, seconds) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [fileURLToPath(new URL('bench-drive.mjs', import.meta.url)),
      String(keys), String(seconds)], { stdio: ['ignore', 'pipe', 'inherit'], cwd: root });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (c) => (out += c));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) reject(new Error(`bench-drive ${keys} exited ${code}`));
      else resolve(JSON.parse(out));
    });
  });
}

async function benchManyKeys() {
  const seconds = quick ? 0.5 : 4;
  let base;
  for (const keys of [1, 4, 16]) {
    const r = await driveKeys(keys, seconds);
    base ??= r.exchangesPerSec;
    record('many keys (UDP, one process each)', `${keys} key${keys > 1 ? 's' : ''}: exchanges`, round(r.exchangesPerSec),
      'exchanges/s', `${round(r.exchangesPerSec / base, 2)}× of 1 key; machine busy ${round(r.machineBusy * 100)} % of ${os.cpus().length} cores`);
    record('many keys (UDP, one process each)', `${keys} key${keys > 1 ? 's' : ''}: harness CPU per exchange`, round(r.harnessCpuMsPerExchange, 3),
      'ms', `harness uses ${round(r.harnessCpuShare * 100)} % of one core`);
    if (keys === 16) record('many keys (UDP, one process each)', '16 keys: harness peak RSS', round(r.peakRssMB), 'MB', null);
    if (keys === 1) record('end to end', 'verified register+authenticate, key in another process (UDP)', round(r.exchangesPerSec), 'exchanges/s', null);
  }
}

async function benchConformance() {
  const { runConformance } = await load('harness');
  const start = performance.now();
  const report = await runConformance('virtual', quick ? { grep: 'VERSION' } : {});
  const seconds = (performance.now() - start) / 1000;
  const { pass, fail, skip, total } = report.summary;
  record('conformance', `${quick ? 'VERSION cases' : 'full suite'} vs virtual key (in-process)`,
    round(seconds, 2), 's', `< 60 s: ${seconds < 60 ? 'met' : 'MISSED'} (${pass} passed, ${fail} failed, ${skip} skipped of ${total})`);
  if (fail > 0) throw new Error(`conformance: ${fail} cases failed against the default virtual key`);
}

/**
 * The kernel path (--vm): runs the uhid VM test and takes its timings — image build, boot,
 * check and conformance through node-hid and hidraw in the guest, beside the same commands
 * in process on this machine.
 */
async function benchVm() {
  const output = await new Promise((resolve, reject) => {
    const child = spawn('bash', [fileURLToPath(new URL('vm/run-vm-test.sh', import.meta.url))], {
      stdio: ['ignore', 'pipe', 'pipe'],
      cwd: root,
    });
    let text = '';
    child.stdout.setEncoding('utf8').on('data', (c) => (text += c));
    child.stderr.setEncoding('utf8').on('data', (c) => (text += c));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0) resolve(text);
      else reject(new Error(`VM test exited ${code}; its last lines:\n${text.split('\n').slice(-40).join('\n')}`));
    });
  });
  const seconds = (pattern) => {
    const match = pattern.exec(output);
    if (!match) throw new Error(`VM output has no ${pattern}`);
    return match[2] === 'ms' ? Number(match[1]) / 1000 : Number(match[1]);
  };
  const area = 'kernel path (uhid in a QEMU guest, TCG)';
  record(area, 'image build (cached kernel, KeyBench repacked)', round(seconds(/image build\s+([\d.]+) (s)/), 2), 's', null);
  record(area, 'boot to /init', round(seconds(/boot to \/init\s+([\d.]+) (s)/), 2), 's', null);
  record(area, 'keybench check --device hid (guest)', round(seconds(/guest check=(\d+)(ms)/), 2), 's',
    `in process on the host: ${round(seconds(/host check --device virtual \(in-process\)\s+([\d.]+) (s)/), 2)} s`);
  record(area, 'keybench conformance --device hid (guest)', round(seconds(/guest conformance=(\d+)(ms)/), 2), 's',
    `in process on the host: ${round(seconds(/host conformance --device virtual \(in-process\)\s+([\d.]+) (s)/), 2)} s`);
}

const steps = [benchServerCore, benchTransport, benchEndToEnd, benchManyKeys, benchConformance];
if (values.vm) steps.push(benchVm);
let failed = false;
for (const step of steps) {
  try {
    await step();
  } catch (error) {
    failed = true;
    process.stderr.write(`bench: ${step.name} failed: ${error?.stack ?? error}\n`);
  }
}

const machine = {
  cpu: os.cpus()[0]?.model ?? 'unknown',
  cores: os.cpus().length,
  memoryGiB: round(os.totalmem() / 2 ** 30),
  node: process.version,
  platform: `${os.type()} ${os.release()}`,
  date: new Date().toISOString(),
  quick,
};

const widths = [0, 0, 0, 0];
const cells = rows.map((r) => [r.area, r.name, `${Number.isNaN(r.value) ? '—' : r.value} ${r.unit}`, r.limit ?? '']);
for (const row of cells) row.forEach((c, i) => (widths[i] = Math.max(widths[i], c.length)));
console.log(`KeyBench benchmarks — ${machine.cpu}, ${machine.cores} cores, Node ${machine.node}${quick ? ' (quick run: tiny counts, figures not meaningful)' : ''}`);
for (const row of cells) console.log(row.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd());
writeFileSync(values.json, `${JSON.stringify({ machine, results: rows }, null, 2)}\n`);
console.log(`wrote ${values.json}`);
process.exitCode = failed ? 1 : 0;
