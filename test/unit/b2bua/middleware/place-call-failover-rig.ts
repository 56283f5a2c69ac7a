// What the failover tests share: pbx calls +44… over two trunks, `first` (one, 192.0.2.1) then `second` (two,
// 192.0.2.2), through the whole pipeline on a scripted srf and a manual clock; the caller's CANCEL can be sent with
// any headers; `extra` adds to the policy (a dns: trunk, gateway.calls).
import { EventEmitter } from 'node:events';
import { buildPipeline, PipelineStats, type B2buaPolicy, type PipelineDeps, type ResolveResult } from '../../../../src/b2bua/index.js';
import { sipError } from '../fake-srf.js';
import { deps, FakeRes, fakeInvite, policy, ScriptedSrf } from '../pipeline-fakes.js';

export const twoTrunks: B2buaPolicy = {
  ...policy,
  tenants: {
    ...policy.tenants,
    pbx: { ...policy.tenants.pbx!, defaultPermissions: { international: true } },
    one: { transport: 'udp', sipServer: '192.0.2.1:5060' },
    two: { transport: 'udp', sipServer: '192.0.2.2:5060' },
  },
  dialPeers: [
    { id: 'first', destinationPattern: '^\\+', tenant: 'one', preference: 1 },
    { id: 'second', destinationPattern: '^\\+', tenant: 'two', preference: 2 },
  ],
};

export const sdpA = 'v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\nm=audio 41000 RTP/AVP 0\r\n';

/** One call through the pipeline; `p` the policy (its clock and stats may be shared between calls with `shared`), `body` its offer. */
export function call(p: B2buaPolicy = twoTrunks, shared?: ReturnType<typeof deps>, more: Partial<PipelineDeps> = {}, body?: string) {
  const d = shared ?? deps(p);
  const srf = new ScriptedSrf();
  const stats = (d.deps.stats as PipelineStats | undefined) ?? new PipelineStats();
  const steps = buildPipeline({ ...d.deps, stats, srf, ...more });
  const events = new EventEmitter();
  const req = Object.assign(fakeInvite({ uri: 'sip:+442071234567@gw.example.com', headers: { From: '<sip:1001@pbx>;tag=1', ...(body !== undefined ? { 'Content-Type': 'application/sdp' } : {}) }, ...(body !== undefined ? { body } : {}) }), {
    on: (e: 'cancel', fn: (c?: { get?(n: string): string | undefined }) => void) => events.on(e, fn),
  });
  const res = new FakeRes();
  let i = 0;
  const next = (err?: unknown): void => {
    if (err) throw err;
    steps[i++]?.(req, res, next);
  };
  next();
  const cancel = (headers: Record<string, string>) => events.emit('cancel', { get: (n: string) => headers[n] });
  const cdrs = () => d.lines.filter((l) => l.msg === 'cdr').map((l) => l.cdr as Record<string, unknown>);
  return { ...d, stats, srf, res, cancel, cdrs };
}

/** A trunk's failure with headers on its response (what drachtio-srf's SipError carries as `res`). */
export function failure(status: number, headers: Record<string, string> = {}): Error {
  const lower = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
  return Object.assign(sipError(status), { res: { status, get: (n: string) => lower[n.toLowerCase()] } });
}

export const resolvedTo = (...addresses: string[]): (() => Promise<ResolveResult>) => async () => ({
  ok: true, targets: addresses.map((address) => ({ address, port: 5060, transport: 'udp' as const, domain: 'itsp.example' })),
});
