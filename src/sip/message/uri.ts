import { err, ok, type Result } from '../../common/result.js';
import type { SipUri, SipUriScheme } from './types.js';
import { formatParams, parseParams } from './params.js';

const hostRe = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9.])?|[0-9]{1,3}(?:\.[0-9]{1,3}){3})$/;

function unescape(s: string): string | undefined {
  if (s.indexOf('%') < 0) return s;
  try {
    return decodeURIComponent(s);
  } catch {
    return undefined;
  }
}

/**
 * Parses a SIP, SIPS or tel URI (RFC 3261 §19.1, RFC 3966). Other schemes are an error value with code
 * ERR_SIP_PARSE_URI and a reason starting 'unsupported scheme', so a UAS can answer 416.
 */
export function parseUri(text: string): Result<SipUri, 'ERR_SIP_PARSE_URI'> {
  const colon = text.indexOf(':');
  if (colon <= 0) return err('ERR_SIP_PARSE_URI', 'missing scheme');
  const scheme = text.slice(0, colon).toLowerCase();
  if (!/^[a-z][a-z0-9+.-]*$/.test(scheme)) return err('ERR_SIP_PARSE_URI', 'bad scheme');
  if (/[\s<>"]/.test(text)) return err('ERR_SIP_PARSE_URI', 'white space or delimiter inside the URI');
  if (scheme === 'tel') {
    const rest = text.slice(colon + 1);
    const semi = rest.indexOf(';');
    const number = semi < 0 ? rest : rest.slice(0, semi);
    if (!/^\+?[0-9A-Fa-f*#().\-]+$/.test(number)) return err('ERR_SIP_PARSE_URI', 'bad telephone number');
    const params = parseParams(semi < 0 ? '' : rest.slice(semi));
    if (!params) return err('ERR_SIP_PARSE_URI', 'bad tel parameters');
    return ok({ scheme: 'tel', host: number, params, headers: {} });
  }
  if (scheme !== 'sip' && scheme !== 'sips') return err('ERR_SIP_PARSE_URI', `unsupported scheme '${scheme}'`);
  let rest = text.slice(colon + 1);
  const headers: Record<string, string> = {};
  const uri: SipUri = { scheme: scheme as SipUriScheme, host: '', params: {}, headers };
  // The user part may itself hold '?', ';' and '/' (RFC 3261 §25.1 user-unreserved), so userinfo is taken up
  // to the first '@' before headers are looked for.
  const at = rest.indexOf('@');
  if (at >= 0) {
    const userinfo = rest.slice(0, at);
    rest = rest.slice(at + 1);
    const pc = userinfo.indexOf(':');
    const user = unescape(pc < 0 ? userinfo : userinfo.slice(0, pc));
    if (user === undefined || user.length === 0) return err('ERR_SIP_PARSE_URI', 'bad user part');
    uri.user = user;
    if (pc >= 0) {
      const pw = unescape(userinfo.slice(pc + 1));
      if (pw === undefined) return err('ERR_SIP_PARSE_URI', 'bad password');
      uri.password = pw;
    }
  }
  const q = rest.indexOf('?');
  if (q >= 0) {
    for (const pair of rest.slice(q + 1).split('&')) {
      if (pair.length === 0) continue;
      const eq = pair.indexOf('=');
      const name = unescape(eq < 0 ? pair : pair.slice(0, eq));
      const value = unescape(eq < 0 ? '' : pair.slice(eq + 1));
      if (name === undefined || value === undefined) return err('ERR_SIP_PARSE_URI', 'bad escape in URI headers');
      headers[name] = value;
    }
    rest = rest.slice(0, q);
  }
  const semi = rest.indexOf(';');
  const hostport = semi < 0 ? rest : rest.slice(0, semi);
  if (semi >= 0) {
    const params = parseParams(rest.slice(semi));
    if (!params) return err('ERR_SIP_PARSE_URI', 'bad URI parameters');
    uri.params = params;
  }
  let host = hostport;
  if (hostport.startsWith('[')) {
    const close = hostport.indexOf(']');
    if (close < 0) return err('ERR_SIP_PARSE_URI', 'unterminated IPv6 reference');
    host = hostport.slice(0, close + 1);
    const after = hostport.slice(close + 1);
    if (after.length > 0) {
      if (!/^:[0-9]{1,5}$/.test(after)) return err('ERR_SIP_PARSE_URI', 'bad port');
      uri.port = Number(after.slice(1));
    }
  } else {
    const pc = hostport.lastIndexOf(':');
    if (pc >= 0) {
      const port = hostport.slice(pc + 1);
      if (!/^[0-9]{1,5}$/.test(port)) return err('ERR_SIP_PARSE_URI', 'bad port');
      uri.port = Number(port);
      host = hostport.slice(0, pc);
    }
  }
  if (uri.port !== undefined && uri.port > 65535) return err('ERR_SIP_PARSE_URI', 'port out of range');
  if (!hostRe.test(host)) return err('ERR_SIP_PARSE_URI', `bad host '${host}'`);
  uri.host = host;
  return ok(uri);
}

/** parseUri's value, or undefined for text that is not a SIP, SIPS or tel URI. */
export function uriOrUndefined(text: string): SipUri | undefined {
  const r = parseUri(text);
  return r.ok ? r.value : undefined;
}

function escapeUser(s: string): string {
  return s.replace(/[^A-Za-z0-9\-_.!~*'()&=+$,;?/]/g, (c) => encodeURIComponent(c));
}

export function formatUri(uri: SipUri): string {
  if (uri.scheme === 'tel') return `tel:${uri.host}${formatParams(uri.params)}`;
  let s = `${uri.scheme}:`;
  if (uri.user !== undefined) {
    s += escapeUser(uri.user);
    if (uri.password !== undefined) s += `:${escapeUser(uri.password)}`;
    s += '@';
  }
  s += uri.host;
  if (uri.port !== undefined) s += `:${uri.port}`;
  s += formatParams(uri.params);
  const hk = Object.keys(uri.headers);
  if (hk.length > 0) s += '?' + hk.map((k) => `${encodeURIComponent(k)}=${encodeURIComponent(uri.headers[k]!)}`).join('&');
  return s;
}
