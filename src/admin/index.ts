export * from './admin-services.js';
export * from './errors.js';
export * from './metrics.js';
export * from './build-admin.js';
export * from './start-admin.js';
