import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import type { BridgeLeg, BridgeRequest, BridgeResponse, BridgeSrf, PassLeg } from '../../../src/b2bua/index.js';
import { captureLog as captureWholeLog } from '../../support/log-capture.js';

/** A drachtio-srf Dialog stand-in: records destroy() calls and lets the test answer them. */
export class FakeLeg extends EventEmitter implements BridgeLeg {
  connected = true;
  destroyCalls = 0;
  /** The options of each destroy() (the BYE's headers). */
  destroyOpts: Array<{ headers?: Record<string, string> } | undefined> = [];
  #pending: Array<(err: unknown) => void> = [];

  destroy(opts: { headers?: Record<string, string> } | undefined, callback: (err: unknown) => void): void {
    this.destroyCalls++;
    this.destroyOpts.push(opts);
    this.#pending.push(callback);
  }

  /** Completes the BYE this side sent (the 200 to it, or an error). */
  answerBye(err: unknown = null): void {
    const cb = this.#pending.shift();
    if (!cb) throw new Error('no BYE pending');
    this.connected = false;
    cb(err);
  }

  /** The far end of this leg sent BYE: drachtio-srf marks the dialog over and emits 'destroy'. */
  remoteBye(): void {
    this.connected = false;
    this.emit('destroy');
  }

  /** The engine ended this leg by itself (drachtio: an unsolicited BYE, source `application`). */
  engineBye(reason: string): void {
    this.connected = false;
    this.emit('destroy', { source: 'application', get: (n: string) => (n.toLowerCase() === 'reason' ? reason : undefined) });
  }
}

export function fakeRequest(callId = 'a-leg-1@10.0.0.1', uri = 'sip:15551234567@gw.example.com'): BridgeRequest {
  const headers: Record<string, string> = { 'call-id': callId };
  return { uri, get: (name) => headers[name.toLowerCase()] };
}

export class FakeResponse implements BridgeResponse {
  finalResponseSent = false;
  sent: number[] = [];
  /** The headers of each response sent, in order. */
  headers: Array<Record<string, string> | undefined> = [];
  send(status: number, _reason?: string, opts?: { headers?: Record<string, string> }): void {
    this.sent.push(status);
    this.headers.push(opts?.headers);
    this.finalResponseSent = true;
  }
}

export interface B2buaCall {
  uri: string;
  opts: Record<string, unknown>;
  resolve(legs: { uas: BridgeLeg; uac: BridgeLeg }): void;
  reject(err: unknown): void;
  /** Reports the B-leg INVITE sent, as drachtio-srf does; returns how many times it was cancelled so far. */
  sendInvite(): { cancels: () => number };
}

/** createB2BUA that waits for the test to say how the B leg went. */
export class FakeSrf implements BridgeSrf {
  calls: B2buaCall[] = [];
  createB2BUA(_req: BridgeRequest, _res: BridgeResponse, uri: string, opts: Record<string, unknown>,
    progress: { cbRequest: (err: unknown, req?: { cancel?(): void }) => void }): Promise<{ uas: PassLeg; uac: PassLeg }> {
    // A FakeLeg has no request(): its BYE goes through destroy() (supervise-legs.ts), which these tests answer; a test
    // of in-dialog relaying resolves with FakeDialog legs (pipeline-fakes.ts), which have one.
    return new Promise<{ uas: BridgeLeg; uac: BridgeLeg }>((resolve, reject) => this.calls.push({
      uri, opts, resolve, reject,
      sendInvite: () => {
        let n = 0;
        progress.cbRequest(null, { cancel: () => void n++ });
        return { cancels: () => n };
      },
    })) as Promise<{ uas: PassLeg; uac: PassLeg }>;
  }
}

/** A SipError as drachtio-srf builds it (name and status are what the bridge reads). */
export function sipError(status: number): Error {
  return Object.assign(new Error(`Sip non-success response: ${status}`), { name: 'SipError', status });
}

/** The logger and every whole line it was given (test/support/log-capture.ts). */
export function captureLog(): { log: Logger; lines: Array<Record<string, unknown>> } {
  const { log, records } = captureWholeLog();
  return { log, lines: records };
}

/**
 * Lets pending promise callbacks run (no timers involved): every microtask queued until the next turn of the event
 * loop, however long the chain (a relayed re-INVITE goes through several).
 */
export async function settle(): Promise<void> {
  await new Promise<void>((resolve) => setImmediate(resolve));
}
