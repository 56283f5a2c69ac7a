import { err, ok, type Result } from '../../common/result.js';
import type { NameAddr } from './types.js';
import { formatParams, parseParams } from './params.js';
import { formatUri, parseUri } from './uri.js';
import { isToken } from './chars.js';

/**
 * Parses a From/To/Contact/Route style value (RFC 3261 §20.10, §25.1 name-addr / addr-spec). In the addr-spec
 * form (no angle brackets) every ';' parameter belongs to the header, not to the URI.
 */
export function parseNameAddr(text: string): Result<NameAddr, 'ERR_SIP_PARSE_URI'> {
  const s = text.trim();
  let displayName: string | undefined;
  let uriText: string;
  let rest: string;
  let i = 0;
  if (s[0] === '"') {
    let j = 1;
    let name = '';
    while (j < s.length && s[j] !== '"') {
      if (s[j] === '\\' && j + 1 < s.length) {
        name += s[j + 1];
        j += 2;
      } else name += s[j++];
    }
    if (j >= s.length) return err('ERR_SIP_PARSE_URI', 'unterminated quoted display name');
    displayName = name;
    i = j + 1;
    while (s[i] === ' ' || s[i] === '\t') i++;
    if (s[i] !== '<') return err('ERR_SIP_PARSE_URI', 'display name without <URI>');
  }
  const lt = s.indexOf('<', i);
  if (lt >= 0) {
    if (displayName === undefined) {
      const dn = s.slice(0, lt).trim();
      // RFC 3261 §25.1: an unquoted display-name is a sequence of tokens.
      if (dn.length > 0 && !/^[A-Za-z0-9.!%*_+`'~-]+(?:[ \t]+[A-Za-z0-9.!%*_+`'~-]+)*$/.test(dn)) {
        return err('ERR_SIP_PARSE_URI', 'unquoted display name with characters outside token');
      }
      if (dn.length > 0) displayName = dn;
    }
    const gt = s.indexOf('>', lt);
    if (gt < 0) return err('ERR_SIP_PARSE_URI', 'missing >');
    uriText = s.slice(lt + 1, gt);
    rest = s.slice(gt + 1);
  } else {
    if (displayName !== undefined) return err('ERR_SIP_PARSE_URI', 'missing <');
    const semi = s.indexOf(';');
    uriText = semi < 0 ? s : s.slice(0, semi);
    rest = semi < 0 ? '' : s.slice(semi);
    if (/\s/.test(uriText.trim())) return err('ERR_SIP_PARSE_URI', 'white space in addr-spec');
    // RFC 3261 §20: a URI holding a comma, question mark or semicolon must be enclosed in < >.
    if (/[?,]/.test(uriText)) return err('ERR_SIP_PARSE_URI', 'a URI with ? or , must be enclosed in <>');
    uriText = uriText.trim();
  }
  const uri = parseUri(uriText);
  if (!uri.ok) return uri;
  const params = parseParams(rest);
  if (!params) return err('ERR_SIP_PARSE_URI', 'bad header parameters');
  const na: NameAddr = { uri: uri.value, params };
  if (displayName !== undefined) na.displayName = displayName;
  return ok(na);
}

export function formatNameAddr(na: NameAddr): string {
  const dn = na.displayName === undefined ? '' : `"${na.displayName.replace(/(["\\])/g, '\\$1')}" `;
  return `${dn}<${formatUri(na.uri)}>${formatParams(na.params)}`;
}

const TAG_PARAM = /;[ \t]*tag[ \t]*=[ \t]*([^;]*)/i;

/**
 * The text of a From/To value's tag parameter, or undefined when it has none: the first `;tag=` after the `>` that
 * closes the name-addr (the first `>` past its `<`, as drachtio-srf closes it), or anywhere in an addr-spec, up to
 * the next `;`. White space around `;`, `tag` and `=` is SP or HTAB, RFC 3261 §25.1 LWS, and nothing else: this
 * is the one reading tagOf and the grammar's check (grammar.ts) share, so a tag the grammar did not judge is one
 * tagOf does not return (`;tag\u00a0=x|y`, a no-break space before `=`, has no tag to either).
 */
export function tagParamText(value: string): string | undefined {
  const lt = openingAngle(value);
  const from = lt < 0 ? 0 : value.indexOf('>', lt);
  if (from < 0) return undefined;
  const m = TAG_PARAM.exec(from === 0 ? value : value.slice(from));
  return m ? m[1]!.replace(/[ \t]+$/, '') : undefined;
}

/**
 * The tag of a From/To value, read without a full parse (tagParamText); undefined unless it is a token (RFC 3261
 * §25.1 tag-param), so no tag returned here can carry a `|` into the control protocol's meta line.
 */
export function tagOf(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const tag = tagParamText(value);
  return tag !== undefined && isToken(tag) ? tag : undefined;
}

/** The URI text of a name-addr or addr-spec value (`"A" <sip:a@b>;tag=x` is `sip:a@b`), read without a full parse. */
export function uriTextOf(value: string): string {
  const lt = openingAngle(value);
  if (lt >= 0) {
    const gt = value.indexOf('>', lt);
    return value.slice(lt + 1, gt < 0 ? undefined : gt).trim();
  }
  const semi = value.indexOf(';');
  return (semi < 0 ? value : value.slice(0, semi)).trim();
}

/** Where the name-addr's `<` is: the first one outside a quoted display name; -1 when there is none. */
function openingAngle(value: string): number {
  let quoted = false;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (quoted && c === 0x5c /* \\ */) i++;
    else if (c === 0x22 /* " */) quoted = !quoted;
    else if (c === 0x3c /* < */ && !quoted) return i;
  }
  return -1;
}
