#!/usr/bin/env node
// Drives KEYS virtual keys, each `keybench virtual-key --udp 0` in its own process, for SECONDS
// from this one process (the harness), each key on its own queue. Prints one JSON report:
// exchanges per second, this process's CPU per exchange and peak RSS, and how busy the machine was.
import { spawn } from 'node:child_process';
import os from 'node:os';
import { fileURLToPath } from 'node:url';

const [keys = 1, seconds = 3] = process.argv.slice(2).map(Number);
const cli = fileURLToPath(new URL('../packages/harness/dist/cli.js', import.meta.url));
const load = (pkg) => import(new URL(`../packages/${pkg}/dist/index.js`, import.meta.url).href);
const { openUdp, CtapHidChannel, U2fDevice } = await load('hid-transport');
const { runExchange } = await load('harness');

function startKey() {
  const child = spawn(process.execPath, [cli, 'virtual-key', '--udp', '0'], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let text = '';
    const timer = setTimeout(() => reject(new Error(`virtual-key did not start: ${text}`)), 20_000);
    child.stdout.setEncoding('utf8').on('data', (chunk) => {
      text += chunk;
      const match = /virtual-key listening on udp:(\S+):(\d+)/.exec(text);
      if (match) {
        clearTimeout(timer);
        resolve({ child, port: Number(match[2]) });
      }
    });
    child.on('close', (code) => reject(new Error(`virtual-key exited ${code}: ${text}`)));
  });
}

const cpuTimes = () => os.cpus().reduce((acc, c) => {
  const t = c.times;
  acc.busy += t.user + t.nice + t.sys + t.irq;
  acc.total += t.user + t.nice + t.sys + t.irq + t.idle;
  return acc;
}, { busy: 0, total: 0 });

const processes = await Promise.all(Array.from({ length: keys }, startKey));
try {
  const devices = await Promise.all(processes.map(async ({ port }) => {
    const channel = await CtapHidChannel.open(await openUdp({ host: '127.0.0.1', port }));
    return { description: `udp:${port}`, channel, device: new U2fDevice(channel), close: () => channel.close() };
  }));
  const options = { appId: 'https://bench.example', origin: 'https://bench.example' };
  await Promise.all(devices.map((d) => runExchange(d, options)));

  let exchanges = 0;
  const cpu0 = process.cpuUsage();
  const machine0 = cpuTimes();
  const start = performance.now();
  const until = start + seconds * 1000;
  await Promise.all(devices.map(async (d) => {
    while (performance.now() < until) {
      await runExchange(d, options);
      exchanges++;
    }
  }));
  const elapsed = (performance.now() - start) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const machine1 = cpuTimes();
  await Promise.all(devices.map((d) => d.close()));

  const cpuMs = (cpu.user + cpu.system) / 1000;
  process.stdout.write(JSON.stringify({
    keys,
    exchanges,
    seconds: elapsed,
    exchangesPerSec: exchanges / elapsed,
    harnessCpuMsPerExchange: cpuMs / exchanges,
    harnessCpuShare: cpuMs / 1000 / elapsed,
    machineBusy: (machine1.busy - machine0.busy) / (machine1.total - machine0.total),
    peakRssMB: process.resourceUsage().maxRSS / 1024,
  }));
} finally {
  for (const { child } of processes) child.kill('SIGTERM');
}
