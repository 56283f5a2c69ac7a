import { systemClock, type Clock, type TimerHandle } from './common/index.js';
import type { GatewayConfig } from './config/index.js';
import type { Logger } from './log/index.js';
import { listCertificates, type CertificateRow } from './certificate-inventory.js';

export interface CertificateExpiryOptions {
  log: Logger;
  /** The running configuration, read at every check (a reload changes what is checked). */
  config: () => GatewayConfig;
  clock?: Clock;
  /** Days before notAfter at which a warning is logged, once each per certificate. Default 30, 7, 1. */
  thresholds?: readonly number[];
  /** How often the files are read again. Default six hours. */
  everyMs?: number;
}

/**
 * Every certificate the configuration names (trustpoints' leaves and chains, trust stores' CAs) and every TLS
 * profile's CRL (its nextUpdate, src/certificate-inventory.ts) checked for expiry
 * at start and every few hours: one WARN_CERT_EXPIRING line per certificate as it crosses 30, 7 and 1 days left,
 * one ERR_PKI_CERT_EXPIRED line once it has expired. `rows()` feeds the metrics.
 */
export class CertificateExpiryWatch {
  readonly #o: CertificateExpiryOptions;
  readonly #clock: Clock;
  readonly #thresholds: number[];
  /** What was said per certificate: `<sha256> <threshold>`; bounded by the certificates configured. */
  readonly #said = new Set<string>();
  #rows: CertificateRow[] = [];
  #timer: TimerHandle | undefined;
  #closed = false;

  constructor(o: CertificateExpiryOptions) {
    this.#o = o;
    this.#clock = o.clock ?? systemClock;
    this.#thresholds = [...(o.thresholds ?? [30, 7, 1])].sort((a, b) => a - b);
  }

  start(): void {
    this.check();
    const tick = (): void => {
      if (this.#closed) return;
      this.check();
      this.#timer = this.#clock.setTimeout(tick, this.#o.everyMs ?? 6 * 3_600_000);
    };
    this.#timer = this.#clock.setTimeout(tick, this.#o.everyMs ?? 6 * 3_600_000);
  }

  close(): void {
    this.#closed = true;
    this.#timer?.cancel();
  }

  rows(): readonly CertificateRow[] {
    return this.#rows;
  }

  check(): void {
    const { rows, problems } = listCertificates(this.#o.config(), new Date(this.#clock.now()));
    this.#rows = rows;
    for (const p of problems) this.#once(`problem ${p}`, () => this.#o.log.warn({ code: 'ERR_PKI_IO' }, `certificates: ${p}`));
    const live = new Set<string>();
    for (const r of rows) {
      live.add(r.sha256);
      const what = `${r.where} (${r.role}) ${r.subject}`;
      const fields = { where: r.where, role: r.role, subject: r.subject, sha256: r.sha256, notAfter: r.notAfter, daysLeft: r.daysLeft };
      // A CRL's notAfter is its nextUpdate: past it, OpenSSL fails every handshake the CRL applies to (CRL_HAS_EXPIRED).
      const crl = r.role === 'crl';
      if (r.daysLeft < 0) {
        this.#once(`${r.sha256} expired`, () => this.#o.log.error({ code: crl ? 'ERR_TLS_CRL_INVALID' : 'ERR_PKI_CERT_EXPIRED', ...fields },
          crl ? `CRL past its nextUpdate, handshakes it applies to fail: ${what}, on ${r.notAfter}` : `certificate expired: ${what}, on ${r.notAfter}`));
        continue;
      }
      const t = this.#thresholds.find((x) => r.daysLeft <= x);
      if (t === undefined) continue;
      this.#once(`${r.sha256} ${t}`, () => this.#o.log.warn({ code: 'WARN_CERT_EXPIRING', threshold: t, ...fields },
        `${crl ? 'CRL nextUpdate' : 'certificate expires'} in ${r.daysLeft} day${r.daysLeft === 1 ? '' : 's'}: ${what}, on ${r.notAfter}`));
    }
    // What no longer applies (a certificate no longer configured, a problem fixed) is forgotten, so the memory of
    // what was said stays bounded by what the configuration names.
    const now = new Set(problems.map((p) => `problem ${p}`));
    for (const k of this.#said) {
      if (k.startsWith('problem ') ? !now.has(k) : !live.has(k.slice(0, k.indexOf(' ')))) this.#said.delete(k);
    }
  }

  #once(key: string, say: () => void): void {
    if (this.#said.has(key)) return;
    this.#said.add(key);
    say();
  }
}
