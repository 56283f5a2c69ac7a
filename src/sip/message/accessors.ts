import type { CSeq, SipMessage, Via } from './types.js';
import { getHeader } from './headers.js';
import { parseCSeq } from './cseq.js';
import { parseVia } from './via.js';
import { tagOf } from './name-addr.js';
import { splitList } from './headers.js';

/** Fast reads of the fields the transaction and dialog layers look at on every message. */
export function callIdOf(msg: SipMessage): string {
  return getHeader(msg, 'call-id') ?? '';
}

export function cseqOf(msg: SipMessage): CSeq | undefined {
  const v = getHeader(msg, 'cseq');
  if (v === undefined) return undefined;
  const r = parseCSeq(v);
  return r.ok ? r.value : undefined;
}

export function fromTagOf(msg: SipMessage): string | undefined {
  return tagOf(getHeader(msg, 'from'));
}

export function toTagOf(msg: SipMessage): string | undefined {
  return tagOf(getHeader(msg, 'to'));
}

/** The text of the top-most Via value (the first entry of the first Via header), without reading the rest. */
export function topViaText(msg: SipMessage): string | undefined {
  const v = getHeader(msg, 'via');
  if (v === undefined) return undefined;
  return v.indexOf(',') < 0 ? v.trim() : splitList(v)[0];
}

export function topViaOf(msg: SipMessage): Via | undefined {
  const first = topViaText(msg);
  if (first === undefined) return undefined;
  const r = parseVia(first);
  return r.ok ? r.value[0] : undefined;
}

/** sent-by as compared by RFC 3261 §17.2.3: host (case-insensitive) and port as written. */
export function sentByOf(via: Via): string {
  return via.port === undefined ? via.host.toLowerCase() : `${via.host.toLowerCase()}:${via.port}`;
}

export function branchOf(msg: SipMessage): string | undefined {
  const v = topViaOf(msg);
  const b = v?.params.branch;
  return b === null ? undefined : b;
}
