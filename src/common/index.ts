export * from './gateway-error.js';
export * from './result.js';
export * from './clock.js';
export * from './typed-emitter.js';
export * from './idle-memory.js';
export * from './local-id.js';
export * from './slot-map.js';
export * from './young-calls.js';
