export * from './schemas.js';
export * from './binary.js';
export * from './nav-api.js';
export * from './socket-protocol.js';
