// The VM test proper, run by the guest's /init (guest-init.sh) under a timeout. Starts the
// virtual key on /dev/uhid, then drives KeyBench's CLI through node-hid and the kernel's
// hidraw: `devices`, `check --device hid`, `conformance --device hid`. Every child process has
// its own timeout. Prints `KEYBENCH-VM ...` lines the host script reads (PASS/FAIL, times)
// and exits 0 only if every step that ran passed.
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';

const CLI = '/keybench/packages/harness/dist/cli.js';
const FIDO_USAGE_PAGE = 0xf1d0;
const STEP_TIMEOUT_MS = { devices: 40_000, check: 60_000, conformance: 150_000 };

const say = (line) => console.log(`KEYBENCH-VM ${line}`);
const since = (t0) => Math.round(performance.now() - t0);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const failures = [];
const fail = (what) => {
  failures.push(what);
  say(`FAIL ${what}`);
};

/** Echoes a child's output line by line with a prefix, and keeps it. */
function collect(stream, prefix, sink) {
  let pending = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk) => {
    sink.text += chunk;
    pending += chunk;
    const lines = pending.split('\n');
    pending = lines.pop() ?? '';
    for (const line of lines) console.log(`${prefix}| ${line}`);
  });
  stream.on('end', () => pending && console.log(`${prefix}| ${pending}`));
}

/** Runs `keybench ARGS` with a timeout (SIGKILL); resolves { status, stdout, stderr, ms }. */
function keybench(name, args, timeoutMs, echo = true) {
  return new Promise((resolve) => {
    const t0 = performance.now();
    const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    const out = { text: '' };
    const err = { text: '' };
    collect(child.stdout, echo ? name : `${name}(quiet)`, out);
    collect(child.stderr, `${name}!`, err);
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const status = timedOut ? 'timeout' : (code ?? signal);
      resolve({ status, stdout: out.text, stderr: err.text, ms: since(t0) });
    });
  });
}

/** hidraw nodes whose report descriptor starts with Usage Page 0xF1D0 (06 d0 f1). */
function fidoHidraws() {
  if (!existsSync('/sys/class/hidraw')) return [];
  return readdirSync('/sys/class/hidraw').filter((name) => {
    try {
      const rd = readFileSync(`/sys/class/hidraw/${name}/device/report_descriptor`);
      return rd[0] === 0x06 && rd[1] === 0xd0 && rd[2] === 0xf1;
    } catch {
      return false;
    }
  });
}

async function waitFor(predicate, timeoutMs, stepMs = 50) {
  const t0 = performance.now();
  while (performance.now() - t0 < timeoutMs) {
    if (predicate()) return true;
    await sleep(stepMs);
  }
  return predicate();
}

const tStart = performance.now();
say(`test node ${process.version}, /dev/uhid ${existsSync('/dev/uhid') ? 'present' : 'MISSING'}`);

// 1. The key, in the background: the CLI's --uhid; a build whose virtual-key command does
// not know --uhid yet (yargs: "Unknown argument(s)") falls back to guest-key.mjs.
function startKey(args) {
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const err = { text: '' };
  collect(child.stdout, 'key', { text: '' });
  collect(child.stderr, 'key!', err);
  return { child, err };
}
const tKey = performance.now();
let { child: key, err: keyErr } = startKey([
  CLI, 'virtual-key', '--uhid', '--state', '/tmp/key-state.json',
]);
let keyExit;
const watch = (child) => new Promise((resolve) => child.on('close', (code, signal) => {
  keyExit = code ?? signal;
  resolve();
}));
let keyClosed = watch(key);

let appeared = await waitFor(() => keyExit !== undefined || fidoHidraws().length > 0, 30_000);
if (keyExit !== undefined && /Unknown arguments?: .*\buhid\b/.test(keyErr.text)) {
  say('note: keybench virtual-key has no --uhid in this build; using guest-key.mjs');
  keyExit = undefined;
  ({ child: key, err: keyErr } = startKey(['/guest-key.mjs', '/tmp/key-state.json']));
  keyClosed = watch(key);
  appeared = await waitFor(() => keyExit !== undefined || fidoHidraws().length > 0, 30_000);
}
const nodes = fidoHidraws();
if (!appeared || nodes.length === 0) {
  const state = keyExit === undefined ? 'running' : `exited ${keyExit}`;
  fail(`no FIDO hidraw node appeared (key ${state})`);
} else {
  say(`hidraw ${nodes.join(',')} appeared ${since(tKey)} ms after starting the key`);
  say(`time key-start=${since(tKey)}ms`);
}

// 2. devices: node-hid must list the key with usage page 0xF1D0.
if (failures.length === 0) {
  const devices = await keybench('devices', ['devices', '--json'], STEP_TIMEOUT_MS.devices);
  let listed;
  try {
    listed = JSON.parse(devices.stdout).find((d) => d.usagePage === FIDO_USAGE_PAGE);
  } catch {
    listed = undefined;
  }
  if (devices.status !== 0 || !listed) {
    fail(`devices did not list a usage page 0xF1D0 device (status ${devices.status})`);
  } else {
    const hex4 = (n) => n.toString(16).padStart(4, '0');
    const id = `${hex4(listed.vendorId)}:${hex4(listed.productId)}`;
    say(`devices listed hid:${listed.path} ${id} usagePage 0x${listed.usagePage.toString(16)} ` +
      `usage ${listed.usage} product "${listed.product ?? ''}" ` +
      `serial "${listed.serialNumber ?? ''}"`);
    say(`time devices=${devices.ms}ms`);
  }
}

// 3. check through node-hid → hidraw → uhid → the key.
if (failures.length === 0) {
  const check = await keybench('check', ['check', '--device', 'hid'], STEP_TIMEOUT_MS.check);
  if (check.status === 0 && /verified/.test(check.stdout)) {
    say(`check verified (registration and authentication over hidraw)`);
    say(`time check=${check.ms}ms`);
  } else {
    fail(`check --device hid (status ${check.status})`);
  }
}

// 3b. A C program through libfido2's own hidraw backend: fido2-token -L lists the key.
if (failures.length === 0) {
  if (!existsSync('/usr/bin/fido2-token')) {
    say('SKIP fido2-token: not in this image (apt-get download fido2-tools failed)');
  } else {
    const t0 = performance.now();
    const listed = await new Promise((resolve) => {
      const child = spawn('/usr/bin/fido2-token', ['-L'], { stdio: ['ignore', 'pipe', 'pipe'] });
      const out = { text: '' };
      collect(child.stdout, 'fido2-token', out);
      collect(child.stderr, 'fido2-token!', { text: '' });
      const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
      child.on('close', (code) => {
        clearTimeout(timer);
        resolve(code === 0 ? out.text : '');
      });
    });
    const line = listed.split('\n').find((l) => /^\/dev\/hidraw\d+: vendor=0x1209/.test(l));
    if (line) say(`fido2-token listed ${line} (${since(t0)} ms)`);
    else fail('fido2-token -L did not list the key');
  }
}

// 4. conformance. A build without the command fails with yargs' "Unknown argument(s)":
// reported as skipped, not failed.
if (failures.length === 0) {
  const conf = await keybench(
    'conformance',
    ['conformance', '--device', 'hid'],
    STEP_TIMEOUT_MS.conformance,
  );
  if (conf.status !== 0 && /Unknown arguments?: .*\bconformance\b/.test(conf.stderr)) {
    say('SKIP conformance: this build of keybench has no conformance command');
  } else if (conf.status === 0) {
    const counts = /(\d+) passed, (\d+) failed, (\d+) skipped/.exec(conf.stdout);
    const summary = counts?.[0] ?? 'no summary';
    say(`conformance passed (${summary})`);
    say(`time conformance=${conf.ms}ms`);
  } else {
    fail(`conformance --device hid (status ${conf.status})`);
  }
}

// 5. Stop the key: it must exit promptly, and the kernel must drop the device with it.
if (keyExit === undefined) key.kill('SIGTERM');
let stopTimer;
const stopped = await Promise.race([
  keyClosed.then(() => true),
  new Promise((resolve) => (stopTimer = setTimeout(resolve, 10_000, false))),
]);
clearTimeout(stopTimer);
if (!stopped) {
  key.kill('SIGKILL');
  fail('the key did not exit within 10 s of SIGTERM');
} else if (failures.length === 0 && keyExit !== 0) {
  fail(`the key exited with ${keyExit}`);
}
if (!(await waitFor(() => fidoHidraws().length === 0, 3_000))) {
  fail('the hidraw node outlived the key');
} else if (stopped) {
  say('device removed after the key stopped');
}

// 6. Any exit path must end the process and take the device with it: an uncaught error
// while the reader thread runs and the device is up.
if (failures.length === 0) {
  const tCrash = performance.now();
  const { child: crasher } = startKey(['/guest-key.mjs', '--crash']);
  let crashExit;
  const crashed = new Promise((resolve) => crasher.on('close', (code, signal) => {
    crashExit = code ?? signal;
    resolve();
  }));
  await waitFor(() => crashExit !== undefined || fidoHidraws().length > 0, 30_000);
  const ended = await waitFor(() => crashExit !== undefined, 20_000);
  if (!ended) {
    crasher.kill('SIGKILL');
    await crashed;
    fail('a key that threw an uncaught error was still running 20 s later');
  } else if (!(await waitFor(() => fidoHidraws().length === 0, 3_000))) {
    fail('the hidraw node outlived a crashed key');
  } else {
    say(`crash probe: uncaught error ended the key (exit ${crashExit}) and removed the device ` +
      `in ${since(tCrash)} ms`);
  }
}

say(`time guest-test=${since(tStart)}ms`);
if (failures.length === 0) {
  say('PASS');
  process.exitCode = 0;
} else {
  say(`FAIL ${failures.length} step(s): ${failures.join('; ')}`);
  process.exitCode = 1;
}
