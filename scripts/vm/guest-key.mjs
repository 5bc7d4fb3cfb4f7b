// Fallback key for the VM guest, used only when this build's `keybench virtual-key` has no
// --uhid option yet: the same VirtualKey, served through serveUhid from the built dist.
// Usage: node guest-key.mjs [STATE_FILE]. Stops on SIGTERM/SIGINT (the device goes with it).
import { VirtualKey } from '/keybench/packages/virtual-key/dist/index.js';
import { serveUhid } from '/keybench/packages/virtual-key/dist/uhid.js';

const key = await VirtualKey.create(process.argv[2] ? { stateFile: process.argv[2] } : {});
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
