import { err, ok, type Result } from '../../common/result.js';
import type { CSeq } from './types.js';

/** Parses a CSeq value (RFC 3261 §20.16): a 32-bit unsigned sequence number and a method. */
export function parseCSeq(value: string): Result<CSeq, 'ERR_SIP_PARSE_CSEQ'> {
  const m = /^\s*([0-9]{1,10})\s+([A-Za-z0-9.!%*_+`'~-]+)\s*$/.exec(value);
  if (!m) return err('ERR_SIP_PARSE_CSEQ', `bad CSeq '${value}'`);
  const seq = Number(m[1]);
  if (seq > 0xffffffff) return err('ERR_SIP_PARSE_CSEQ', 'CSeq number above 2**32-1');
  return ok({ seq, method: m[2]! });
}
