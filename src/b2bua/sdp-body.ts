/**
 * Which message bodies the gateway treats as SDP. Offers and answers go through the media relay and the SRTP filters
 * only as application/sdp; a body of another type that carries SDP anyway (a multipart/mixed one with an
 * application/sdp part, RFC 5621) would reach the other leg untouched, the caller's real media address and keys with
 * it, around the relay and the filters. Such bodies are refused instead (415, RFC 3261 §21.4.13).
 */

/** A message as the relays read it: drachtio-srf's `get`, which does not expand a compact header name. */
interface Headers {
  get(name: string): string | undefined;
}

/** The Content-Type of a message, full or compact (`c`), if it has one. */
export function contentTypeOf(msg: Headers): string | undefined {
  return msg.get('Content-Type') ?? msg.get('c');
}

/** The media type of a Content-Type value (`type/subtype`), lower case and without parameters. */
function mediaType(contentType: string): string {
  return contentType.split(';')[0]!.trim().toLowerCase();
}

/**
 * True when a body is SDP by its type: application/sdp, or no type at all (the engine types an untyped body that
 * starts like SDP as application/sdp when it sends it on, so such a body is SDP to the far end).
 */
export function isSdpType(contentType: string | undefined): boolean {
  return contentType === undefined || mediaType(contentType) === 'application/sdp';
}

/** A MIME part header naming SDP: `Content-Type: application/sdp` at the start of a line (no SDP line looks like it). */
const SDP_PART = /^(?:content-type|c)[ \t]*:[ \t]*application\/sdp\b/im;

/** True when a body that is not application/sdp carries SDP anyway: a multipart body with an application/sdp part. */
export function hidesSdp(contentType: string | undefined, body: string | undefined): boolean {
  if (body === undefined || body === '' || isSdpType(contentType)) return false;
  return mediaType(contentType!).startsWith('multipart/') && SDP_PART.test(body);
}

/**
 * True when an answer whose type is not known (Dialog.modify hands over the body of a re-INVITE's 2xx alone) is a
 * multipart body with an SDP part: its part headers give it away.
 */
export function untypedHidesSdp(body: string | undefined): boolean {
  return body !== undefined && SDP_PART.test(body);
}
