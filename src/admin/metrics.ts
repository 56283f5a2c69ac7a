import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import type { B2buaStatsSnapshot } from '../b2bua/start-b2bua.js';
import type { EngineSnapshot } from '../engine/engine-snapshot.js';
import type { CertificateRow } from '../certificate-inventory.js';
import type { CdrSinkStats } from '../cdr/index.js';
import type { OrphanStats } from '../media/index.js';
import type { AdminActionCounts } from './admin-actions.js';
import type { AdminRefusalCounts } from './admin-refusals.js';

/** What one scrape reads: taken once, then every metric is set from it. */

/** Core stats that are levels (table sizes), not counts of events. */
const CORE_LEVELS = new Set(['dialogs', 'serverPending', 'clientPending', 'invitesPending', 'invitesUnanswered', 'proxiedDialogs', 'nameLookupsInFlight']);

export interface MetricsInput {
  /** Absent when the gateway runs against drachtio-server: the engine's metrics are then left out. */
  engine?: EngineSnapshot;
  b2bua: B2buaStatsSnapshot;
  /** Every configured certificate, trust-store CAs included. */
  certificates?: readonly CertificateRow[];
  /** The CDR sinks, when CDRs are written. */
  cdr?: CdrSinkStats;
  /** The admin API's actions (clear call, clear connection) by result. */
  admin?: AdminActionCounts;
  /** Who the admin API turned away, by cause. */
  adminRefused?: AdminRefusalCounts;
  /** The configuration API's writes by operation and outcome. */
  configWrites?: Record<string, Record<string, number>>;
  configReloads?: Record<string, Record<string, number>>;
  tlsReloads?: Record<string, Record<string, number>>;
}

type Labels = Record<string, string>;

/**
 * The Prometheus metrics of the gateway, in a registry of their own (never the global one). The counters
 * live in the engine and the b2bua; each scrape copies them in, so the values here are always theirs.
 */
export class GatewayMetrics {
  readonly registry = new Registry();
  #input: MetricsInput | undefined;
  #queue: Promise<unknown> = Promise.resolve();

  constructor(opts: { processMetrics?: boolean } = {}) {
    const reg = this.registry;
    const input = () => this.#input;
    // What a metric reads: those reading the engine are skipped when there is none (engine mode external).
    type Read = (i: MetricsInput & { engine: EngineSnapshot }) => [Labels, number][];
    const rows = (read: Read, i: MetricsInput | undefined): [Labels, number][] => {
      if (!i) return [];
      if (i.engine) return read(i as MetricsInput & { engine: EngineSnapshot });
      try {
        return read(i as MetricsInput & { engine: EngineSnapshot });
      } catch (e) {
        if (e instanceof TypeError) return [];
        throw e;
      }
    };
    // A counter whose value is read from a snapshot at scrape time.
    const counter = (name: string, help: string, labelNames: string[], read: Read) =>
      new Counter({
        name, help, labelNames, registers: [reg],
        collect() {
          this.reset();
          for (const [l, v] of rows(read, input())) this.inc(l, v);
        },
      });
    const gauge = (name: string, help: string, labelNames: string[], read: Read) =>
      new Gauge({
        name, help, labelNames, registers: [reg],
        collect() {
          this.reset();
          for (const [l, v] of rows(read, input())) this.set(l, v);
        },
      });

    counter('trunkgate_calls_attempted_total', 'INVITEs that reached the call policy (each also counted once as connected or failed)', [], (i) => [[{}, i.b2bua.attempted]]);
    counter('trunkgate_calls_connected_total', 'Calls where both legs answered', [], (i) => [[{}, i.b2bua.connected]]);
    counter('trunkgate_calls_completed_total', 'Calls ended with both legs released', [], (i) => [[{}, i.b2bua.completed]]);
    counter('trunkgate_calls_failed_total',
      'Failed calls by the final status sent to the caller (0: none) and stage: policy (refused before any B leg) or bridge; each call once',
      ['status', 'stage'], (i) => {
        const p = i.b2bua.policy;
        const policy: [string, number][] = !p ? [] : [
          ['403', Object.values(p.deniedByCategory).reduce((a, n) => a + n, 0) + p.unknownPeerRejected + p.noTenant],
          ['404', p.noRoute], ['483', p.tooManyHops], ['484', p.badNumber ?? 0],
        ];
        // A policy refusal is in the b2bua's failures by status too (so attempted = connected + failed there): the
        // bridge rows are those failures less the policy's.
        const bridge = new Map(Object.entries(i.b2bua.failed));
        for (const [status, n] of policy) if (bridge.has(status)) bridge.set(status, Math.max(0, bridge.get(status)! - n));
        return [
          ...[...bridge].filter(([, n]) => n > 0).map(([status, n]): [Labels, number] => [{ status, stage: 'bridge' }, n]),
          ...policy.map(([status, n]): [Labels, number] => [{ status, stage: 'policy' }, n]),
        ];
      });
    gauge('trunkgate_calls_active', 'Calls set up and not yet ended', [], (i) => [[{}, i.b2bua.active]]);
    counter('trunkgate_calls_denied_total', 'Calls refused 403 by a permission category', ['category'],
      (i) => Object.entries(i.b2bua.policy?.deniedByCategory ?? {}).map(([category, n]) => [{ category }, n]));
    counter('trunkgate_calls_no_route_total', 'Calls refused 404: no dial peer matched', [], (i) => [[{}, i.b2bua.policy?.noRoute ?? 0]]);
    counter('trunkgate_calls_failovers_total', 'B-leg attempts moved on to the next target', [], (i) => [[{}, i.b2bua.policy?.failovers ?? 0]]);
    counter('trunkgate_calls_b_leg_auth_failed_total', 'B-leg attempts whose trunk answered 401/407 to the gateway\'s credentials (or to a tenant without any): the next target tried, 503 to the caller when none is left', [],
      (i) => [[{}, i.b2bua.policy?.bLegAuthFailed ?? 0]]);
    counter('trunkgate_calls_limit_refused_total', 'Calls refused 503 at a maxCalls: scope tenant (the calling tenant\'s) or target (every target passed over)',
      ['scope'], (i) => (i.b2bua.policy ? [[{ scope: 'tenant' }, i.b2bua.policy.refusedAtTenantLimit], [{ scope: 'target' }, i.b2bua.policy.refusedAtTargetLimit]] : []));
    counter('trunkgate_calls_limit_skipped_total', 'Targets passed over because their dial peer or tenant held its maxCalls', [],
      (i) => [[{}, i.b2bua.policy?.skippedAtLimit ?? 0]]);
    counter('trunkgate_calls_rate_refused_total', 'Calls refused 503 over a maxCallsPerSecond: scope tenant (the calling tenant\'s) or target (every target passed over, the first for its rate)',
      ['scope'], (i) => (i.b2bua.policy ? [[{ scope: 'tenant' }, i.b2bua.policy.refusedOverTenantRate], [{ scope: 'target' }, i.b2bua.policy.refusedOverTargetRate]] : []));
    counter('trunkgate_calls_rate_skipped_total', 'Targets passed over because their dial peer was over its maxCallsPerSecond', [],
      (i) => [[{}, i.b2bua.policy?.skippedOverRate ?? 0]]);
    counter('trunkgate_outbound_dns_total',
      'What gateway.outbound kept DNS answers from, by event: resolvedRefused (an address refused as loopback, unspecified, link-local, multicast, broadcast or the gateway\'s own), srvRecordsCapped and addressesCapped (records and addresses past maxSrvRecords, maxAddressesPerName), targetsCapped (targets past maxTargetsPerCall), resolveDeadline (a call\'s lookups cut by resolveTimeoutMs); and by sender: call, ping (OPTIONS to a trunk), register (a registration trunk)',
      ['event', 'sender'], (i) => {
        const p = i.b2bua.policy;
        const o: Record<string, number> = p ? { resolvedRefused: 0, srvRecordsCapped: 0, addressesCapped: 0, targetsCapped: 0, resolveDeadline: 0, ...p.outbound } : {};
        const regs = i.b2bua.registrations;
        return [
          ...Object.entries(o).map(([event, n]): [Labels, number] => [{ event, sender: 'call' }, n]),
          ...(i.b2bua.trunks ? [[{ event: 'resolvedRefused', sender: 'ping' }, i.b2bua.trunks.resolvedRefused ?? 0] as [Labels, number]] : []),
          ...(regs ? [[{ event: 'resolvedRefused', sender: 'register' }, regs.reduce((a, r) => a + (r.resolvedRefused ?? 0), 0)] as [Labels, number]] : []),
        ];
      });
    // One row per tenant and dial peer that has a maxCalls (or a maxCallsPerSecond): one field of its row.
    type Rows<R> = { tenants: Record<string, R>; dialPeers: Record<string, R> } | undefined;
    const scopeRows = <R>(l: Rows<R>, value: (r: R) => number): [Labels, number][] => (!l ? [] : [
      ...Object.entries(l.tenants).map(([name, r]): [Labels, number] => [{ scope: 'tenant', name }, value(r)]),
      ...Object.entries(l.dialPeers).map(([name, r]): [Labels, number] => [{ scope: 'dialPeer', name }, value(r)]),
    ]);
    gauge('trunkgate_calls_limit_held', 'Calls held now on each tenant and dial peer that has a maxCalls', ['scope', 'name'],
      (i) => scopeRows(i.b2bua.policy?.callLimits, (r) => r.calls));
    gauge('trunkgate_calls_limit_max', 'The maxCalls of each tenant and dial peer that has one', ['scope', 'name'],
      (i) => scopeRows(i.b2bua.policy?.callLimits, (r) => r.max));
    gauge('trunkgate_calls_rate_tokens', 'Tokens the maxCallsPerSecond bucket of each tenant and dial peer holds now (the apps share it)', ['scope', 'name'],
      (i) => scopeRows(i.b2bua.policy?.callRates, (r) => r.tokens));
    gauge('trunkgate_calls_rate_per_second', 'The maxCallsPerSecond of each tenant and dial peer that has one', ['scope', 'name'],
      (i) => scopeRows(i.b2bua.policy?.callRates, (r) => r.perSecond));
    counter('trunkgate_cdr_records_total', 'CDRs written, by sink (file, postgres: rows the database took)', ['sink'], (i) => [
      ...(i.cdr?.file ? [[{ sink: 'file' }, i.cdr.file.written] as [Labels, number]] : []),
      ...(i.cdr?.postgres ? [[{ sink: 'postgres' }, i.cdr.postgres.inserted] as [Labels, number]] : []),
    ]);
    counter('trunkgate_cdr_lost_total', 'CDRs a sink could not keep (file not writable; database and its queue both refused)', ['sink'], (i) => [
      ...(i.cdr?.file ? [[{ sink: 'file' }, i.cdr.file.lost] as [Labels, number]] : []),
      ...(i.cdr?.postgres ? [[{ sink: 'postgres' }, i.cdr.postgres.lost + i.cdr.postgres.queueFull] as [Labels, number]] : []),
    ]);
    gauge('trunkgate_cdr_queue_bytes', 'CDRs waiting on disk for the database', [], (i) => (i.cdr?.postgres ? [[{}, i.cdr.postgres.queue.bytes]] : []));
    gauge('trunkgate_cdr_database_up', '1 while the CDR database connection is up', [], (i) => (i.cdr?.postgres ? [[{}, i.cdr.postgres.connected ? 1 : 0]] : []));

    counter('trunkgate_tls_handshake_failures_total', 'TLS handshake failures by tenant, direction (client/server) and reason code',
      ['tenant', 'direction', 'reason'], (i) => i.engine.tls.failures.map((f) => [{ tenant: f.tenant, direction: f.direction, reason: f.reason }, f.count]));
    gauge('trunkgate_tls_certificate_expiry_timestamp_seconds', 'notAfter of the certificate a TLS profile presents',
      ['profile', 'kind'], (i) => i.engine.tls.profiles.flatMap((p) => [
        [{ profile: p.name, kind: 'server' }, Date.parse(p.certificate.notAfter) / 1000] as [Labels, number],
        ...(p.clientCertificate ? [[{ profile: p.name, kind: 'client' }, Date.parse(p.clientCertificate.notAfter) / 1000] as [Labels, number]] : []),
      ]));
    gauge('trunkgate_certificate_expiry_timestamp_seconds',
      'notAfter of every configured certificate: trustpoints (leaf, chain) and trust-store CAs; and nextUpdate of every TLS profile CRL (role crl)', ['where', 'role', 'subject', 'sha256'],
      (i) => (i.certificates ?? []).map((c) => [{ where: c.where, role: c.role, subject: c.subject, sha256: c.sha256 }, Date.parse(c.notAfter) / 1000]));
    gauge('trunkgate_connections_open', 'Open TCP and TLS connections by protocol and direction', ['protocol', 'direction'], (i) => {
      const n = new Map<string, number>();
      for (const protocol of ['tcp', 'tls']) for (const direction of ['inbound', 'outbound']) n.set(`${protocol} ${direction}`, 0);
      for (const c of i.engine.connections) if (c.state === 'open') n.set(`${c.protocol} ${c.direction}`, (n.get(`${c.protocol} ${c.direction}`) ?? 0) + 1);
      return [...n].map(([k, v]) => {
        const [protocol = '', direction = ''] = k.split(' ');
        return [{ protocol, direction }, v];
      });
    });
    counter('trunkgate_sip_messages_received_total', 'SIP messages received', [], (i) => [[{}, i.engine.transport.messagesIn]]);
    counter('trunkgate_sip_messages_sent_total', 'SIP messages sent', [], (i) => [[{}, i.engine.transport.messagesOut]]);
    counter('trunkgate_sip_dropped_total', 'Input refused by the transport, by stable code', ['code'],
      (i) => Object.entries(i.engine.transport.drops).map(([code, n]) => [{ code }, n]));
    counter('trunkgate_untrusted_requests_total', 'New requests refused because no tenant trusts their source, by listener, cause and action',
      ['listener', 'cause'], (i) => Object.entries(i.engine.trust?.byListener ?? {}).map(([k, n]) => {
        const [listener = '', cause = ''] = k.split(' ');
        return [{ listener, cause }, n];
      }));
    counter('trunkgate_rate_limited_requests_total', 'New requests refused because their source was over its request rate, by action (reject: 503, drop)',
      ['action'], (i) => (i.engine.rate ? [[{ action: 'reject' }, i.engine.rate.rejected], [{ action: 'drop' }, i.engine.rate.dropped]] : []));
    counter('trunkgate_overload_shed_total', 'New INVITEs shed by overload control, by action (reject: 503, drop)',
      ['action'], (i) => (i.engine.overload ? [[{ action: 'reject' }, i.engine.overload.rejected], [{ action: 'drop' }, i.engine.overload.dropped]] : []));
    gauge('trunkgate_overload_shedding', 'Overload control sheds new INVITEs now: 1 yes, 0 no', [],
      (i) => (i.engine.overload ? [[{}, i.engine.overload.shedding ? 1 : 0]] : []));
    gauge('trunkgate_engine_event_loop_delay_seconds', 'The engine thread\'s event-loop delay, the worst in the last 100 ms', [],
      (i) => (i.engine.overload ? [[{}, i.engine.overload.eventLoopDelayMs / 1000]] : []));
    gauge('trunkgate_engine_event_loop_utilization', 'The engine thread\'s busy share of the last 100 ms (0-1)', [],
      (i) => (i.engine.overload ? [[{}, i.engine.overload.utilization]] : []));
    gauge('trunkgate_udp_receive_queue_bytes', 'Bytes waiting in the kernel for the UDP listeners to read (Linux)', [],
      (i) => (i.engine.overload ? [[{}, i.engine.overload.receiveQueueBytes]] : []));
    counter('trunkgate_udp_receive_drops_total', 'Datagrams the kernel dropped at the UDP listeners because their receive buffer was full (Linux)', [],
      (i) => (i.engine.overload ? [[{}, i.engine.overload.udpReceiveDrops]] : []));
    gauge('trunkgate_engine_stage_p50_seconds', 'Median time of each stage of the engine thread since start (parse, ingress, app, egress, trying)',
      ['stage'], (i) => Object.entries(i.engine.stages?.stages ?? {}).map(([stage, s]) => [{ stage }, s.p50Ms / 1000] as [Labels, number]));
    gauge('trunkgate_engine_stage_p99_seconds', '99th percentile time of each stage of the engine thread since start',
      ['stage'], (i) => Object.entries(i.engine.stages?.stages ?? {}).map(([stage, s]) => [{ stage }, s.p99Ms / 1000] as [Labels, number]));
    counter('trunkgate_engine_gc_seconds_total', 'Garbage collection on the engine thread, by kind (minor: scavenges; major: the rest)', ['kind'],
      (i) => (i.engine.thread ? [[{ kind: 'minor' }, i.engine.thread.gc.minorMs / 1000], [{ kind: 'major' }, i.engine.thread.gc.majorMs / 1000]] : []));
    counter('trunkgate_engine_busy_seconds_total', 'Time the engine thread\'s event loop spent in callbacks', [],
      (i) => (i.engine.thread ? [[{}, i.engine.thread.busyMs / 1000]] : []));
    gauge('trunkgate_overload_admit_share', 'The share of new INVITEs overload control admits now (1: all)', [],
      (i) => (i.engine.overload ? [[{}, i.engine.overload.admitShare]] : []));
    counter('trunkgate_engine_events_total', 'SIP core counters (refusals, limits hit, app answers missed), by name', ['event'],
      (i) => Object.entries(i.engine.core ?? {}).filter(([k]) => !CORE_LEVELS.has(k)).map(([event, n]) => [{ event }, n]));
    counter('trunkgate_refusal_cdrs_total', 'New INVITEs the engine refused before any app saw them, by outcome: written (a CDR), dropped (past gateway.limits.refusalCdrsPerSecond: no CDR)',
      ['outcome'], (i) => (i.engine.refusalRecords ? [[{ outcome: 'written' }, i.engine.refusalRecords.written], [{ outcome: 'dropped' }, i.engine.refusalRecords.dropped]] : []));
    // Its sibling for the calls the b2bua apps refused before any B leg (call rate, call limit, no route, …): the same
    // setting bounds both, and a family of its own keeps the engine's series and what selects them as they were.
    counter('trunkgate_b2bua_refusal_cdrs_total', 'Calls the b2bua refused before any B leg was tried, by outcome: written (a CDR), dropped (past gateway.limits.refusalCdrsPerSecond, each app a share: no CDR, no cdr line)',
      ['outcome'], (i) => (i.b2bua.refusalCdrs ? [[{ outcome: 'written' }, i.b2bua.refusalCdrs.written], [{ outcome: 'dropped' }, i.b2bua.refusalCdrs.dropped]] : []));
    // The app workers' supervision (src/b2bua/workers/app-pool.ts), with gateway.workers above 1.
    counter('trunkgate_app_worker_restarts_total', 'App workers started again after one stopped (gateway.workers)', [],
      (i) => (i.b2bua.appWorkerRestarts !== undefined ? [[{}, i.b2bua.appWorkerRestarts]] : []));
    counter('trunkgate_app_workers_unresponsive_total', 'App workers silent while connected past their bound, ended and started again', [],
      (i) => (i.b2bua.appWorkersUnresponsive !== undefined ? [[{}, i.b2bua.appWorkersUnresponsive]] : []));
    gauge('trunkgate_app_workers_down', 'App workers with none connected in their place now (stopped, or waiting out their restart backoff)', [],
      (i) => (i.b2bua.appWorkersDown !== undefined ? [[{}, i.b2bua.appWorkersDown]] : []));
    counter('trunkgate_control_events_total', 'The control port: apps authenticated (appConnects) and gone (appDisconnects), apps and connections refused, socket and listener errors, send buffers overflowed, by name', ['event'],
      (i) => Object.entries(i.engine.control ?? {}).filter(([k]) => k !== 'appsConnected').map(([event, n]) => [{ event }, n]));
    gauge('trunkgate_engine_table_size', 'Entries in the SIP core\'s tables (dialogs, pending transactions)', ['table'],
      (i) => Object.entries(i.engine.core ?? {}).filter(([k]) => CORE_LEVELS.has(k)).map(([table, n]) => [{ table }, n]));
    gauge('trunkgate_trunk_up', 'OPTIONS ping state of a trunk target: 1 up, 0 down or not yet known', ['tenant', 'server'],
      (i) => (i.b2bua.trunks?.trunks ?? []).map((t) => [{ tenant: t.tenant, server: t.server }, t.state === 'up' ? 1 : 0]));
    gauge('trunkgate_trunk_state', 'OPTIONS ping state of a trunk target, one series per state (1 for the current one)', ['tenant', 'server', 'state'],
      (i) => (i.b2bua.trunks?.trunks ?? []).flatMap((t) => (['unknown', 'up', 'down'] as const)
        .map((state) => [{ tenant: t.tenant, server: t.server, state }, t.state === state ? 1 : 0] as [Labels, number])));
    gauge('trunkgate_registration_up', 'A registration trunk\'s binding at its registrar: 1 registered, 0 not (yet)', ['tenant', 'registrar'],
      (i) => (i.b2bua.registrations ?? []).map((r) => [{ tenant: r.tenant, registrar: r.registrar }, r.state === 'registered' ? 1 : 0]));
    counter('trunkgate_registration_interval_too_brief_total', 'A registration trunk\'s REGISTERs its registrar answered 423 Interval Too Brief', ['tenant', 'registrar'],
      (i) => (i.b2bua.registrations ?? []).map((r) => [{ tenant: r.tenant, registrar: r.registrar }, r.intervalTooBrief]));
    counter('trunkgate_register_relay_refused_total',
      'Requests the registration relay refused, by cause: no-relay (REGISTER on a tenant without registerRelay, 403), full (503), token (forged or expired flow token, 403), source (403), flow-failed (a token whose flow has no live binding, 430), no-binding (MESSAGE or NOTIFY to no relayed binding, 404), not-sent (the engine could not send it on)',
      ['cause'], (i) => {
        const r = i.b2bua.registerRelay;
        return r ? ([['no-relay', r.refusedNoRelay], ['full', r.refusedFull], ['token', r.refusedToken], ['source', r.refusedSource], ['flow-failed', r.refusedFlowFailed], ['no-binding', r.refusedNoBinding], ['not-sent', r.notSent ?? 0]] as const)
          .map(([cause, n]) => [{ cause }, n] as [Labels, number]) : [];
      });
    counter('trunkgate_digest_challenges_refused_total',
      'Digest challenges a tenant\'s credentials were not given to, by cause: realm (another realm than the configured one), challenge (not well formed, a parameter repeated, or read otherwise by drachtio-srf), unsupported (not Digest MD5 with qop auth or none)',
      ['cause'], (i) => Object.entries(i.b2bua.digestRefused ?? {}).map(([cause, n]) => [{ cause }, n]));
    counter('trunkgate_failover_events_total',
      'B-leg failover events, by kind: held (a target held off after a 503 with Retry-After), skipped (a held-off target passed over), capped (a Retry-After past 300 s cut to it), full (the hold-off table at its bound), earlyMediaFinal (a failure not failed over because early media reached the caller)',
      ['kind'], (i) => Object.entries(i.b2bua.failover ?? {}).map(([kind, n]) => [{ kind }, n]));
    counter('trunkgate_calls_in_dialog_refused_total', 'In-dialog requests of connected calls the gateway refused itself (488 no SRTP suite, 503 media relay, 500 not sent), by status',
      ['status'], (i) => Object.entries(i.b2bua.inDialogRefused ?? {}).map(([status, n]) => [{ status }, n]));
    counter('trunkgate_admin_actions_total', 'What was asked of the admin API (clear-call, clear-connection), by result (done, not-found, conflict)',
      ['action', 'result'], (i) => Object.entries(i.admin ?? {}).flatMap(([action, byResult]) =>
        Object.entries(byResult).map(([result, n]) => [{ action, result }, n] as [Labels, number])));
    counter('trunkgate_admin_refused_total', 'Admin API refusals, by cause: unauthorized (401), origin (403: no token configured, a Host not loopback or an Origin of another site), connection-limit and source-limit (closed at accept), cdr-scan-busy, pki-busy and tls-probe-busy (429, one CDR scan, PKI task that writes, TLS probe at a time), body-too-large (413), bad-request (400, refused before any handler)',
      ['cause'], (i) => Object.entries(i.adminRefused ?? {}).map(([cause, n]) => [{ cause }, n]));
    counter('trunkgate_media_requests_total', 'rtpengine ng requests of the b2bua apps, by command', ['command'],
      (i) => Object.entries(i.b2bua.media?.requests ?? {}).map(([command, n]) => [{ command }, n]));
    counter('trunkgate_media_failures_total', 'rtpengine ng requests that failed, by kind (timeout, refused, unavailable, send, tooLarge)', ['kind'],
      (i) => Object.entries(i.b2bua.media?.failures ?? {}).map(([kind, n]) => [{ kind }, n]));
    gauge('trunkgate_media_sessions_open', 'Calls anchored on rtpengine now', [], (i) => (i.b2bua.media ? [[{}, i.b2bua.media.sessionsOpen]] : []));
    // The deletes of sessions a failover or an unanswered delete may have left on an rtpengine are kept out of the
    // failures, so without these a dead instance's leftovers, and those dropped at maxOrphans, would go unseen here.
    const orphans = (i: MetricsInput, read: (o: OrphanStats) => [Labels, number][]) => (i.b2bua.media?.orphans ? read(i.b2bua.media.orphans) : []);
    counter('trunkgate_media_orphans_total', 'rtpengine sessions possibly left on an instance with no call on them (an offer that timed out and failed over, an unanswered delete), by event: noted, deleted (the instance deleted it or has none), dropped (past maxOrphans: left to rtpengine\'s own timeout)',
      ['event'], (i) => orphans(i, (o) => [[{ event: 'noted' }, o.noted], [{ event: 'deleted' }, o.deleted], [{ event: 'dropped' }, o.dropped]]));
    counter('trunkgate_media_orphan_deletes_total', 'Deletes sent for those sessions: at once, and again each time their instance answers pings after missing one', [],
      (i) => orphans(i, (o) => [[{}, o.deletesSent]]));
    gauge('trunkgate_media_orphans_pending', 'Those sessions whose delete waits now for its instance to answer', [], (i) => orphans(i, (o) => [[{}, o.pending]]));
    counter('trunkgate_config_reloads_total', 'Configuration reloads, by trigger (signal, api, ...) and outcome (applied, or the code of the first problem it was refused for)',
      ['trigger', 'outcome'], (i) => Object.entries(i.configReloads ?? {}).flatMap(([trigger, byOutcome]) =>
        Object.entries(byOutcome).map(([outcome, n]) => [{ trigger, outcome }, n] as [Labels, number])));
    counter('trunkgate_tls_reloads_total', 'TLS profile reloads, by trigger (file, api, signal, ...) and outcome (applied, or the code of the first problem it was refused for)',
      ['trigger', 'outcome'], (i) => Object.entries(i.tlsReloads ?? {}).flatMap(([trigger, byOutcome]) =>
        Object.entries(byOutcome).map(([outcome, n]) => [{ trigger, outcome }, n] as [Labels, number])));
    counter('trunkgate_config_writes_total', 'Configuration API writes, by operation (create, replace, delete) and outcome (done, or the code it was refused with)',
      ['operation', 'outcome'], (i) => Object.entries(i.configWrites ?? {}).flatMap(([operation, byOutcome]) =>
        Object.entries(byOutcome).map(([outcome, n]) => [{ operation, outcome }, n] as [Labels, number])));
    // The event-loop lag histogram samples every 50 ms, not prom-client's default 10: at 10 it woke an idle main
    // thread 100 times a second, about 0.5% of a core for nothing (the engine's own sampler slows down when idle).
    if (opts.processMetrics ?? true) collectDefaultMetrics({ register: reg, prefix: 'trunkgate_', eventLoopMonitoringPrecision: 50 });
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /** The Prometheus text exposition of this input. */
  render(input: MetricsInput): Promise<string> {
    // One scrape at a time: the collectors read the input of the scrape in progress.
    const run = this.#queue.then(async () => {
      this.#input = input;
      try {
        return await this.registry.metrics();
      } finally {
        this.#input = undefined;
      }
    });
    this.#queue = run.catch(() => undefined);
    return run;
  }
}
