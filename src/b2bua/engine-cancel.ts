import { parsePeerHeader } from './peer-header.js';
import { PEER_HEADER } from './policy-types.js';
import { sipReason } from './reason.js';
import type { Failure } from './middleware/resolve-target.js';

/**
 * The CANCEL the embedded engine sends the app itself when the app did not answer a call within its final-answer time
 * (it answered the caller 503 then): it carries the engine's X-Trunkgate-Peer with `origin=engine`, which no network
 * request keeps (the engine removes any copy and writes its own). Such a call was not ended by its caller.
 */
export function isEngineCancel(cancel: { get?(name: string): string | undefined } | undefined, engine: 'external' | undefined): boolean {
  return engine !== 'external' && parsePeerHeader(cancel?.get?.(PEER_HEADER))?.origin === 'engine';
}

const byEngine = new WeakSet<object>();

/** Records that the call's CANCEL was the engine's own. */
export function markEngineCancel(locals: object): void {
  byEngine.add(locals);
}

/** Whether the call's CANCEL was the engine's own. */
export function engineCancelled(locals: object): boolean {
  return byEngine.has(locals);
}

/** How such a call ended: the engine answered the caller 503 and released the call; its Reason when it sent one. */
export function engineGaveUp(reason: string | undefined): Failure {
  return { status: 503, reasonHeader: reason ?? sipReason(503, 'No final answer from the application in time'), cause: 'app-no-answer', releasedBy: 'engine' };
}
