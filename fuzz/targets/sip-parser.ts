import { buildBadRequest } from '../../src/sip/transport/bad-request.js';
import { checkRequest, getHeaderValues, parseMessage, parseNameAddr, parseUri, parseVia, serializeMessage } from '../../src/sip/message/index.js';
import { srfProblem } from '../../test/unit/sip/message/srf-oracle.js';
import { fail, guard } from './guard.js';

const STRUCTURE = new Set(['ERR_SIP_PARSE_START_LINE', 'ERR_SIP_PARSE_VERSION', 'ERR_SIP_PARSE_HEADER', 'ERR_SIP_PARSE_MISSING_HEADER',
  'ERR_SIP_PARSE_CONTENT_LENGTH', 'ERR_SIP_PARSE_EMPTY', 'ERR_SIP_PARSE_LINE_TOO_LONG', 'ERR_SIP_PARSE_TOO_LARGE']);

/**
 * The SIP parser on raw bytes (as a datagram delivers them): it never throws; what it accepts, drachtio-srf parses
 * (its parser, its header parsers, the sip frame's meta line) and serialises to a message it accepts again; what
 * it refuses with a partial request can be answered with a 400 that it accepts too.
 */
export const fuzz = guard('sip-parser', (data) => {
  const r = parseMessage(data);
  if (!r.ok) {
    if (r.partial) {
      // The 400 copies Via, From, To, Call-ID and CSeq as the request had them (RFC 3261 §8.2.6.2), so their
      // grammar may still be refused; its structure (start line, header lines, length) may not.
      const answer = parseMessage(buildBadRequest(r.partial, r.code, 'fuzz', r.reason));
      if (!answer.ok && STRUCTURE.has(answer.code)) fail(`the 400 to a refused request is malformed: ${answer.code} ${answer.reason}`);
    }
    return;
  }
  const m = r.message;
  const problem = srfProblem(m);
  if (problem) fail(`accepted, but drachtio-srf cannot take it: ${problem}`);
  const again = parseMessage(serializeMessage(m));
  if (!again.ok) fail(`accepted, but its serialisation is refused: ${again.code} ${again.reason}`);
  const count = (x: typeof m) => x.headers.filter((h) => h.name !== 'content-length').length;
  if (count(again.message) !== count(m)) fail('serialisation changed the number of headers');
  if (m.kind === 'request') {
    checkRequest(m);
    parseUri(m.uri);
  }
  for (const v of getHeaderValues(m, 'via')) parseVia(v);
  for (const name of ['from', 'to', 'contact', 'route', 'record-route']) for (const v of getHeaderValues(m, name)) parseNameAddr(v);
});
