import { getHeapStatistics } from 'node:v8';
import type { FailedListener } from '../sip/transport/index.js';
import type { SourceTrustStats } from './source-trust.js';
import type { SourceRateStats } from './source-rate.js';
import type { OverloadStats } from './overload.js';
import type { RefusalRecordStats } from './refusal-records.js';
import type { StageSummary } from './core/stage-times.js';
import type { ThreadLoadSnapshot } from '../common/thread-load.js';
import type { TransactionStats } from '../sip/transaction/index.js';
import type { ConnectionInfo, TransportStats } from '../sip/transport/index.js';
import type { CompiledTlsProfile, TlsFailureCount } from '../tls/index.js';
import type { Engine } from './engine.js';

/** A certificate as the admin API shows it: dates as ISO text, so it survives JSON and a thread hop alike. */
export interface CertificateSummary {
  subject: string;
  commonName?: string;
  issuer: string;
  san: string[];
  notBefore: string;
  notAfter: string;
  keyType: string;
  keySize: number;
  fingerprint256: string;
  serialNumber: string;
}

/** A loaded TLS profile: its versions, cipher list and the certificates it presents. */
export interface TlsProfileSummary {
  name: string;
  tenant?: string;
  minVersion: string;
  maxVersion: string;
  requestCert: boolean;
  cnSanValidate: string;
  sni: string;
  /** Names an SNI picks this profile by. */
  serverNames: string[];
  /** Configured cipher names, as written (absent: OpenSSL's defaults). */
  ciphers?: string[];
  certificate: CertificateSummary;
  /** The certificate of outbound connections, when the profile has a client trustpoint of its own. */
  clientCertificate?: CertificateSummary;
}

/** What the engine reports to the admin API. Plain data: it crosses from the engine worker by postMessage. */
export interface EngineSnapshot {
  connections: ConnectionInfo[];
  tls: {
    /** Profile-set generation: 1 after start, +1 per accepted reload; 0 without profiles. */
    version: number;
    profiles: TlsProfileSummary[];
    /** Handshake failures per tenant, direction and reason code. */
    failures: TlsFailureCount[];
  };
  transport: TransportStats;
  transactions: TransactionStats;
  core?: Record<string, number>;
  /** Tenant listeners that could not bind at start (the gateway runs without them). */
  listenersDown: FailedListener[];
  /** The trusted-source check: admitted, rejected (403), dropped, and refusals per `<listener> <cause>`. */
  trust?: SourceTrustStats;
  /** The per-source request rate: admitted, rejected (503), dropped, sources with a bucket, buckets evicted. */
  rate: SourceRateStats;
  /** Overload control: shedding now, episodes, new INVITEs shed (503 or dropped) by cause, and its two signals. */
  overload: OverloadStats;
  /** CDRs of new INVITEs the engine refused itself: the rate allowed, records written, refusals past the rate (no CDR). */
  refusalRecords: RefusalRecordStats;
  /** Per-stage timings of the engine thread (histograms with their buckets). */
  stages: StageSummary;
  /** The engine thread's event-loop busy and idle time and its garbage collection, since start. */
  thread: ThreadLoadSnapshot;
  /** drachtio apps connected over the control protocol. */
  apps: number;
  /** The control port: apps connected now, authenticated (appConnects) and gone (appDisconnects), apps and connections refused, connections not yet authenticated closed for a newer one (controlUnauthenticatedEvicted), socket and listener errors, send buffers overflowed. */
  control: Record<string, number>;
  /** The V8 heap of the thread the engine runs in (its worker by default), in bytes. */
  heap: { total: number; used: number; external: number };
}

function certificateSummary(c: CompiledTlsProfile['certificate']): CertificateSummary {
  return {
    subject: c.subject, ...(c.commonName !== undefined ? { commonName: c.commonName } : {}), issuer: c.issuer, san: [...c.san],
    notBefore: c.notBefore.toISOString(), notAfter: c.notAfter.toISOString(), keyType: c.keyType, keySize: c.keySize,
    fingerprint256: c.fingerprint256, serialNumber: c.serialNumber,
  };
}

/** The connection table, TLS profiles and counters of a running engine, copied (never live objects). */
export function engineSnapshot(engine: Engine): EngineSnapshot {
  const store = engine.tls?.store;
  const profiles = (store?.all() ?? []).map((p): TlsProfileSummary => {
    const s = p.spec;
    const client = p.clientCertificate.fingerprint256 !== p.certificate.fingerprint256 ? { clientCertificate: certificateSummary(p.clientCertificate) } : {};
    return {
      name: p.name, ...(p.tenant !== undefined ? { tenant: p.tenant } : {}),
      minVersion: p.minVersion, maxVersion: p.maxVersion, requestCert: p.requestCert,
      cnSanValidate: s.cnSanValidate ?? 'server', sni: s.sni ?? 'send', serverNames: [...(s.serverNames ?? [])],
      ...(s.ciphers !== undefined ? { ciphers: [...s.ciphers] } : {}),
      certificate: certificateSummary(p.certificate), ...client,
    };
  });
  const core = (engine.core as { stats?: () => Record<string, number> }).stats?.();
  return {
    connections: engine.transport.connections(),
    tls: { version: store?.version ?? 0, profiles, failures: engine.transport.tlsStats().snapshot() },
    transport: engine.transport.stats(),
    transactions: engine.transactions.stats(),
    ...(core ? { core } : {}),
    ...(engine.trust ? { trust: engine.trust.stats() } : {}),
    rate: engine.rate.stats(),
    overload: engine.overload.stats(),
    refusalRecords: engine.refusalRecords.stats(),
    stages: engine.stages.summary(),
    thread: engine.threadLoad.snapshot(),
    listenersDown: engine.transport.failedListeners(),
    apps: engine.registry.size,
    control: engine.registry.counters(),
    heap: engineHeap(),
  };
}

function engineHeap(): EngineSnapshot['heap'] {
  const h = getHeapStatistics();
  return { total: h.total_heap_size, used: h.used_heap_size, external: h.external_memory };
}
