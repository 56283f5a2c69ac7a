export * from './errors.js';
export * from './target-uri.js';
export * from './call-stats.js';
export * from './bridge-call.js';
export * from './start-b2bua.js';
