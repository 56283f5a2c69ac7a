import type { Logger } from '../../log/logger.js';
import type { SipRequest } from '../../sip/message/types.js';
import { buildCancel } from '../../sip/transaction/index.js';
import type { AppHub, AppProxyCommand, AppSipCommand } from '../types.js';
import { nokFields } from '../wire/server-messages.js';
import type { AppNotify } from './app-notify.js';
import { foreignId } from './app-owner.js';
import type { CoreGuard } from './core-guard.js';
import { errorCodeOf } from '../../common/gateway-error.js';
import { newTag } from './core-util.js';
import type { DialogStore } from './dialog-store.js';
import type { ServerPending } from './engine-dialog.js';
import type { CoreErrorCode } from './errors.js';
import type { ProxyCore } from './proxy-core.js';
import { refusalReason, refusalResponse, type Refusal } from './reject.js';
import { engineOriginHeader } from './internal-headers.js';
import type { ServerRequests } from './server-requests.js';
import type { StageTimes } from './stage-times.js';
import type { UacCore } from './uac-core.js';
import type { UasCore } from './uas-core.js';
import { getHeader, header, parseAppText, serializeMessageText } from '../../sip/message/index.js';

/** What the app side works with: the owners of requests and dialogs, the UAC, UAS and proxy sides, and the apps. */
export interface AppCommandsDeps {
  readonly hub: Pick<AppHub, 'reply' | 'isConnected' | 'sendSip'>;
  readonly server: Pick<ServerRequests, 'get' | 'settle' | 'list' | 'clear' | 'releaseDialogSlot'>;
  readonly dialogs: Pick<DialogStore, 'get' | 'byCallId' | 'list' | 'end'>;
  readonly notify: AppNotify;
  readonly uac: Pick<UacCore, 'sendNew' | 'sendInDialog' | 'onAppCancel' | 'byeFromEngine' | 'cancelFromEngine'>;
  readonly uas: Pick<UasCore, 'onAppResponse'>;
  readonly proxy: Pick<ProxyCore, 'start'>;
  /** The counters of requests answered and dialogs ended for apps that went away. */
  readonly guard: Pick<CoreGuard, 'count' | 'counted'>;
  readonly stages: StageTimes | undefined;
  readonly log: Logger | undefined;
}

/**
 * The core's app side: an app's `sip` command (a response, an in-dialog request, a CANCEL or a new request,
 * docs/control-protocol.md §2.2) and `proxy` command (§2.5) routed to the UAS, UAC or proxy side; the answer the
 * engine gives for an app that did not; and the cleanup when an app's control connection goes away.
 */
export class AppCommands {
  readonly #c: AppCommandsDeps;

  constructor(deps: AppCommandsDeps) {
    this.#c = deps;
  }

  onAppSip(cmd: AppSipCommand): void {
    const arrivedAt = this.#c.stages ? performance.now() : 0;
    const msg = parseAppText(cmd.sip);
    if (!msg) {
      this.#c.notify.nok(cmd, refusedText(cmd.sip));
      return;
    }
    if (msg.kind === 'response') {
      // Another app's request is as unknown to this one as a request that is not there (app-owner.ts).
      const found = cmd.transactionId ? this.#c.server.get(cmd.transactionId) : undefined;
      const p = found && !foreignId(this.#c.guard, cmd, found.connId, 'transaction') ? found : undefined;
      if (p) this.#answered(p);
      this.#c.uas.onAppResponse(cmd, msg, p);
      this.#c.stages?.sent(arrivedAt);
      return;
    }
    if (cmd.dialogId) {
      const d = this.#c.dialogs.get(cmd.dialogId);
      if (!d || foreignId(this.#c.guard, cmd, d.owner, 'dialog')) {
        this.#c.notify.nok(cmd, `unable to find dialog for dialog id ${cmd.dialogId}`);
        return;
      }
      this.#c.uac.sendInDialog(cmd, msg, d);
      return;
    }
    if (cmd.transactionId) {
      if (msg.method === 'CANCEL') this.#c.uac.onAppCancel(cmd);
      else this.#c.notify.nok(cmd, 'a request with a transaction id and no dialog id must be a CANCEL');
      return;
    }
    // A new request whose Call-ID matches an existing dialog of its app is sent inside that dialog (§2.2 item 4);
    // another app's dialog is not this app's to use, nor to end.
    const callId = getHeader(msg, 'call-id');
    if (callId !== undefined) {
      const found = this.#c.dialogs.byCallId(callId);
      const d = found?.owner === cmd.connId ? found : undefined;
      // A dialog whose INVITE failed only waits for the ACK srf still sends; a new request with its Call-ID
      // (a digest retry, https://www.rfc-editor.org/rfc/rfc3261#section-22.2) starts afresh.
      if (d && d.phase.kind === 'terminating') this.#c.dialogs.end(d);
      else if (d) {
        this.#c.uac.sendInDialog(cmd, msg, d);
        return;
      }
    }
    this.#c.uac.sendNew(cmd, msg).then(() => this.#c.stages?.sent(arrivedAt), (err: unknown) => {
      const why = err instanceof Error ? err.message : String(err);
      this.#c.guard.counted('appRequestsNotSent', 'ERR_ENGINE_SEND_FAILED', `${errorCodeOf(err)}: ${why}`, undefined, `${msg.method} from the app not sent: NOK`);
      this.#c.notify.nok(cmd, why);
    });
  }

  onAppProxy(cmd: AppProxyCommand): void {
    const p = this.#c.server.get(cmd.transactionId);
    if (!p || foreignId(this.#c.guard, cmd, p.connId, 'transaction') || p.final || p.proxied || p.inDialog) {
      this.#c.hub.reply(cmd.connId, cmd.msgId, nokFields(`unable to find transaction ${cmd.transactionId} to proxy`));
      return;
    }
    const fromApp = parseAppText(cmd.sip);
    if (!fromApp) {
      this.#c.hub.reply(cmd.connId, cmd.msgId, nokFields(refusedText(cmd.sip)));
      return;
    }
    this.#answered(p);
    // A proxied request makes no dialog of the engine's (its record, if any, is in ProxiedDialogs): the early
    // dialog of a provisional the app sent before is ended, and a reliable one is no longer resent.
    this.#c.server.releaseDialogSlot(p);
    const early = p.dialog;
    if (early !== undefined && early.phase.kind === 'early') this.#c.dialogs.end(early);
    p.dialog = undefined;
    p.dialogId = '';
    p.reliable?.timer?.cancel();
    p.reliable = undefined;
    this.#c.proxy.start(cmd, p, fromApp);
  }

  /**
   * An app's control connection is gone. Nothing of it may linger: every request it had to answer gets 503 with
   * a Reason now, every dialog it owned is ended (BYE to a confirmed leg, CANCEL to a leg still ringing, both
   * legs of a B2BUA call being its dialogs), each with a CDR stop and a counter, and one summary log line.
   */
  onAppDisconnected(connId: string): void {
    let answered = 0;
    for (const p of this.#c.server.list()) {
      if (p.connId !== connId || p.final || p.proxied) continue;
      this.answerForApp(p, { status: 503, phrase: 'Service Unavailable', text: 'application disconnected' }, 'app-disconnected');
      answered++;
    }
    let ended = 0;
    for (const d of this.#c.dialogs.list()) {
      const ph = d.phase;
      if (d.owner !== connId || ph.kind === 'terminated') continue;
      ended++;
      if (ph.kind === 'terminating') {
        this.#c.dialogs.end(d);
      } else if (ph.kind === 'confirmed') {
        this.#c.uac.byeFromEngine(d, 'application disconnected', { cause: 503, cdrCause: 'app-disconnected' });
      } else if (ph.clientInvite !== undefined) {
        // A B leg still ringing: CANCEL it; a 200 that crosses the CANCEL is ACKed and BYEd (§2.8).
        this.#c.uac.cancelFromEngine(ph.clientInvite);
      } else {
        this.#c.dialogs.end(d);
      }
    }
    this.#c.guard.count.appGoneRequestsAnswered += answered;
    this.#c.guard.count.appGoneDialogsEnded += ended;
    const code: CoreErrorCode = 'ERR_ENGINE_APP_GONE';
    if (answered + ended > 0) {
      this.#c.log?.warn({ code, connId, dialogsEnded: ended, requestsAnswered: answered }, 'app disconnected: its dialogs ended and its pending requests answered 503');
    } else {
      this.#c.log?.debug({ code, connId }, 'app disconnected');
    }
  }

  /**
   * The engine answers a request its app did not: the final response with a Reason, the state freed, an early
   * dialog ended, and for an INVITE a CANCEL to the app (when still connected) so that it drops its side too.
   */
  answerForApp(p: ServerPending, r: Refusal, cdrCause: string): void {
    p.toTag ??= newTag();
    p.txn.respond(refusalResponse(p.request, r, p.toTag));
    p.final = true;
    const d = p.dialog ?? (p.dialogId ? this.#c.dialogs.get(p.dialogId) : undefined);
    this.#c.server.clear(p);
    if (p.method !== 'INVITE') return;
    if (!p.inDialog) this.#c.notify.cdr('stop', ['application', this.#c.notify.now(), cdrCause], () => serializeMessageText(p.request));
    if (!p.inDialog && d && d.role === 'uas' && d.phase.kind === 'early') this.#c.dialogs.end(d);
    if (!this.#c.hub.isConnected(p.connId)) return;
    let cancel: SipRequest;
    try {
      cancel = buildCancel(p.request);
    } catch {
      return;
    }
    // The app can tell this CANCEL from its caller's (X-Trunkgate-Peer origin=engine, which the engine writes on no
    // network request), and reads why in its Reason: its CDR does not say the caller hung up.
    cancel.headers.push(header('Reason', refusalReason(r)), engineOriginHeader(p.flow.protocol));
    this.#c.hub.sendSip(p.connId, {
      source: 'network', protocol: p.flow.protocol, address: p.flow.remoteAddress, port: p.flow.remotePort,
      time: this.#c.notify.now(), transactionId: p.txnId, dialogId: p.provisional ? p.dialogId : '',
    }, serializeMessageText(cancel));
  }

  /** Its app answered `p` (any response, or a proxy): the INVITE no longer counts as unanswered. */
  #answered(p: ServerPending): void {
    if (p.handedAt !== undefined) {
      this.#c.stages?.answered(p.handedAt);
      p.handedAt = undefined;
    }
    this.#c.server.settle(p);
  }
}

/** The NOK text for app SIP text parseAppText refused: read again (a refusal is rare) to hear why. */
function refusedText(sip: string): string {
  let why = '';
  parseAppText(sip, (r) => (why = r));
  return why ? `invalid SIP message: ${why}` : 'invalid SIP message';
}
