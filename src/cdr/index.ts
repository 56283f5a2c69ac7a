export * from './errors.js';
export * from './jsonl-file.js';
export * from './disk-queue.js';
export * from './pg-schema.js';
export * from './postgres.js';
export * from './sink.js';
