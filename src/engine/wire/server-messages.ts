import { CONTROL_REPLACEMENT, printable } from '../../common/printable.js';
import type { CdrKind, SipFrameMeta } from '../types.js';
import { formatControlMessage } from './control-message.js';

/**
 * Builders for every server→app payload (docs/control-protocol.md §2.3). They return payload text; frame it with
 * encodeFrame. The msgId of a server frame is chosen by the caller (a UUID on the wire, fixed in tests).
 */

/** Longest free text (a NOK's reason, a CDR's reason) the engine writes into one field of the field line. */
export const MAX_FIELD_TEXT_CHARS = 256;

const FIELD_SEPARATOR = /\|/g;

/**
 * Free text made safe for one field of the field line: text that names what an app or the network sent (a
 * request-URI, a host name, a start line) may hold `|`, which would split it into more fields (drachtio-srf reads a
 * NOK's reason from one token and drops the rest), or CR LF, which would end the field line early and turn the rest
 * into SIP text. Each `|` and each control character becomes `?` (src/common/printable.ts), and the text is cut at
 * MAX_FIELD_TEXT_CHARS. The same string when there is nothing to change.
 */
export function fieldText(text: string): string {
  const safe = printable(text, MAX_FIELD_TEXT_CHARS);
  return safe.includes('|') ? safe.replace(FIELD_SEPARATOR, CONTROL_REPLACEMENT) : safe;
}

/** `msgId|response|appMsgId|fields…[CRLF sip]`: the reply to an app message, keyed by the app's msgId. */
export function buildResponse(msgId: string, appMsgId: string, fields: readonly string[], sip?: string): string {
  return formatControlMessage({ msgId, type: 'response', fields: [appMsgId, ...fields], ...(sip === undefined ? {} : { sip }) });
}

/**
 * `msgId|sip|source|bytes|protocol|address|port|time|transactionId|dialogId|[recvAddr|recvPort|]` CRLF SIP.
 * The field line always ends with `|`, so even with an empty dialogId it carries the ≥ 10 fields drachtio-srf
 * requires before it looks at a `sip` frame (§2.10 item 3). recvAddr/recvPort only on new out-of-dialog
 * requests; srf turns them into `receivedOn`.
 */
export function buildSipFrame(msgId: string, meta: SipFrameMeta, sip: string, now: Date = new Date()): string {
  const fields = [
    meta.source,
    String(Buffer.byteLength(sip, 'utf8')),
    meta.protocol,
    meta.address,
    String(meta.port),
    meta.time ?? formatStackTime(now),
    meta.transactionId,
    meta.dialogId,
  ];
  if (meta.recvAddr !== undefined && meta.recvPort !== undefined) fields.push(meta.recvAddr, String(meta.recvPort));
  fields.push('');
  return formatControlMessage({ msgId, type: 'sip', fields, sip });
}

/**
 * `msgId|cdr:attempt|source|time`, `msgId|cdr:start|source|time|role`, `msgId|cdr:stop|source|time|reason`,
 * each with CRLF and the SIP message that triggered it.
 */
export function buildCdrFrame(msgId: string, kind: CdrKind, fields: readonly string[], sip: string): string {
  return formatControlMessage({ msgId, type: `cdr:${kind}`, fields: fields.map(fieldText), sip });
}

/** The reply to a good `authenticate`: `OK|hostports csv|version|local hostports csv`. */
export function authenticateOkFields(hostports: readonly string[], version: string, localHostports: readonly string[]): string[] {
  return ['OK', hostports.join(','), version, localHostports.join(',')];
}

/** The reply to a wrong secret, after which the connection is closed. */
export const AUTHENTICATE_REFUSED_FIELDS: readonly string[] = ['NO', 'incorrect secret'];
/** The reply to `ping`. */
export const PONG_FIELDS: readonly string[] = ['OK', 'pong'];

/** Where a message went or came from, as a reply's fields name it. */
export interface WireEndpoint {
  protocol: string;
  address: string;
  port: number | string;
}

/**
 * The reply to a `sip` command that sent a request (new, in-dialog, ACK; docs/control-protocol.md §2.3):
 * `OK|application|<bytes>|<protocol>|<local address>|<local port>|<time>|<transactionId>|Msg sent:|` with the
 * request as sent.
 */
export function requestSentFields(sent: string, local: WireEndpoint, time: string, transactionId: string): string[] {
  return ['OK', 'application', String(Buffer.byteLength(sent)), local.protocol, local.address, String(local.port), time, transactionId, 'Msg sent:', ''];
}

/**
 * The reply to a `sip` command that sent a response (§2.3):
 * `OK|application|<bytes>|<protocol>|<remote address>|<remote port>|<time>|<transactionId>|<dialogId>||Msg sent:|`.
 */
export function responseSentFields(sent: string, remote: WireEndpoint, time: string, transactionId: string, dialogId: string): string[] {
  return ['OK', 'application', String(Buffer.byteLength(sent)), remote.protocol, remote.address, String(remote.port), time, transactionId, dialogId, '', 'Msg sent:', ''];
}

/**
 * A response a proxy branch received, passed to the app while the proxy goes on (§2.5):
 * `OK|network|<bytes>|<protocol>|<address>|<port>|<time>|||continue`, positions 10 and 11 empty.
 */
export function proxyContinueFields(received: string, from: WireEndpoint | undefined, time: string): string[] {
  return ['OK', 'network', String(Buffer.byteLength(received)), from?.protocol ?? '', from?.address ?? '', from ? String(from.port) : '', time, '', '', 'continue'];
}

/** `OK|done`: the end of a proxy command. */
export const PROXY_DONE_FIELDS: readonly string[] = ['OK', 'done'];

/**
 * `NOK|<reason>`: a command refused or failed; drachtio-srf looks for the literal NOK and reads the reason from the
 * one field after it, so the reason goes through fieldText (it may quote what the app sent).
 */
export function nokFields(reason: string): string[] {
  return ['NOK', fieldText(reason)];
}

/** drachtio's stack time: `HH:MM:SS.uuuuuu` in UTC (microseconds, from milliseconds here). */
export function formatStackTime(date: Date): string {
  const p2 = (n: number) => String(n).padStart(2, '0');
  const micros = String(date.getUTCMilliseconds() * 1000).padStart(6, '0');
  return `${p2(date.getUTCHours())}:${p2(date.getUTCMinutes())}:${p2(date.getUTCSeconds())}.${micros}`;
}
