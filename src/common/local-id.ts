import { randomBytes } from 'node:crypto';

/** 64 random bits per process: ids of one run never meet those of an earlier run (an app that reconnects). */
const PREFIX = `${randomBytes(8).toString('hex')}-`;
let counter = 0;

/**
 * An identifier for the engine's own bookkeeping (control-protocol msgIds and transactionIds): unique in this
 * process and across restarts, never written on the SIP wire, opaque to apps (docs/control-protocol.md §2.4).
 * A counter after a random prefix rather than randomUUID(): Node builds each UUID string out of twenty pieces,
 * about 490 bytes of heap for an id that is kept (a transaction's id lives through its 32 s timer), against about
 * 70 bytes here; under load those bytes are copied by every young collection until they are promoted.
 */
export function newLocalId(): string {
  counter++;
  return PREFIX + counter.toString(36);
}
