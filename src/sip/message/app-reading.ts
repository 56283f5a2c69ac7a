import { compactForms, displayName, splitListKeepingEmpty } from './headers.js';
import type { SipHeader } from './types.js';

/**
 * The compact forms drachtio-srf expands (lib/sip-parser/parser.js `compactForm`): RFC 3261's, with `e` taken for
 * another header. Every other letter it files under the letter itself, in lower case.
 */
const SRF_COMPACT_FORMS: Readonly<Record<string, string>> = {
  i: 'call-id', m: 'contact', e: 'contact-encoding', l: 'content-length', c: 'content-type', f: 'from', s: 'subject',
  k: 'supported', t: 'to', v: 'via',
};

/**
 * The long name of each compact form (in either case) that drachtio-srf does not read as the header the engine
 * does: `x` is Session-Expires to the engine (RFC 4028) and a header named `x` to an app, as are o, r, b, u, a, j,
 * d, y and n. Built once from compactForms, so a letter added there is covered.
 */
const APP_LONG_NAMES: ReadonlyMap<string, string> = new Map(
  Object.entries(compactForms)
    .filter(([letter, name]) => SRF_COMPACT_FORMS[letter] !== name)
    .flatMap(([letter, name]) => [[letter, displayName(name)], [letter.toUpperCase(), displayName(name)]] as const),
);

/**
 * How a header name as written goes to an app: under its long name when it is a compact form drachtio-srf would
 * file as another header (APP_LONG_NAMES), else as written. Only one-letter names can differ.
 */
export function appHeaderName(written: string): string {
  return written.length === 1 ? (APP_LONG_NAMES.get(written) ?? written) : written;
}

/**
 * How drachtio-srf, the app's SIP parser, reads name-addr values, written from its header grammar: an address (a
 * display name and `<…>`, or a bare URI running to the first white space or `;`) and its `;name=value` parameters as
 * long as they are tokens or quoted strings. The parser refuses what an app would read otherwise than the engine.
 */
const TOKEN = "[A-Za-z0-9_\\-.!%*+`'~]+";
const QUOTED = '"[^"\\\\]*(?:\\\\.[^"\\\\]*)*"';
const ADDRESS = new RegExp(`(?:${TOKEN}(?:\\s+${TOKEN})*|${QUOTED})?\\s*<\\s*[^>]*\\s*>|(?:[^\\s@"<]@)?[^\\s;]+`, 'y');
/** One `;name=value` parameter as srf reads it: the name, and the value when there is one. */
const PARAMETER = new RegExp(`\\s*;\\s*(${TOKEN})(?:\\s*=\\s*(${TOKEN}|${QUOTED}))?`, 'y');
const SEPARATOR = /\s*,\s*/y;

function stickyAt(re: RegExp, text: string, at: number): number | undefined {
  re.lastIndex = at;
  return re.exec(text) === null ? undefined : re.lastIndex;
}

/**
 * How many addresses drachtio-srf reads in a Contact, Route, Record-Route or Path value, found the way its header
 * parser walks one: an address (a display name and `<…>`, or a bare URI running to the first white space or `;`),
 * its `;name=value` parameters as long as they are tokens or quoted strings, then a comma, and again. It stops at
 * the first text it cannot read that way, so a list the engine splits in N addresses may be fewer to an app: a
 * bare URI swallows the comma after it, and a parameter value holding `/` or `:` ends the walk. Undefined when it
 * cannot read the first address at all (it then throws).
 */
export function appAddressCount(value: string): number | undefined {
  let at = 0;
  let count = 0;
  for (;;) {
    const end = stickyAt(ADDRESS, value, at);
    if (end === undefined) return count === 0 ? undefined : count;
    count++;
    at = end;
    for (let next = stickyAt(PARAMETER, value, at); next !== undefined; next = stickyAt(PARAMETER, value, at)) at = next;
    if (at >= value.length) return count;
    const after = stickyAt(SEPARATOR, value, at);
    if (after === undefined) return count;
    at = after;
  }
}

const LISTS = ['contact', 'route', 'record-route', 'path'];

/**
 * An address list an app would read otherwise than the engine: drachtio-srf joins the lines of one header with a
 * comma and walks the result, so the check is on all of a message's lines of that header together. An app must see
 * the addresses the engine routes by, as many and the same, or it would act on other ones.
 */
export function appAddressListProblem(headers: readonly SipHeader[]): string | undefined {
  for (const name of LISTS) {
    const values: string[] = [];
    let raw = '';
    for (const h of headers) {
      if (h.name !== name) continue;
      values.push(h.value);
      raw = h.raw;
    }
    if (values.length === 0) continue;
    // One address on one line reads as one to both (whether srf can read it at all is the grammar's check).
    if (values.length === 1 && (values[0] === '*' || values[0]!.indexOf(',') < 0)) continue;
    let engine = 0;
    for (const v of values) engine += splitListKeepingEmpty(v).length;
    const app = appAddressCount(values.join(','));
    if (app !== engine) return `${raw}: ${engine} addresses, of which drachtio-srf reads ${app ?? 0} (write each as <uri>;params)`;
  }
  return undefined;
}

/**
 * The tag drachtio-srf reads in a From or To value, as its dialogs do (`getParsedHeader('from').params.tag`): the
 * parameters after the address, up to the first it cannot read, the last `tag` winning. Null when it cannot read
 * the address at all.
 */
export function appTag(value: string): string | undefined | null {
  ADDRESS.lastIndex = 0;
  if (ADDRESS.exec(value) === null) return null;
  let tag: string | undefined;
  PARAMETER.lastIndex = ADDRESS.lastIndex;
  for (let m = PARAMETER.exec(value); m !== null; m = PARAMETER.exec(value)) {
    if (m[1]!.toLowerCase() === 'tag') tag = m[2];
  }
  return tag;
}
