export * from './errors.js';
export * from './cipher-names.js';
export * from './identity.js';
export * from './failure.js';
export * from './tls-stats.js';
export * from './profile.js';
export * from './sni.js';
export * from './reloader.js';
