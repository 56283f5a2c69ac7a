import { appHeaderName } from './app-reading.js';
import type { SipHeader, SipMessage } from './types.js';

/** The start line and headers as text, with Content-Length written once from the body. */
export function serializeHead(msg: SipMessage, headers: SipHeader[] = msg.headers): string {
  return writeHead(msg, headers, false);
}

/**
 * The head as serializeHead writes it; `forApp` writes each compact name drachtio-srf would file as another header
 * under its long name (appHeaderName), found by a name's length alone, so a message without one costs nothing more.
 */
function writeHead(msg: SipMessage, headers: SipHeader[], forApp: boolean): string {
  let s = msg.kind === 'request' ? `${msg.method} ${msg.uri} ${msg.version}\r\n` : `${msg.version} ${msg.status} ${msg.reason}\r\n`;
  for (let i = 0; i < headers.length; i++) {
    const h = headers[i]!;
    if (h.name === 'content-length') continue;
    const raw = h.raw;
    s += (forApp && raw.length === 1 ? appHeaderName(raw) : raw) + ': ' + h.value + '\r\n';
  }
  s += 'Content-Length: ' + msg.body.length + '\r\n\r\n';
  return s;
}

/** Serialises a message (RFC 3261 §7): headers in order, Content-Length recomputed from the body. */
export function serializeMessage(msg: SipMessage): Buffer {
  const head = serializeHead(msg);
  if (msg.body.length === 0) return Buffer.from(head, 'utf8');
  const headLen = Buffer.byteLength(head, 'utf8');
  const out = Buffer.allocUnsafe(headLen + msg.body.length);
  out.write(head, 0, 'utf8');
  msg.body.copy(out, headLen);
  return out;
}

/**
 * The message as text, for the control protocol, which carries SIP as UTF-8 text: every message an app gets (`sip`
 * frames, echoes, CDRs) is written here. A header the engine read by a compact form drachtio-srf does not expand
 * to the same header goes under its long name (`x: 90` as `Session-Expires: 90`), so the app reads it as the engine
 * did (docs/control-protocol.md §2.3); its value is unchanged.
 */
export function serializeMessageText(msg: SipMessage): string {
  const head = writeHead(msg, msg.headers, true);
  return msg.body.length === 0 ? head : head + msg.body.toString('utf8');
}
