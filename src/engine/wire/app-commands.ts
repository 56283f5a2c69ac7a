import { err, ok, type Result } from '../../common/index.js';
import type { AppProxyCommand, AppSipCommand } from '../types.js';
import type { ControlMessage } from './control-message.js';
import type { ControlErrorCode } from './errors.js';

/**
 * `msgId|sip|transactionId|dialogId[|routeUri]` CRLF SIP-text (docs/control-protocol.md §2.2). srf always sends
 * the two id fields, possibly empty; an empty routeUri counts as absent.
 */
export function toAppSipCommand(connId: string, msg: ControlMessage): Result<AppSipCommand, ControlErrorCode> {
  if (msg.sip === undefined || msg.sip.length === 0) {
    return err('ERR_ENGINE_MESSAGE_MALFORMED', 'a sip command carries a SIP message after CRLF');
  }
  const [transactionId = '', dialogId = '', routeUri = ''] = msg.fields;
  const cmd: AppSipCommand = { connId, msgId: msg.msgId, transactionId, dialogId, sip: msg.sip };
  if (routeUri !== '') cmd.routeUri = routeUri;
  return ok(cmd);
}

/**
 * `msgId|proxy|transactionId|remainInDialog|fullResponse|followRedirects|simultaneous or serial|
 * provisionalTimeout|finalTimeout|dest1|dest2…` CRLF `METHOD dest1 SIP/2.0` plus extra headers.
 */
export function toAppProxyCommand(connId: string, msg: ControlMessage): Result<AppProxyCommand, ControlErrorCode> {
  const f = msg.fields;
  if (f.length < 8 || msg.sip === undefined) {
    return err('ERR_ENGINE_MESSAGE_MALFORMED', 'a proxy command carries 7 options, at least one destination and a SIP message');
  }
  const destinations = f.slice(7).filter((d) => d !== '');
  if (destinations.length === 0) return err('ERR_ENGINE_MESSAGE_MALFORMED', 'a proxy command names at least one destination');
  return ok({
    connId,
    msgId: msg.msgId,
    transactionId: f[0]!,
    remainInDialog: f[1] === 'remainInDialog',
    fullResponse: f[2] === 'fullResponse',
    followRedirects: f[3] === 'followRedirects',
    simultaneous: f[4] === 'simultaneous',
    provisionalTimeout: f[5]!,
    finalTimeout: f[6]!,
    destinations,
    sip: msg.sip,
  });
}
