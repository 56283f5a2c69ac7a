/** The RFC 3261 §17 / RFC 6026 transaction layer: its public surface. */
export * from './types.js';
export { TransactionLayer, type TransactionLayerOptions, type Respond2xxOptions } from './transaction-layer.js';
export { InviteClientTransaction } from './invite-client-transaction.js';
export { NonInviteClientTransaction } from './non-invite-client-transaction.js';
export { InviteServerTransaction } from './invite-server-transaction.js';
export { NonInviteServerTransaction } from './non-invite-server-transaction.js';
export { Invite2xxRetransmitter, type Invite2xxRetransmitterOptions, type Invite2xxRetransmitterState } from './invite-2xx-retransmitter.js';
export { buildCancel } from './build-cancel.js';
export { buildAck } from './build-ack.js';
export { buildResponse, type BuildResponseOptions } from './build-response.js';
export { newBranch, newTag } from './new-branch.js';
export { responseTarget } from './response-target.js';
export { DEFAULT_TIMER_SETTINGS, resolveTimerSettings, timerValues, type TimerValues } from './timers.js';
export { TransactionError, type TransactionErrorCode } from './errors.js';
