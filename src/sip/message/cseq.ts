import { err, ok, type Result } from '../../common/result.js';
import type { CSeq } from './types.js';
import { hasEscape } from './chars.js';

/**
 * Parses a CSeq value (RFC 3261 §20.16): a 32-bit unsigned sequence number and a method. A method holding a
 * %-escape is refused, as on the request line (parse.ts): drachtio-srf unescape()s the CSeq method too, so an app
 * would read `INV%49TE` in a response as INVITE.
 */
export function parseCSeq(value: string): Result<CSeq, 'ERR_SIP_PARSE_CSEQ'> {
  const m = /^\s*([0-9]{1,10})\s+([A-Za-z0-9.!%*_+`'~-]+)\s*$/.exec(value);
  if (!m) return err('ERR_SIP_PARSE_CSEQ', `bad CSeq '${value}'`);
  if (hasEscape(m[2]!)) return err('ERR_SIP_PARSE_CSEQ', `CSeq method '${m[2]!.slice(0, 20)}' holds a %-escape, which drachtio-srf unescapes`);
  const seq = Number(m[1]);
  if (seq > 0xffffffff) return err('ERR_SIP_PARSE_CSEQ', 'CSeq number above 2**32-1');
  return ok({ seq, method: m[2]! });
}
