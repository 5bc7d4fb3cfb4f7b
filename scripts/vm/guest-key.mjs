// The key for the VM guest when the CLI cannot serve it: used when this build's
// `keybench virtual-key` has no --uhid option yet, and for the crash probe. The same
// VirtualKey, served through serveUhid from the built dist.
// Usage: node guest-key.mjs [--crash] [STATE_FILE]. Stops on SIGTERM/SIGINT (the device goes
// with it). --crash throws an uncaught error once the kernel started the device: the process
// must still end, and the kernel must remove the device.
import { VirtualKey } from '/keybench/packages/virtual-key/dist/index.js';
import { serveUhid } from '/keybench/packages/virtual-key/dist/uhid.js';

const crash = process.argv[2] === '--crash';
const stateFile = process.argv[crash ? 3 : 2];
const key = await VirtualKey.create(stateFile ? { stateFile } : {});
// Kernel events only: one line per report would slow the guest's serial console.
const trace = (line) => {
  if (!/^uhid: (in |out)/.test(line)) process.stderr.write(`${line}\n`);
};
const server = serveUhid(key, { trace });
process.stdout.write('virtual-key serving on uhid (scripts/vm/guest-key.mjs)\n');

const stop = async () => {
  await server.close();
  await key.close();
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);

if (crash && (await server.started)) {
  setTimeout(() => {
    throw new Error('guest-key: deliberate crash with the uhid device open');
  }, 200);
}
