import type { Clock } from '../../common/clock.js';
import type { Logger } from '../../log/logger.js';
import { RefusedInputLog } from '../../sip/transport/input-log.js';
import type { Flow } from '../../sip/transport/types.js';
import type { CoreErrorCode } from './errors.js';
import { CoreCounters, resolveLimits, type CoreLimits, type CounterName } from './limits.js';
import type { Refusal } from './reject.js';

export interface CoreGuardOptions {
  limits?: CoreLimits;
  log?: Logger | undefined;
  clock: Clock;
  /**
   * Current sizes of the tables the caps apply to. `dialogsUnderWay` counts the admitted requests that may still
   * each make a dialog and have none yet (new INVITEs and SUBSCRIBEs waiting for their app, an app's new ones
   * waiting for a name lookup): they are held against maxDialogs with the dialogs.
   */
  sizes: { server(): number; client(): number; dialogs(): number; dialogsUnderWay(): number };
}

/**
 * The engine core's limits in one place: the caps on its tables, its counters, and one warn line per code per
 * minute (with how many were left out) for every refusal and limit hit, through the transport's refused-input log.
 */
export class CoreGuard {
  readonly count = new CoreCounters();
  readonly limits: Required<CoreLimits>;
  readonly log: RefusedInputLog | undefined;
  readonly #sizes: CoreGuardOptions['sizes'];

  constructor(o: CoreGuardOptions) {
    this.limits = resolveLimits(o.limits);
    this.log = o.log ? new RefusedInputLog(o.log, o.clock) : undefined;
    this.#sizes = o.sizes;
  }

  /** Counts `n` refusals (default one) and logs them (rate-limited per code). */
  counted(name: CounterName, code: CoreErrorCode, reason: string, flow: Flow | undefined, msg: string, n = 1): void {
    this.count[name] += n;
    this.log?.refused(code, reason, flow ? `${flow.remoteAddress}:${flow.remotePort}` : '-', flow?.protocol ?? '-', msg);
  }

  /** A configuration reload's Retry-After for the 503s below (the only limit a running core takes anew). */
  setRetryAfterSeconds(seconds: number): void {
    this.limits.retryAfterSeconds = seconds;
  }

  /** 503 with Retry-After and a Reason naming what is missing. */
  busy(text: string): Refusal {
    return { status: 503, phrase: 'Service Unavailable', text, retryAfter: this.limits.retryAfterSeconds };
  }

  /**
   * The refusal for a request from the network when a table is full (counted, logged), else undefined. The requests
   * waiting for an app keep a reserve (a tenth of maxServerTransactions, at least one) that only the in-dialog
   * requests of existing dialogs (`inDialog`) may use: new requests, however long their apps hold them (a ringing
   * INVITE waits up to appFinalTimeoutMs), never keep a call's BYE or re-INVITE out. Other in-dialog requests leave
   * half the reserve to BYEs, which are admitted up to the cap itself.
   */
  admitServer(method: string, flow: Flow, inDialog = false): Refusal | undefined {
    const l = this.limits;
    if (!inDialog && (method === 'INVITE' || method === 'SUBSCRIBE') && this.#dialogsHeld() >= l.maxDialogs) {
      return this.#full('dialogTableFull', `${l.maxDialogs} dialogs`, method, flow);
    }
    const max = l.maxServerTransactions;
    const reserve = Math.max(1, Math.floor(max / 10));
    const room = !inDialog ? max - reserve : method === 'BYE' ? max : max - Math.floor(reserve / 2);
    if (this.#sizes.server() >= room) {
      return this.#full(inDialog ? 'serverTableFullInDialog' : 'serverTableFull', `${max} requests waiting for an app`, inDialog ? `in-dialog ${method}` : method, flow);
    }
    return undefined;
  }

  /** True (counted, logged) when apps may not start another request. */
  clientFull(): boolean {
    if (this.#sizes.client() < this.limits.maxClientTransactions) return false;
    this.#full('clientTableFull', `${this.limits.maxClientTransactions} app requests`, 'app request', undefined);
    return true;
  }

  /** True (counted, logged) when no new dialog fits beside the dialogs and those under way. */
  dialogsFull(): boolean {
    if (this.#dialogsHeld() < this.limits.maxDialogs) return false;
    this.#full('dialogTableFull', `${this.limits.maxDialogs} dialogs`, 'app request', undefined);
    return true;
  }

  /** Dialogs and requests that may still each make one: a new one is admitted only while this is below maxDialogs. */
  #dialogsHeld(): number {
    return this.#sizes.dialogs() + this.#sizes.dialogsUnderWay();
  }

  #full(name: CounterName, what: string, method: string, flow: Flow | undefined): Refusal {
    this.counted(name, 'ERR_ENGINE_TABLE_FULL', `limit of ${what} reached`, flow, `${method} refused: limit of ${what} reached`);
    return this.busy(`limit of ${what} reached`);
  }
}
