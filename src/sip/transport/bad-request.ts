import type { SipRequest } from '../message/types.js';
import { reasonValue } from '../message/reason.js';

/** Reason-Phrases naming the problem, by error code; anything unlisted is plain "Bad Request". */
const PHRASES: Record<string, string> = {
  ERR_SIP_PARSE_TOO_LARGE: 'Message Too Large',
  ERR_SIP_PARSE_LINE_TOO_LONG: 'Header Line Too Long',
  ERR_SIP_PARSE_TOO_MANY_HEADERS: 'Too Many Headers',
  ERR_SIP_PARSE_START_LINE: 'Malformed Request-Line',
  ERR_SIP_PARSE_VERSION: 'Unsupported SIP Version',
  ERR_SIP_PARSE_HEADER: 'Malformed Header',
  ERR_SIP_PARSE_MISSING_HEADER: 'Missing Mandatory Header',
  ERR_SIP_PARSE_CSEQ: 'Malformed CSeq',
  ERR_SIP_PARSE_VIA: 'Malformed Via',
  ERR_SIP_PARSE_URI: 'Malformed Request-URI',
  ERR_SIP_PARSE_CONTENT_LENGTH: 'Bad Content-Length',
  ERR_SIP_PARSE_CONTROL_CHARACTER: 'Control Character in Header',
  ERR_SIP_PARSE_CALL_ID: 'Bad Call-ID',
  ERR_SIP_PARSE_FROM: 'Bad From',
  ERR_SIP_PARSE_TO: 'Bad To',
  ERR_SIP_PARSE_ADDRESS: 'Bad Address Header',
  ERR_SIP_PARSE_MAX_FORWARDS: 'Bad Max-Forwards',
  ERR_SIP_PARSE_AUTH: 'Bad Authorization Header',
  ERR_SIP_PARSE_DUPLICATE_HEADER: 'Repeated Single-Valued Header',
  ERR_SIP_FRAME_NO_CONTENT_LENGTH: 'Missing Content-Length',
  ERR_SIP_FRAME_BAD_CONTENT_LENGTH: 'Bad Content-Length',
  ERR_SIP_FRAME_TOO_LARGE: 'Message Too Large',
  ERR_SIP_FRAME_HEADER_TOO_LARGE: 'Headers Too Large',
};

export function badRequestPhrase(code: string): string {
  return `Bad Request (${PHRASES[code] ?? 'Malformed Message'})`;
}

const COPIED = new Set(['via', 'from', 'to', 'call-id', 'cseq']);

/**
 * A 400 for a request that could not be fully parsed but can still be addressed: Via, From, To, Call-ID and
 * CSeq copied, a To tag added, no body; with `detail`, a `Reason: SIP;cause=400;text="…"` that says what was
 * wrong (RFC 3326, in a response as RFC 6432 allows), as the gateway's other refusals do.
 *
 * "The From field of the response MUST equal the From header field of the request. The Call-ID header field
 * of the response MUST equal the Call-ID header field of the request. The CSeq header field of the response
 * MUST equal the CSeq field of the request. The Via header field values in the response MUST equal the Via
 * header field values in the request and MUST maintain the same ordering."
 * https://www.rfc-editor.org/rfc/rfc3261#section-8.2.6.2
 */
export function buildBadRequest(request: SipRequest, code: string, toTag: string, detail?: string): Buffer {
  let text = `SIP/2.0 400 ${badRequestPhrase(code)}\r\n`;
  const copied = new Set<string>();
  for (const h of request.headers) {
    if (!COPIED.has(h.name)) continue;
    // Every Via, but only the first of a single-valued header the request repeated.
    if (h.name !== 'via') {
      if (copied.has(h.name)) continue;
      copied.add(h.name);
    }
    const value = clean(h.value);
    if (h.name === 'to' && !/;\s*tag\s*=/i.test(value)) {
      text += `To: ${value};tag=${toTag}\r\n`;
    } else {
      text += `${DISPLAY[h.name]}: ${value}\r\n`;
    }
  }
  // Printable ASCII only, at most 120 characters, of a reason that may quote the request.
  if (detail !== undefined && detail.length > 0) text += `Reason: ${reasonValue(400, detail.replace(/[^\x20-\x7e]/g, '').slice(0, 120))}\r\n`;
  text += 'Content-Length: 0\r\n\r\n';
  return Buffer.from(text, 'utf8');
}

const DISPLAY: Record<string, string> = { via: 'Via', from: 'From', to: 'To', 'call-id': 'Call-ID', cseq: 'CSeq' };

/** No line breaks or control characters may travel from the request into our response. */
function clean(v: string): string {
  // eslint-disable-next-line no-control-regex
  return v.replace(/[\x00-\x08\x0a-\x1f\x7f]/g, '');
}
