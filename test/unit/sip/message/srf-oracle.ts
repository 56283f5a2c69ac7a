import { createRequire } from 'node:module';
import { buildSipFrame } from '../../../../src/engine/wire/index.js';
import { dialogIdOf } from '../../../../src/sip/dialog/dialog.js';
import { getHeader, getHeaderValues, serializeMessageText, tagOf, type SipMessage } from '../../../../src/sip/message/index.js';
import { appHeaderName } from '../../../../src/sip/message/app-reading.js';

/**
 * drachtio-srf's own reading of what the engine hands an app: its SIP parser (lazy, as its agent uses it), then
 * each header its parser table knows (as its dialogs, requests and middleware parse them), and the `|`-separated
 * meta line of the `sip` frame split the way its agent splits it. Used by the gatekeeper test and the fuzz target.
 */
const require = createRequire(import.meta.url);
interface SrfSipMessage {
  headers: Record<string, string>;
  method?: string;
  getParsedHeader(name: string): unknown;
}
const SrfSipMessageCtor = require('drachtio-srf/lib/sip-parser/message') as new (raw: string) => SrfSipMessage;
const srfParser = require('drachtio-srf/lib/sip-parser/parser') as { getHeaderName(written: string): string };

/** The headers drachtio-srf has a parser of its own for (lib/sip-parser/parser.js `parsers`). */
export const SRF_PARSED_HEADERS: ReadonlySet<string> = new Set([
  'to', 'from', 'contact', 'route', 'record-route', 'path', 'cseq', 'content-length', 'via', 'www-authenticate',
  'proxy-authenticate', 'authorization', 'proxy-authorization', 'authentication-info', 'refer-to', 'referred-by',
  'p-asserted-identity', 'remote-party-id',
]);

/**
 * Why drachtio-srf could not take this message as the engine would deliver it, or would read it otherwise than the
 * engine does; undefined when it takes it and reads it the same.
 */
export function srfProblem(msg: SipMessage): string | undefined {
  const text = serializeMessageText(msg);
  const dialogId = dialogIdOf(getHeader(msg, 'call-id') ?? '', tagOf(getHeader(msg, 'from')) ?? '');
  const frame = buildSipFrame('m1', {
    source: 'network', protocol: 'udp', address: '127.0.0.1', port: 5060, time: '00:00:00.000000',
    transactionId: 't1', dialogId, recvAddr: '127.0.0.2', recvPort: 5070,
  }, text);
  return srfFrameProblem(frame, dialogId, text) ?? srfReadingProblem(msg, new SrfSipMessageCtor(text));
}

/**
 * Where drachtio-srf reads the parts an app acts on otherwise than the engine: the name it files each header under
 * (it unescape()s names), the method and the CSeq method (unescaped too), how many addresses each address list
 * holds, and the From and To tags, which the engine's dialogs and meta lines go by and the app's dialogs by srf's
 * reading.
 */
function srfReadingProblem(msg: SipMessage, parsed: SrfSipMessage): string | undefined {
  for (const h of msg.headers) {
    const srfName = srfParser.getHeaderName(appHeaderName(h.raw));
    if (srfName.toLowerCase() !== h.name) return `header '${h.raw}' is ${h.name} to the engine, ${srfName} to drachtio-srf`;
  }
  if (msg.kind === 'request' && parsed.method !== msg.method) return `method ${msg.method} is ${parsed.method} to drachtio-srf`;
  // The method as written (the engine's parseCSeq refuses one with %, so it cannot tell).
  const method = /^\s*[0-9]+\s+(\S+)/.exec(getHeader(msg, 'cseq') ?? '')?.[1];
  const srfMethod = (parsed.getParsedHeader('cseq') as { method: string }).method;
  if (method !== undefined && srfMethod !== method) return `CSeq method ${method} is ${srfMethod} to drachtio-srf`;
  for (const name of ['contact', 'route', 'record-route', 'path']) {
    const mine = getHeaderValues(msg, name);
    if (mine.length === 0 || mine[0] === '*') continue;
    const srfCount = (parsed.getParsedHeader(name) as unknown[]).length;
    if (srfCount !== mine.length) return `${name}: ${mine.length} addresses to the engine, ${srfCount} to drachtio-srf`;
  }
  // A request's tags only: the parser lets a response's second To tag through (grammar.ts, appTagProblem).
  for (const name of msg.kind === 'request' ? ['from', 'to'] : []) {
    const tag = tagOf(getHeader(msg, name));
    const srfTag = (parsed.getParsedHeader(name) as { params: Record<string, string | undefined> }).params.tag;
    if (srfTag !== tag) return `${name} tag '${tag}' is '${srfTag}' to drachtio-srf`;
  }
  return undefined;
}

/** Why drachtio-srf's parser and its header parsers could not take this SIP text; undefined when they can. */
export function srfTextProblem(text: string): string | undefined {
  let parsed: SrfSipMessage;
  try {
    parsed = new SrfSipMessageCtor(text);
  } catch (e) {
    return `SipMessage: ${(e as Error).message}`;
  }
  for (const name of Object.keys(parsed.headers)) {
    if (!SRF_PARSED_HEADERS.has(name.toLowerCase())) continue;
    try {
      parsed.getParsedHeader(name);
    } catch (e) {
      return `getParsedHeader(${name}): ${(e as Error).message}`;
    }
  }
  return undefined;
}

/**
 * Why drachtio-srf could not take a server→app `sip` frame carrying `text` whose meta names `dialogId`: its SIP text
 * as above, and the meta line, which the agent takes up to the first CR and splits at '|' (drachtio-agent.js _onMsg).
 */
export function srfFrameProblem(frame: string, dialogId: string, text: string): string | undefined {
  const problem = srfTextProblem(text);
  if (problem) return problem;
  const cr = frame.indexOf('\r');
  const tokens = frame.slice(0, cr).split('|');
  // 13 fields for a new request (with the address it came in on), 11 for every other message.
  if ((tokens.length !== 13 && tokens.length !== 11) || tokens[9] !== dialogId || frame.slice(cr + 2) !== text) {
    return `meta line split into ${tokens.length} fields, dialogId field '${tokens[9]}'`;
  }
  return undefined;
}
