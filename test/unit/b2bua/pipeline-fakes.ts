import { EventEmitter } from 'node:events';
import { ManualClock } from '../../../src/common/index.js';
import assert from 'node:assert/strict';
import {
  PipelineStats, type B2buaPolicy, type Middleware, type PassLeg, type PipelineDeps, type PipelineRequest,
  type PipelineResponse, type PlaceCallSrf, type SendOptions,
} from '../../../src/b2bua/index.js';
import type { PermissionCategory } from '../../../src/policy/index.js';
import type { LegAnswer } from '../../../src/b2bua/leg-reinvite.js';
import { captureLog, settle } from './fake-srf.js';

export const categories: PermissionCategory[] = [
  { name: 'tollFree', order: 10, default: true, patterns: ['^(\\+?1)?8(00|33|44|55|66|77|88)[2-9]\\d{6}$'] },
  { name: 'international', order: 30, default: false, patterns: ['^011\\d{4,}$', '^\\+(?!1)\\d{4,}$'] },
  { name: 'local', order: 60, default: true, patterns: ['^[2-9]\\d{2}[2-9]\\d{6}$', '^[2-9]\\d{6}$'] },
];

export const policy: B2buaPolicy = {
  tenants: {
    pbx: { transport: 'udp', srtpCrypto: ['AES_CM_128_HMAC_SHA1_80', 'AEAD_AES_256_GCM'] },
    carrier: { transport: 'tls', url: 'sips', tlsProfile: 'carrier-tls', sipServer: ['sbc1.carrier.example:5061', 'sbc2.carrier.example:5061'], srtpCrypto: ['AEAD_AES_256_GCM', 'AES_CM_128_HMAC_SHA1_80'], unknownPeer: 'reject' },
    backup: { transport: 'udp', sipServer: '192.0.2.10:5060' },
    strict: { transport: 'udp', defaultPermissions: { local: false }, unknownPeer: 'allow' },
  },
  listeners: [
    { transport: 'udp', host: '127.0.0.1', port: 5070, tenant: 'pbx' },
    { transport: 'tls', host: '0.0.0.0', port: 5061 },
    { transport: 'udp', host: '127.0.0.1', port: 5080, tenant: 'strict' },
  ],
  sniTenants: { 'gw.carrier.example': 'carrier' },
  categories,
  tlsPeers: {
    'sbc.carrier.example': { permissions: { international: true } },
    'pbx.remote.example': { permissions: { tollFree: false } },
  },
  dialPeers: [
    { id: 'intl', destinationPattern: '^\\+', tenant: 'carrier', preference: 1 },
    { id: 'intl-backup', destinationPattern: '^\\+', tenant: 'backup', preference: 2 },
    { id: 'local', destinationPattern: '^[2-9]\\d{6}$', tenant: 'pbx', from: ['carrier'] },
    { id: 'tollfree', destinationPattern: '^8', tenant: 'backup' },
    { id: 'ten', destinationPattern: '^[2-9]\\d{9}$', tenant: 'backup' },
  ],
};

export interface FakeRequest extends PipelineRequest {
  msg: { headers: Record<string, unknown> };
}

export function fakeInvite(o: {
  uri?: string; protocol?: string; receivedOn?: string; headers?: Record<string, string>; body?: string;
} = {}): FakeRequest {
  const headers: Record<string, unknown> = { 'Call-ID': 'call-1@10.0.0.1', ...(o.headers ?? {}) };
  const find = (name: string) => Object.keys(headers).find((k) => k.toLowerCase() === name.toLowerCase());
  return {
    method: 'INVITE',
    uri: o.uri ?? 'sip:2125551234@gw.example.com',
    protocol: o.protocol ?? 'udp',
    receivedOn: o.receivedOn ?? '127.0.0.1:5070',
    source_address: '127.0.0.1',
    ...(o.body !== undefined ? { body: o.body } : {}),
    msg: { headers },
    get: (name) => {
      const k = find(name);
      return k === undefined ? undefined : String(headers[k]);
    },
    has: (name) => find(name) !== undefined,
  };
}

export class FakeRes implements PipelineResponse {
  finalResponseSent = false;
  sent: Array<{ status: number; reason?: string | undefined; opts?: SendOptions | undefined }> = [];
  send(status: number, reason?: string, opts?: SendOptions): void {
    this.sent.push({ status, reason, opts });
    if (status >= 200) this.finalResponseSent = true;
  }
  get status(): number | undefined {
    return this.sent.at(-1)?.status;
  }
  get reasonHeader(): string | undefined {
    return this.sent.at(-1)?.opts?.headers?.Reason;
  }
}

export function deps(p: B2buaPolicy = policy) {
  const { log, lines } = captureLog();
  const clock = new ManualClock(1_700_000_000_000);
  const stats = new PipelineStats();
  const d: PipelineDeps = { policy: p, stats, log, clock };
  return { deps: d, lines, clock, stats };
}

/** Runs steps in order the way drachtio-srf's app does: the next one only when `next()` is called. */
export function run(steps: Middleware[], req: PipelineRequest, res: FakeResponseLike): { reached: number } {
  const out = { reached: 0 };
  const step = (i: number): void => {
    out.reached = i;
    if (i >= steps.length || res.finalResponseSent) return;
    steps[i]!(req, res, (err?: unknown) => {
      if (err) throw err;
      step(i + 1);
    });
  };
  step(0);
  return out;
}
type FakeResponseLike = PipelineResponse;

/** A drachtio-srf Dialog stand-in for bridged legs. */
export class FakeDialog extends EventEmitter implements PassLeg {
  connected = true;
  local = { sdp: 'v=0\r\nlocal\r\n' };
  destroyCalls = 0;
  modified: string[] = [];
  requests: Array<{ method: string; headers?: Record<string, string>; body?: string }> = [];
  modifyAnswer = 'v=0\r\nm=audio 4000 RTP/SAVP 0\r\na=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:KEY\r\n';
  destroy(_opts: undefined, cb: (err: unknown) => void): void {
    this.destroyCalls++;
    this.connected = false;
    cb(null);
  }
  /** The far end's answer to a re-INVITE the gateway sends (leg-reinvite.ts): 200 with `modifyAnswer` unless a test says otherwise. */
  reinvite: (sdp: string, headers?: Record<string, string>) => Promise<LegAnswer> = () => Promise.resolve({
    status: 200, body: this.modifyAnswer, get: (n: string) => (n === 'Content-Type' ? 'application/sdp' : undefined),
  });
  /** Status the far end answers a BYE with. */
  byeStatus = 200;
  /** The far end's answer to an INFO or UPDATE the gateway sends: 200 without a body unless a test says otherwise. */
  others?: (opts: { method: string; headers?: Record<string, string>; body?: string }) => Promise<LegAnswer>;
  /**
   * drachtio-srf's Dialog.request: a promise of the answer; with a callback (how leg-reinvite.ts sends a re-INVITE),
   * the callback gets it. A re-INVITE's offer is kept in `modified`, the other requests in `requests`.
   */
  request(opts: { method: string; headers?: Record<string, string>; body?: string }, cb?: (err: unknown, res?: LegAnswer) => void): Promise<LegAnswer> {
    let p: Promise<LegAnswer>;
    if (opts.method === 'INVITE') {
      this.modified.push(opts.body ?? '');
      p = this.reinvite(opts.body ?? '', opts.headers);
    } else {
      this.requests.push(opts);
      if (opts.method === 'BYE') {
        this.destroyCalls++;
        this.connected = false;
      }
      p = this.others && opts.method !== 'BYE' ? this.others(opts)
        : Promise.resolve({ status: opts.method === 'BYE' ? this.byeStatus : 200, get: (_n: string) => undefined as string | undefined });
    }
    if (cb) p.then((r) => cb(null, r), (err: unknown) => cb(err));
    return p;
  }
}

/** One createB2BUA call, settled by the test. */
export interface Attempt {
  uri: string;
  opts: Record<string, unknown>;
  res: PipelineResponse;
  cbRequest(err: unknown, uacReq?: unknown): void;
  resolve(legs: { uas: FakeDialog; uac: FakeDialog }): void;
  reject(err: unknown): void;
}

/** createB2BUA whose every B leg waits for the test to answer, reject or watch it. */
export class ScriptedSrf implements PlaceCallSrf {
  attempts: Attempt[] = [];
  #waiters: Array<() => void> = [];
  createB2BUA(_req: PipelineRequest, res: PipelineResponse, uri: string, opts: Record<string, unknown>,
    callbacks: { cbRequest(err: unknown, uacReq?: unknown): void }) {
    return new Promise<{ uas: FakeDialog; uac: FakeDialog }>((resolve, reject) => {
      this.attempts.push({ uri, opts, res, cbRequest: callbacks.cbRequest, resolve, reject });
      this.#waiters.splice(0).forEach((w) => w());
    });
  }
  async attempt(i: number): Promise<Attempt> {
    for (let k = 0; k < 20 && !this.attempts[i]; k++) await settle();
    const a = this.attempts[i];
    assert.ok(a, `attempt ${i} was made`);
    return a;
  }
}
