import { getHeader } from '../sip/message/index.js';
import { addressUser, calledUser } from '../policy/uri-user.js';
import type { SipRequest } from '../sip/message/types.js';
import { ownString } from '../sip/message/own-string.js';
import { MAX_KEPT_CHARS, printable } from '../common/printable.js';
import type { TransactionErrorCode } from '../sip/transaction/errors.js';
import type { BadRequestCode, Flow, TransportProtocol } from '../sip/transport/types.js';
import type { CoreErrorCode } from './core/errors.js';
import type { EngineErrorCode } from './errors.js';

/**
 * The stable codes a refusal of a new INVITE is recorded under: the engine's edge and core, the transaction layer's
 * cap, and the transport's 400 for a request it could not parse.
 */
export type RefusalCode = EngineErrorCode | CoreErrorCode | TransactionErrorCode | BadRequestCode;

/**
 * One new INVITE the engine refused before any app saw it: what the gateway turns into that call's CDR
 * (src/refusal-cdrs.ts). Plain data, so it crosses from the engine's worker thread by postMessage. Every string read
 * from the request is a capped copy; a field the request did not carry in a usable form is null.
 */
export interface RefusalRecord {
  /** When the refusal was sent, ms since the epoch. */
  time: number;
  callId: string | null;
  /** The From URI's user part (a tel: URI's number), as it came. */
  callingNumber: string | null;
  /** The Request-URI's user part (a tel: URI's number), as it came. */
  calledNumber: string | null;
  sourceAddress: string;
  sourcePort: number;
  transport: TransportProtocol;
  /** The listener that took it, `address:port` (drachtio's recvAddr:recvPort, as the b2bua's records have it). */
  listener: string;
  /** The tenant whose listener or trusted sources judged it, when one did. */
  tenant: string | null;
  /** The final status sent, and the value of the Reason header it carried (RFC 3326). */
  status: number;
  reason: string;
  /** The stable error code of the refusal (a RefusalCode, src/error-codes.ts). */
  code: string;
}

/** Where the engine's refusals of requests are told (refusal-records.ts keeps those of new INVITEs). */
export interface RefusalReporter {
  /**
   * `request` was answered `status` with `reason` (the Reason header's value) for `code`. `tenant` when the flow does
   * not carry it (a source the trust check refused on a tenant's listener).
   */
  refused(request: SipRequest, flow: Flow, status: number, reason: string, code: RefusalCode, tenant?: string): void;
}

/** Longest text a record keeps of any string the network sent (the same as every record: src/common/printable.ts). */
export const MAX_FIELD_CHARS = MAX_KEPT_CHARS;
/** Longest header value read for a URI: enough for any real From or Request-URI, and a bound on what one parse costs. */
const MAX_URI_INPUT = 2_048;

/**
 * A copy of network text that keeps nothing of the message it came from, printable as every record keeps it (at most
 * MAX_FIELD_CHARS long, each control character, a `%00` a URI decoded to or a CR, as `?`): the record goes into a
 * log line, a file and a database column.
 */
export function capped(text: string): string {
  return ownString(printable(text, MAX_FIELD_CHARS));
}

/**
 * The number a URI names, read as the call policy reads it (src/policy/uri-user.ts); undefined for a text too long to
 * be a real URI.
 */
export function uriNumber(uriText: string | undefined): string | undefined {
  return uriText === undefined || uriText.length > MAX_URI_INPUT ? undefined : calledUser(uriText);
}

/** The record of one refusal, from the request as it came and the flow it came on. */
export function buildRefusalRecord(
  request: SipRequest, flow: Flow, o: { time: number; status: number; reason: string; code: string; tenant?: string | undefined },
): RefusalRecord {
  const callId = getHeader(request, 'call-id');
  const from = getHeader(request, 'from');
  const calling = from !== undefined && from.length <= MAX_URI_INPUT ? addressUser(from) : undefined;
  const called = uriNumber(request.uri);
  const tenant = o.tenant ?? flow.tenant;
  return {
    time: o.time,
    callId: callId !== undefined && callId !== '' ? capped(callId) : null,
    callingNumber: calling !== undefined ? capped(calling) : null,
    calledNumber: called !== undefined ? capped(called) : null,
    sourceAddress: flow.remoteAddress,
    sourcePort: flow.remotePort,
    transport: flow.protocol,
    listener: `${flow.localAddress}:${flow.localPort}`,
    tenant: tenant !== undefined ? capped(tenant) : null,
    status: o.status,
    reason: capped(o.reason),
    code: o.code,
  };
}
