import { createSocket, type RemoteInfo } from 'node:dgram';
import { isIP } from 'node:net';

import { REPORT_SIZE } from '@keybench/hid-transport';

import type { VirtualKey } from './virtual-key.js';

/**
 * Control datagrams, told apart from reports by their size (a report is exactly 64 bytes):
 * the ASCII text `keybench:press` presses the button; the key answers `keybench:pressed` to
 * the sender. Anything else that is not 64 bytes long is ignored.
 */
export const UDP_CONTROL = Object.freeze({
  PRESS: 'keybench:press',
  PRESSED: 'keybench:pressed',
} as const);

export interface UdpServer {
  readonly address: string;
  readonly port: number;
  close(): Promise<void>;
}

/**
 * Serves `key` over UDP, one 64-byte report per datagram, no report id (the simulated
 * firmware convention). Replies go to each datagram's sender, or with `replyPort` to
 * host:replyPort (the SoloKeys simulator convention: device 8111, host 7112). Binds to
 * 127.0.0.1 by default. Throws RangeError for a bad port, TypeError for a host that is not
 * an IP address; rejects with the socket error (e.g. EADDRINUSE) when binding fails.
 */
export function serveUdp(
  key: VirtualKey,
  options: { port: number; host?: string; replyPort?: number },
): Promise<UdpServer> {
  const host = options.host ?? '127.0.0.1';
  const { port, replyPort } = options;
  // An address, never a name: resolving a name would send a DNS query off this machine.
  if (isIP(host) === 0) {
    throw new TypeError(`udp: host must be an IP address (e.g. 127.0.0.1), got "${host}"`);
  }
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new RangeError(`udp: port must be 0..65535, got ${port}`);
  }
  if (replyPort !== undefined && (!Number.isInteger(replyPort) || replyPort < 1 ||
    replyPort > 65535)) {
    throw new RangeError(`udp: reply port must be 1..65535, got ${replyPort}`);
  }

  const socket = createSocket(isIP(host) === 6 ? 'udp6' : 'udp4');
  const onMessage = (message: Buffer, sender: RemoteInfo) => {
    if (message.length !== REPORT_SIZE) {
      if (message.toString('latin1') === UDP_CONTROL.PRESS) {
        key.press();
        socket.send(UDP_CONTROL.PRESSED, sender.port, sender.address);
      }
      return;
    }
    const to = replyPort === undefined
      ? { port: sender.port, address: sender.address }
      : { port: replyPort, address: host };
    key.handleReport(new Uint8Array(message), (report) => {
      socket.send(report, to.port, to.address);
    });
  };

  return new Promise((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(port, host, () => {
      socket.off('error', reject);
      // A send to a closed port surfaces as an error event; the key keeps serving.
      socket.on('error', () => {});
      socket.on('message', onMessage);
      const bound = socket.address();
      resolve({
        address: bound.address,
        port: bound.port,
        close: () => new Promise<void>((done) => socket.close(() => done())),
      });
    });
  });
}
