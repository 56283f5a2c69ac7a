import type { SipHeader, SipRequest, SipResponse } from '../../sip/message/types.js';
import type { Flow, SendTarget } from '../../sip/transport/types.js';
import { defaultPort, transportOf } from './addressing.js';
import type { NameLookups } from './name-lookups.js';
import { getHeaderValues, header, splitList, uriOrUndefined, uriTextOf } from '../../sip/message/index.js';

/** A response as it goes back upstream: our own top Via removed (https://www.rfc-editor.org/rfc/rfc3261#section-16.7). */
export function withoutTopVia(res: SipResponse): SipResponse {
  const headers: SipHeader[] = [];
  let removed = false;
  for (const h of res.headers) {
    if (!removed && h.name === 'via') {
      removed = true;
      const rest = splitList(h.value).slice(1);
      if (rest.length > 0) headers.push(header('Via', rest.join(', ')));
      continue;
    }
    headers.push(h);
  }
  return { ...res, headers };
}

/** Where a request goes: its first Route, else its Request-URI (https://www.rfc-editor.org/rfc/rfc3261#section-16.6 step 7). */
export async function nextHop(request: SipRequest, names: Pick<NameLookups, 'resolve'>, flowHint?: Flow): Promise<SendTarget> {
  const route = getHeaderValues(request, 'route')[0];
  const uri = route !== undefined ? uriTextOf(route) : request.uri;
  const u = uriOrUndefined(uri);
  if (!u) throw new Error(`invalid destination: ${uri}`);
  const protocol = transportOf(u);
  const t: SendTarget = { protocol, address: await names.resolve(u.host), port: u.port ?? defaultPort(protocol) };
  if (flowHint?.listenerId && flowHint.protocol === protocol && protocol === 'udp') t.listenerId = flowHint.listenerId;
  return t;
}

/** A proxy command's timeout: '5s', '500ms' or a bare number of seconds; undefined when empty or unreadable. */
export function parseTimeout(v: string): number | undefined {
  const m = /^\s*(\d+)\s*(ms|s)?\s*$/i.exec(v);
  if (!m) return undefined;
  const n = Number(m[1]);
  return m[2]?.toLowerCase() === 'ms' ? n : n * 1000;
}
