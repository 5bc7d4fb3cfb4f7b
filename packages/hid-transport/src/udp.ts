import { type RemoteInfo, type Socket, createSocket } from 'node:dgram';
import { isIP } from 'node:net';

import type { HidConnection } from './connection.js';
import { REPORT_SIZE } from './constants.js';
import { TransportError } from './errors.js';
import { ReportQueue } from './report-queue.js';

export interface UdpOptions {
  /** Device address. Default 127.0.0.1 (loopback). */
  host?: string;
  /** Device port (8111 for SoloKeys / RIOT simulated firmware). */
  port: number;
  /**
   * Fixed local port to receive on (7112 in the simulated-firmware convention, where the
   * device always replies to 127.0.0.1:7112). Omitted: an ephemeral port, for devices that
   * reply to the sender (Trezor emulator, our virtual key).
   */
  localPort?: number;
  /** Reports kept while nobody reads; older ones are dropped and counted. Default 256. */
  queueLimit?: number;
}

const checkPort = (name: string, port: number, allowZero: boolean) => {
  if (!Number.isInteger(port) || port < (allowZero ? 0 : 1) || port > 0xffff) {
    throw new RangeError(`udp: ${name} must be a port number, got ${port}`);
  }
};

/**
 * A HidConnection over UDP: one 64-byte report per datagram, no report-id byte (the
 * simulated-firmware convention, conformance §4). Datagrams from any other address or port
 * than the device's, and datagrams that are not 64 bytes, are dropped and counted.
 *
 * Throws RangeError for bad options, TypeError for a host that is not an IP address, and
 * TransportError('busy') when the local port is taken or ('io') when binding fails.
 */
export async function openUdp(options: UdpOptions): Promise<HidConnection> {
  const host = options.host ?? '127.0.0.1';
  const family = isIP(host);
  if (family === 0) throw new TypeError(`udp: host must be an IP address, got "${host}"`);
  checkPort('port', options.port, false);
  if (options.localPort !== undefined) checkPort('localPort', options.localPort, true);
  const queueLimit = options.queueLimit ?? 256;
  if (!Number.isInteger(queueLimit) || queueLimit < 1) {
    throw new RangeError(`udp: queueLimit must be a positive integer, got ${queueLimit}`);
  }

  const socket = createSocket(family === 6 ? 'udp6' : 'udp4');
  const loopback = host === '127.0.0.1' || host === '::1' || host.startsWith('127.');
  const bindAddress = loopback ? host : family === 6 ? '::' : '0.0.0.0';

  await new Promise<void>((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException) => {
      socket.close();
      const kind = error.code === 'EADDRINUSE' ? 'busy' : 'io';
      reject(
        new TransportError(
          kind,
          `udp: cannot listen on ${bindAddress}:${options.localPort ?? 0}: ${error.message}`,
          { cause: error },
        ),
      );
    };
    socket.once('error', onError);
    socket.bind({ port: options.localPort ?? 0, address: bindAddress, exclusive: true }, () => {
      socket.off('error', onError);
      resolve();
    });
  });

  return new UdpConnection(socket, host, options.port, queueLimit);
}

/** @internal the UDP connection; exported through openUdp only. */
class UdpConnection implements HidConnection {
  readonly description: string;
  droppedReports = 0;
  private readonly socket: Socket;
  private readonly host: string;
  private readonly port: number;
  private readonly queue: ReportQueue;
  private closed = false;

  constructor(socket: Socket, host: string, port: number, queueLimit: number) {
    this.socket = socket;
    this.host = host;
    this.port = port;
    this.description = `udp:${host}:${port}`;
    this.queue = new ReportQueue(this.description, queueLimit);
    socket.on('message', (message, from) => this.receive(message, from));
    socket.on('error', (error) => {
      const failure = new TransportError('io', `${this.description}: ${error.message}`, {
        cause: error,
      });
      this.queue.end(failure, false);
    });
  }

  /** Local port (useful when it was ephemeral). */
  get localPort(): number {
    return this.socket.address().port;
  }

  private receive(message: Buffer, from: RemoteInfo): void {
    if (from.address !== this.host || from.port !== this.port || message.length !== REPORT_SIZE) {
      this.droppedReports++;
      return;
    }
    if (!this.queue.push(new Uint8Array(message))) this.droppedReports++;
  }

  async write(report: Uint8Array): Promise<void> {
    const ended = this.queue.ended;
    if (ended) throw ended;
    if (report.length !== REPORT_SIZE) {
      throw new RangeError(`${this.description}: report must be 64 bytes, got ${report.length}`);
    }
    await new Promise<void>((resolve, reject) => {
      this.socket.send(report, this.port, this.host, (error) => {
        if (error) {
          reject(new TransportError('io', `${this.description}: send failed: ${error.message}`));
        } else {
          resolve();
        }
      });
    });
  }

  read(timeoutMs: number): Promise<Uint8Array | null> {
    return this.queue.take(timeoutMs);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.queue.end(new TransportError('closed', `${this.description}: closed`), true);
    await new Promise<void>((resolve) => this.socket.close(() => resolve()));
  }
}
