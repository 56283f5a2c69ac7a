export * from './errors.js';
export * from './names.js';
export * from './enrol.js';
export * from './authorities.js';
export * from './service.js';
