export * from './types.js';
export * from './wire/index.js';
export * from './app-registry.js';
export * from './app-connection.js';
export * from './control-server.js';
export * from './outbound-dialer.js';
export * from './engine.js';
export * from './worker.js';
