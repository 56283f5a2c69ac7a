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

export function topViaOf(msg: SipMessage): Via | undefined {
  const v = getHeader(msg, 'via');
  if (v === undefined) return undefined;
  const first = splitList(v)[0];
  if (first === undefined) return undefined;
  const r = parseVia(first);
  return r.ok ? r.value[0] : undefined;
}

export function branchOf(msg: SipMessage): string | undefined {
  const v = topViaOf(msg);
  const b = v?.params.branch;
  return b === null ? undefined : b;
}
