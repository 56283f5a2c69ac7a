import { err, ok, type Result } from '../../common/index.js';
import type { ControlErrorCode } from './errors.js';

const CRLF = '\r\n';

/**
 * One decoded control payload: `msgId|type|field…` and, after the first CRLF, the SIP text
 * (docs/control-protocol.md §2.1). Empty fields are kept; `sip` is undefined when the payload has no CRLF.
 */
export interface ControlMessage {
  msgId: string;
  type: string;
  fields: string[];
  sip?: string;
}

/** Parses a payload. Never throws: a payload without `msgId|type` is ERR_ENGINE_MESSAGE_MALFORMED. */
export function parseControlMessage(payload: string): Result<ControlMessage, ControlErrorCode> {
  const eol = payload.indexOf(CRLF);
  const line = eol === -1 ? payload : payload.slice(0, eol);
  const tokens = line.split('|');
  const msgId = tokens[0] ?? '';
  const type = tokens[1];
  if (msgId === '' || type === undefined || type === '') {
    return err('ERR_ENGINE_MESSAGE_MALFORMED', 'a control message starts with msgId|type');
  }
  const message: ControlMessage = { msgId, type, fields: tokens.slice(2) };
  if (eol !== -1) message.sip = payload.slice(eol + CRLF.length);
  return ok(message);
}

/** Serializes `msgId|type|fields…[CRLF sip]`; the inverse of parseControlMessage. */
export function formatControlMessage(message: ControlMessage): string {
  const line = [message.msgId, message.type, ...message.fields].join('|');
  return message.sip === undefined ? line : `${line}${CRLF}${message.sip}`;
}
