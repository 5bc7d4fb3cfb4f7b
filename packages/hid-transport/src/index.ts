export * from './constants.js';
export * from './connection.js';
export * from './errors.js';
export * from './frame.js';
export * from './hex.js';
export * from './memory.js';
