import type { CoreGuard } from './core-guard.js';
import type { AppHub } from '../types.js';
import type { LocalAddresses } from './addressing.js';
import type { NameLookups } from './name-lookups.js';
import type { AppNotify } from './app-notify.js';
import { errorCodeOf } from '../../common/gateway-error.js';
import { NOOP_USER } from './core-util.js';
import type { DialogStore } from './dialog-store.js';
import type { EngineDialog } from './engine-dialog.js';
import { reasonHeader } from './reject.js';
import type { RequestGate } from './request-gate.js';
import type { SendTarget } from '../../sip/transport/types.js';
import { buildInDialog, withDialogTarget } from './uac-dialog.js';
import { header, serializeMessageText } from '../../sip/message/index.js';

/** What ending a dialog on the engine's own account needs: where requests go out, the dialog store, the apps. */
export interface TeardownDeps {
  readonly send: Pick<RequestGate, 'sendRequest'>;
  readonly addr: Pick<LocalAddresses, 'viaFor' | 'isLocal'>;
  readonly names: Pick<NameLookups, 'resolve'>;
  readonly hub: Pick<AppHub, 'isConnected' | 'sendSip'>;
  readonly notify: Pick<AppNotify, 'cdr' | 'now'>;
  readonly dialogs: Pick<DialogStore, 'get' | 'end'>;
  /** Counts a BYE of the engine's own that could not be sent, with one rate-limited line. */
  readonly guard: Pick<CoreGuard, 'counted'>;
}

/**
 * Sends a BYE the app did not ask for, and tells the app (when connected) with an unsolicited BYE (§2.3).
 * `cause` makes the Reason an RFC 3326 one with a cause; the CDR stop carries `cdrCause`. A BYE that cannot be sent
 * (its target's name does not resolve, the transaction cap) is counted, and the call still ends for the app and in
 * the CDR: the engine has ended the dialog either way.
 */
export function byeFromEngine(c: TeardownDeps, d: EngineDialog, reasonText: string, o: { cause: number; cdrCause: string }): void {
  const reason = reasonHeader(o.cause, reasonText);
  const bye = buildInDialog(d, 'BYE', d.remoteTarget, [reason], Buffer.alloc(0));
  const f = d.flow;
  const ended = (target: SendTarget | undefined): void => {
    const text = serializeMessageText(bye);
    c.notify.cdr('stop', ['application', c.notify.now(), o.cdrCause], text);
    if (!c.hub.isConnected(d.owner)) return;
    c.hub.sendSip(d.owner, {
      source: 'application', protocol: f?.protocol ?? target?.protocol ?? 'udp', address: f?.remoteAddress ?? target?.address ?? '',
      port: f?.remotePort ?? target?.port ?? 0, time: c.notify.now(), transactionId: 'unsolicited', dialogId: d.id,
    }, text);
  };
  withDialogTarget(d, c.names, (target) => {
    bye.headers.unshift(header('Via', c.addr.viaFor(target.protocol)));
    try {
      c.send.sendRequest(bye, { target, user: NOOP_USER });
    } catch (err) {
      notSent(c, err);
    }
    ended(target);
  }, (err: unknown) => {
    bye.headers.unshift(header('Via', c.addr.viaFor(f?.protocol ?? 'udp')));
    notSent(c, err);
    ended(undefined);
  }, undefined, c);
  c.dialogs.end(d);
}

function notSent(c: TeardownDeps, err: unknown): void {
  c.guard.counted('engineByesNotSent', 'ERR_ENGINE_SEND_FAILED', `${errorCodeOf(err)}: ${err instanceof Error ? err.message : String(err)}`, undefined,
    'a BYE of the engine\'s own was not sent');
}

/**
 * The peer closed the connection a confirmed dialog of ours lives on. That alone is no loss (a later request
 * may open a new connection, RFC 3261 §18), so an in-dialog OPTIONS (§11) asks whether the peer is still
 * there; a transport error, a timeout, 408 or 481 ends the dialog with a BYE and tells the app.
 */
export function probeDialog(c: TeardownDeps, d: EngineDialog): void {
  const lost = (why: string) => {
    if (d.phase.kind === 'confirmed' && c.dialogs.get(d.id) === d) byeFromEngine(c, d, `Connection lost (${why})`, { cause: 503, cdrCause: 'connection-lost' });
  };
  const probe = buildInDialog(d, 'OPTIONS', d.remoteTarget, [], Buffer.alloc(0));
  withDialogTarget(d, c.names, (target) => {
    probe.headers.unshift(header('Via', c.addr.viaFor(target.protocol)));
    c.send.sendRequest(probe, {
      target,
      user: {
        onResponse: (res) => {
          if (res.status === 408 || res.status === 481) lost(`probe answered ${res.status}`);
        },
        onTimeout: () => lost('probe timed out'),
        onTransportError: () => lost('peer unreachable'),
      },
    });
  }, () => lost('no target'), undefined, c);
}
