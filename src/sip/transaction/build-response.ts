import type { SipHeader, SipRequest, SipResponse } from '../message/types.js';
import { getHeader as headerValue, header, headersNamed, tagOf as tagOfValue } from '../message/index.js';

export interface BuildResponseOptions {
  /** To tag to add when the request's To has none (every response but 100 needs one, §8.2.6.2). */
  toTag?: string | undefined;
  /** Headers appended after the copied ones (Contact, Record-Route, Allow, Reason ...). */
  headers?: SipHeader[];
  body?: Buffer;
}

/**
 * A response to `request` (RFC 3261 §8.2.6): Via list, From, To (with `toTag` when the request's To has no tag),
 * Call-ID and CSeq copied; Timestamp copied on 100 (Trying).
 */
export function buildResponse(
  request: SipRequest,
  status: number,
  reason: string,
  extra: SipHeader[] | BuildResponseOptions = {},
): SipResponse {
  const opts: BuildResponseOptions = Array.isArray(extra) ? { headers: extra } : extra;
  const headers: SipHeader[] = [];
  // "The Via header field values in the response MUST equal the Via header field values in the request and MUST
  // maintain the same ordering." https://www.rfc-editor.org/rfc/rfc3261#section-8.2.6.2
  for (const h of headersNamed(request, 'via')) headers.push(h);
  // "The From field of the response MUST equal the From header field of the request."
  const from = headersNamed(request, 'from')[0];
  if (from) headers.push(from);
  const to = headersNamed(request, 'to')[0];
  if (to) {
    // "if the To header field in the request did not contain a tag, the URI in the To header field in the response
    // MUST equal the URI in the To header field; additionally, the UAS MUST add a tag to the To header field in
    // the response (with the exception of the 100 (Trying) response, in which a tag MAY be present)."
    if (opts.toTag !== undefined && tagOfValue(to.value) === undefined) {
      headers.push({ name: 'to', raw: to.raw, value: `${to.value};tag=${opts.toTag}` });
    } else {
      headers.push(to);
    }
  }
  // "The Call-ID header field of the response MUST equal the Call-ID header field of the request. The CSeq
  // header field of the response MUST equal the CSeq field of the request."
  for (const name of ['call-id', 'cseq']) {
    const h = headersNamed(request, name)[0];
    if (h) headers.push(h);
  }
  if (status === 100) {
    // "If there is a Timestamp header field in the request, [...] it MUST copy that header field into the
    // response." https://www.rfc-editor.org/rfc/rfc3261#section-8.2.6.1
    const ts = headerValue(request, 'timestamp');
    if (ts !== undefined) headers.push(header('Timestamp', ts));
  }
  if (opts.headers) headers.push(...opts.headers);
  return { kind: 'response', status, reason, version: 'SIP/2.0', headers, body: opts.body ?? Buffer.alloc(0) };
}
