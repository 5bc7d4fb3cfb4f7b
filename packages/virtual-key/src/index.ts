export { VirtualKey, type VirtualKeyOptions } from './virtual-key.js';
export { type PresenceMode, PRESENCE_MODES } from './presence.js';
export {
  FAULTS,
  FAULT_VALUE_LIMIT,
  parseFault,
  isFaultName,
  type FaultName,
  type FaultSpec,
  type FaultDefinition,
  type FaultValueKind,
} from './faults.js';
export { PROFILES, getProfile, type Profile, type ProfileName } from './profiles.js';
export { serveUdp, UDP_CONTROL, type UdpServer } from './udp.js';
export { StateFileError, type CounterMode } from './state.js';
export { DEVICE_TIMING } from './channel.js';
export { DEVICE_SW } from './u2f.js';
export { KEY_HANDLE_LENGTH } from './key-handle.js';
export { serveFifo, FIFO_CMD, FIFO_MAX_PAYLOAD, FIFO_VALUE, type FifoServer } from './fifo.js';
export {
  serveUhid,
  UhidError,
  UHID_DEFAULTS,
  type UhidErrorKind,
  type UhidKey,
  type UhidOptions,
  type UhidServer,
} from './uhid.js';
