export * from './logger.js';
export * from './rate-limited-log.js';
export * from './route-console.js';
