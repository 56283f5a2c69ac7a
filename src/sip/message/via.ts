import { err, ok, type Result } from '../../common/result.js';
import type { Via } from './types.js';
import { formatParams, parseParams } from './params.js';
import { splitList } from './headers.js';

/** Parses one Via header value, which may hold several via-parms (RFC 3261 §20.42, RFC 3581 rport). */
export function parseVia(value: string): Result<Via[], 'ERR_SIP_PARSE_VIA'> {
  const out: Via[] = [];
  for (const part of splitList(value)) {
    const one = parseOneVia(part);
    if (!one.ok) return one;
    out.push(one.value);
  }
  if (out.length === 0) return err('ERR_SIP_PARSE_VIA', 'empty Via');
  return ok(out);
}

let lastText: string | undefined;
let lastResult: Result<Via, 'ERR_SIP_PARSE_VIA'> | undefined;

/**
 * Parses one via-parm (no commas): sent-protocol, sent-by and parameters (names in lower case).
 *
 * The result is shared and must not be changed: the last text parsed and its result are kept, because one message
 * has its top Via read by the parser's grammar check, the transport's stamp, the transaction layer and the edge
 * guard in turn, and each read of the same text then costs one string comparison instead of a parse.
 */
export function parseOneVia(text: string): Result<Via, 'ERR_SIP_PARSE_VIA'> {
  if (text === lastText) return lastResult!;
  const r = parseViaParm(text);
  lastText = text;
  lastResult = r;
  return r;
}

function parseViaParm(text: string): Result<Via, 'ERR_SIP_PARSE_VIA'> {
  const m = /^([A-Za-z0-9.!%*_+`'~-]+)\s*\/\s*([A-Za-z0-9.!%*_+`'~-]+)\s*\/\s*([A-Za-z0-9.!%*_+`'~-]+)\s+(.*)$/s.exec(text.trim());
  if (!m) return err('ERR_SIP_PARSE_VIA', `bad sent-protocol in '${text}'`);
  const rest = m[4]!;
  const semi = rest.indexOf(';');
  const sentBy = (semi < 0 ? rest : rest.slice(0, semi)).replace(/\s+/g, '');
  let host = sentBy;
  let port: number | undefined;
  if (sentBy.startsWith('[')) {
    const close = sentBy.indexOf(']');
    if (close < 0) return err('ERR_SIP_PARSE_VIA', 'unterminated IPv6 reference');
    host = sentBy.slice(0, close + 1);
    const after = sentBy.slice(close + 1);
    if (after.length > 0) {
      if (!/^:[0-9]{1,5}$/.test(after)) return err('ERR_SIP_PARSE_VIA', 'bad port');
      port = Number(after.slice(1));
    }
  } else {
    const pc = sentBy.indexOf(':');
    if (pc >= 0) {
      const p = sentBy.slice(pc + 1);
      if (!/^[0-9]{1,5}$/.test(p)) return err('ERR_SIP_PARSE_VIA', 'bad port');
      port = Number(p);
      host = sentBy.slice(0, pc);
    }
  }
  if (host.length === 0 || !/^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+)$/.test(host)) return err('ERR_SIP_PARSE_VIA', 'bad sent-by host');
  if (port !== undefined && port > 65535) return err('ERR_SIP_PARSE_VIA', 'port out of range');
  const params = parseParams(semi < 0 ? '' : rest.slice(semi));
  if (!params) return err('ERR_SIP_PARSE_VIA', 'bad Via parameters');
  const via: Via = { protocolName: m[1]!.toUpperCase(), protocolVersion: m[2]!, transport: m[3]!.toUpperCase(), host, params };
  if (port !== undefined) via.port = port;
  return ok(via);
}

export function formatVia(via: Via): string {
  const port = via.port === undefined ? '' : `:${via.port}`;
  return `${via.protocolName}/${via.protocolVersion}/${via.transport} ${via.host}${port}${formatParams(via.params)}`;
}
