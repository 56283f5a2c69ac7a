/** RFC 3261 §12 dialog state, addressed by the drachtio dialog id. */
export { Dialog, dialogIdOf, dialogKey, type DialogInit, type DialogRole } from './dialog.js';
export { DialogTable } from './dialog-table.js';
