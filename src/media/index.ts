export * from './errors.js';
export * from './media-policy.js';
export * from './sdp-media.js';
export * from './ng-flags.js';
export * from './ng-transport.js';
export * from './delete-stats.js';
export * from './rtpengine-pool.js';
export * from './media-session.js';
