export * from './identify-peer.js';
export * from './check-max-forwards.js';
export * from './map-permissions.js';
export * from './classify-number.js';
export * from './check-permission.js';
export * from './select-dial-peer.js';
export * from './place-call.js';
export * from './build-pipeline.js';
