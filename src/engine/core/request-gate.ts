import { GatewayError } from '../../common/index.js';
import type { SipMessage, SipRequest } from '../../sip/message/types.js';
import type { TransactionLayer } from '../../sip/transaction/index.js';
import type { SendTarget } from '../../sip/transport/types.js';
import type { RefusedInputLog } from '../../sip/transport/input-log.js';
import type { CoreErrorCode } from './errors.js';
import { uriOrUndefined } from '../../sip/message/index.js';

const SCHEMES = new Set(['sip', 'sips', 'tel']);

/** Why a Request-URI may not go on the wire; undefined when it may. */
export function requestUriProblem(uri: string): string | undefined {
  if (uri.length === 0) return 'empty Request-URI';
  // eslint-disable-next-line no-control-regex
  if (/[\s\x00-\x1f\x7f]/.test(uri)) return 'Request-URI with white space or a control character';
  const u = uriOrUndefined(uri);
  if (!u) return `Request-URI is not a URI: ${uri.slice(0, 80)}`;
  if (!SCHEMES.has(u.scheme)) return `Request-URI scheme ${u.scheme.slice(0, 16)} is not sip, sips or tel`;
  return undefined;
}

/**
 * Every request the engine core puts on the wire goes through here (new, in-dialog, proxied, relayed, ACK, the
 * engine's own BYE): one with no usable Request-URI is refused (an error to the caller, a counter, a
 * rate-limited log line), never sent. This is the invariant behind "no `BYE  SIP/2.0`", not a special case.
 */
export class RequestGate {
  readonly #tl: TransactionLayer;
  readonly #log: RefusedInputLog | undefined;
  refused = 0;

  constructor(tl: TransactionLayer, log: RefusedInputLog | undefined) {
    this.#tl = tl;
    this.#log = log;
  }

  sendRequest(request: SipRequest, opts: Parameters<TransactionLayer['sendRequest']>[1]): ReturnType<TransactionLayer['sendRequest']> {
    this.#check(request, opts.target);
    return this.#tl.sendRequest(request, opts);
  }

  /** Stateless: ACKs, and responses (which have no Request-URI and pass). */
  sendStateless(message: SipMessage, target: SendTarget): ReturnType<TransactionLayer['sendStateless']> {
    try {
      if (message.kind === 'request') this.#check(message, target);
    } catch (err) {
      return Promise.reject(err);
    }
    return this.#tl.sendStateless(message, target);
  }

  cancel(...args: Parameters<TransactionLayer['cancel']>): ReturnType<TransactionLayer['cancel']> {
    return this.#tl.cancel(...args);
  }

  #check(request: SipRequest, target: SendTarget): void {
    const problem = requestUriProblem(request.uri);
    if (problem === undefined) return;
    this.refused++;
    const code: CoreErrorCode = 'ERR_ENGINE_REQUEST_URI_INVALID';
    this.#log?.refused(code, problem, `${target.address}:${target.port}`, target.protocol, `${request.method} not sent: ${problem}`);
    throw new GatewayError<CoreErrorCode>(code, `${request.method} not sent: ${problem}`);
  }
}
