export * from './errors.js';
export * from './frame-decoder.js';
export * from './control-message.js';
export * from './server-messages.js';
export * from './app-commands.js';
