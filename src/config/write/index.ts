export * from './kinds.js';
export * from './errors.js';
export * from './etag.js';
export * from './locate.js';
export * from './yaml-edit.js';
export * from './atomic-write.js';
export * from './config-store.js';
