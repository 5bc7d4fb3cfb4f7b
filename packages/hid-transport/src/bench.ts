import { MAX_MESSAGE_SIZE } from './constants.js';
import { MessageAssembler, continuationCount, decodeFrame, encodeMessage } from './frame.js';

export interface TransportBenchResult {
  /** 64-byte frames produced per second while encoding 7609-byte messages. */
  framesEncodedPerSec: number;
  /** 64-byte frames consumed per second while reassembling 7609-byte messages. */
  framesDecodedPerSec: number;
  /** Payload megabytes (10^6 bytes) per second, encoding. */
  encodeMBps: number;
  /** Payload megabytes per second, decoding. */
  decodeMBps: number;
}

/**
 * Measures framing speed for the largest message (7609 bytes = 129 frames): encoding with
 * encodeMessage and reassembly with decodeFrame + MessageAssembler. Throws RangeError for
 * iterations < 1 and Error if a round trip ever comes back different.
 */
export async function runTransportBench(
  options: { iterations?: number } = {},
): Promise<TransportBenchResult> {
  const iterations = options.iterations ?? 2000;
  if (!Number.isInteger(iterations) || iterations < 1) {
    throw new RangeError(`bench: iterations must be a positive integer, got ${iterations}`);
  }
  const payload = new Uint8Array(MAX_MESSAGE_SIZE);
  for (let i = 0; i < payload.length; i++) payload[i] = (i * 31 + 7) & 0xff;
  const framesPerMessage = 1 + continuationCount(payload.length);
  const cid = 0x01020304;

  for (let i = 0; i < Math.min(50, iterations); i++) encodeMessage(cid, 0x83, payload);

  let frames: Uint8Array[] = [];
  const encodeStart = performance.now();
  for (let i = 0; i < iterations; i++) frames = encodeMessage(cid, 0x83, payload);
  const encodeSeconds = (performance.now() - encodeStart) / 1000;

  let decoded: Uint8Array = new Uint8Array(0);
  const decodeStart = performance.now();
  for (let i = 0; i < iterations; i++) decoded = reassemble(frames);
  const decodeSeconds = (performance.now() - decodeStart) / 1000;

  if (decoded.length !== payload.length || decoded.some((b, i) => b !== payload[i])) {
    throw new Error('bench: framing round trip changed the payload');
  }
  const bytes = iterations * payload.length;
  return {
    framesEncodedPerSec: (iterations * framesPerMessage) / encodeSeconds,
    framesDecodedPerSec: (iterations * framesPerMessage) / decodeSeconds,
    encodeMBps: bytes / 1e6 / encodeSeconds,
    decodeMBps: bytes / 1e6 / decodeSeconds,
  };
}

function reassemble(frames: readonly Uint8Array[]): Uint8Array {
  const head = decodeFrame(frames[0]!);
  if (head.type !== 'init') throw new Error('bench: first frame is not an init frame');
  const assembler = new MessageAssembler(head);
  for (let i = 1; i < frames.length; i++) {
    const frame = decodeFrame(frames[i]!);
    if (frame.type !== 'cont') throw new Error('bench: expected a continuation frame');
    assembler.push(frame);
  }
  return assembler.message();
}
