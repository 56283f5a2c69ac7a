import type { SipHeader, SipRequest, SipResponse } from '../../sip/message/types.js';
import { buildResponse } from '../../sip/transaction/index.js';
import { header, reasonValue } from '../../sip/message/index.js';

/** `Reason: SIP;cause=NNN;text="…"` (https://www.rfc-editor.org/rfc/rfc3326#section-2). */
export function reasonHeader(status: number, text: string): SipHeader {
  return header('Reason', reasonValue(status, text));
}

export interface Refusal {
  status: number;
  /** The reason phrase of the status line. */
  phrase: string;
  /** What the Reason header says; the phrase when absent. */
  text?: string;
  /** Seconds, for 503 past a limit (https://www.rfc-editor.org/rfc/rfc3261#section-21.5.4). */
  retryAfter?: number;
  /** The methods allowed, for 405 (https://www.rfc-editor.org/rfc/rfc3261#section-21.4.6). */
  allow?: string;
}

/** The value of the Reason header a refusal's response carries. */
export function refusalReason(r: Refusal): string {
  return reasonValue(r.status, r.text ?? r.phrase);
}

/**
 * A final response the engine itself generates: every one carries a Reason header (RFC 3326) that the far end can
 * read, and a To tag of its own.
 */
export function refusalResponse(request: SipRequest, r: Refusal, toTag: string): SipResponse {
  const headers: SipHeader[] = [header('Reason', refusalReason(r))];
  if (r.retryAfter !== undefined) headers.push(header('Retry-After', String(r.retryAfter)));
  if (r.allow !== undefined) headers.push(header('Allow', r.allow));
  return buildResponse(request, r.status, r.phrase, { toTag, headers });
}
