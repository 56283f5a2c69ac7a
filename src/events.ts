/**
 * The events an operator watches for: each log line that reports one carries its stable `code`, and this list
 * says what happened and what to do about it. `npm run codes -- --write` puts the table into the README. Events
 * that are failures keep their error code (src/error-codes.ts); the others are `EVT_` codes owned by the module
 * that logs them, plus the gateway process's own below.
 */
import type { AdminEventCode } from './admin/errors.js';
import type { B2buaEventCode } from './b2bua/errors.js';
import type { ConfigWriteEventCode } from './config/write/errors.js';
import type { EngineEventCode } from './engine/errors.js';
import type { ErrorCode } from './error-codes.js';

/** The gateway process's own events: ready, reload applied, stopping and stopped. */
export type GatewayEventCode = 'EVT_GATEWAY_READY' | 'EVT_LISTENER_UP' | 'EVT_RELOAD_APPLIED' | 'EVT_GATEWAY_STOPPING' | 'EVT_GATEWAY_STOPPED'
  | 'EVT_GATEWAY_ENGINE_CONNECTED';

export type EventCode = B2buaEventCode | GatewayEventCode | ConfigWriteEventCode | AdminEventCode | EngineEventCode;

export interface EventEntry {
  level: 'info' | 'warn' | 'error' | 'fatal';
  what: string;
  todo: string;
}

export const events: Record<EventCode, EventEntry> & Partial<Record<ErrorCode, EventEntry>> = {
  EVT_GATEWAY_READY: { level: 'info', what: 'The gateway started: the control endpoint, the number of dial peers and the profiles directory.', todo: 'Nothing. A supervisor may wait for this line.' },
  EVT_GATEWAY_ENGINE_CONNECTED: { level: 'info', what: 'engine mode external: the b2bua authenticated to drachtio-server (at start, and again after ERR_GATEWAY_ENGINE_LOST); counted (`/health` engine.engineConnects), logged once a minute, the rest summed up in one line at the minute\'s end.', todo: 'Nothing; calls flow again. A summary line, or engineConnects climbing with engineLosses, means a connection that keeps dropping: see ERR_GATEWAY_ENGINE_LOST.' },
  ERR_GATEWAY_ENGINE_UNREACHABLE: { level: 'error', what: 'engine mode external: drachtio-server is not reachable at start; the gateway waits for it before anything else starts.', todo: 'Start drachtio-server, or fix gateway.engine.host/port.' },
  ERR_GATEWAY_ENGINE_LOST: { level: 'error', what: 'engine mode external: the control connection to drachtio-server closed; calls are refused by the server until drachtio-srf reconnects. Counted (`/health` engine.engineLosses), logged once a minute, the rest summed up.', todo: 'Bring drachtio-server back; EVT_GATEWAY_ENGINE_CONNECTED follows.' },
  EVT_LISTENER_UP: { level: 'info', what: 'A SIP listener is open: transport, address, port and TLS profile.', todo: 'Nothing; compare with the listeners you configured.' },
  ERR_SIP_TRANSPORT_BIND: { level: 'error', what: "A listener could not bind (a tenant's own listener: `%SIP-3-LISTEN_SOCKET`, the others run without it; any other: the start fails).", todo: 'Free the port, then reload (`trunkgate reload`, SIGHUP): a tenant listener that failed at start is tried again with its address as started (a new address in gateway.yaml / the tenant takes a restart); `/health` is degraded until it binds.' },
  EVT_TRUNK_UP: { level: 'info', what: 'A trunk answers its OPTIONS pings again: its dial peers take calls.', todo: 'Nothing.' },
  EVT_TRUNK_DOWN: { level: 'warn', what: 'A trunk stopped answering its OPTIONS pings: its dial peers are skipped, calls fail over.', todo: 'Check the carrier or PBX at that address (reachability, TLS, its own logs); `trunkgate show trunks`.' },
  EVT_REGISTRATION_UP: { level: 'info', what: "A registration trunk's contact is bound at its registrar: where, and for how long.", todo: 'Nothing; calls to the contact now reach this tenant.' },
  EVT_REGISTRATION_DOWN: { level: 'warn', what: 'A registration trunk could not register or refresh (no answer, refused, wrong realm, credentials refused); it tries again with back-off and the next registrar address.', todo: 'Check the credentials (passwordEnv, realm), the registrar address and reachability; `trunkgate show trunks` shows the last status.' },
  ERR_B2BUA_REGISTER_RELAY_FULL: { level: 'warn', what: 'The table of registrations relayed with Path is full (registerRelay.maxBindings): phones on new connections cannot register.', todo: 'Raise registerRelay.maxBindings if the phones are real; otherwise a source is registering from many ports.' },
  EVT_REGISTRATION_RENEW: { level: 'info', what: "A registration trunk's registrar stopped answering its OPTIONS probes, or answered over a new connection (it restarted, or the TCP/TLS connection dropped): the trunk registers again at once.", todo: 'Nothing if EVT_REGISTRATION_UP or a refresh follows; otherwise see EVT_REGISTRATION_DOWN.' },
  EVT_TLS_PEER_UNMATCHED: { level: 'warn', what: "A TLS caller's certificate names matched no TLS peer; the tenant's default permissions applied.", todo: 'Add a TLS peer for that identity, or set the tenant to `unknownPeer: reject`.' },
  ERR_POLICY_UNKNOWN_PEER: { level: 'warn', what: 'A TLS caller matched no TLS peer and its tenant refuses unknown peers: 403.', todo: 'Add a TLS peer for the identity in the log line if the caller is legitimate.' },
  ERR_SIP_TRANSPORT_TLS_HANDSHAKE: { level: 'warn', what: 'A TLS handshake failed, with the reason (unknown CA, name mismatch, no shared cipher, version).', todo: "Compare the reason with the TLS profile: trust store, cnSan, ciphers, versions; `trunkgate tls probe` against the far end." },
  WARN_CERT_EXPIRING: { level: 'warn', what: 'A configured certificate is within 30, 7 or 1 days of its end.', todo: 'Enrol a new one (`trunkgate pki csr` / `pki import`) and reload with `trunkgate reload --tls`.' },
  ERR_PKI_CERT_EXPIRED: { level: 'error', what: 'A configured certificate has expired: handshakes that use it fail.', todo: 'Import a renewed certificate now and reload TLS.' },
  ERR_ENGINE_UNTRUSTED_SOURCE: { level: 'warn', what: 'New requests from an address no tenant trusts were refused (logged once a minute per source).', todo: "Nothing for scanners; for a real peer, add its address to the tenant's trustedSources." },
  ERR_ENGINE_SOURCE_RATE: { level: 'warn', what: 'A source sent new requests faster than its rate: 503 with Retry-After, or dropped.', todo: 'Raise gateway.limits.requestsPerSecondPerSource for a busy trusted peer; otherwise it is a flood being held off.' },
  ERR_ENGINE_OVERLOAD: { level: 'warn', what: 'The engine or its app fell behind; new INVITEs are shed with 503 and Retry-After.', todo: 'Calls in progress are kept. Look at `/stats` engine.overload and the CPU; add workers (`gateway.workers`) or capacity.' },
  ERR_ENGINE_REFUSAL_CDR_RATE: { level: 'warn', what: 'The engine refused more new INVITEs than gateway.limits.refusalCdrsPerSecond: each still got its answer and its counter, those past the rate no CDR (counted in `/stats` engine.refusalRecords.dropped).', todo: 'Nothing for a flood (the CDRs it would have cost are what the bound saves); for real traffic being refused, find why in the codes of the records written (cause `refused:<code>`), and raise the rate if every refused call must have its CDR.' },
  EVT_ENGINE_APP_CONNECTED: { level: 'info', what: 'A drachtio app authenticated on the control port: counted (`/stats` engine.control.appConnects), logged once a minute per app address, the rest summed up in one line at the minute\'s end.', todo: 'Nothing. Many of them (a summary line, appConnects climbing) mean an app that connects and drops in a loop: see ERR_ENGINE_APP_GONE.' },
  ERR_ENGINE_APP_GONE: { level: 'warn', what: "An app's control connection went away: counted (appDisconnects), one info line a minute per app address; a warn line when it held dialogs, which were ended, and pending requests, answered 503; a request it sent whose target's name was still being looked up is dropped when the lookup ends (appGoneRequestsDropped).", todo: 'The app is restarted by the gateway; if it repeats, look for ERR_B2BUA_WORKER and the stack before it.' },
  ERR_B2BUA_WORKER: { level: 'error', what: 'A b2bua app worker did not start, stopped, or was ended as unresponsive (nothing from it for 5 s); it is started again (5 times a minute, then after a backoff of 1 minute doubling to 10; `/health` degraded meanwhile). A worker that does not connect at start fails the start.', todo: 'Read the error before this line; a worker that keeps dying or hanging is a bug to report with that log.' },
  ERR_CDR_DB: { level: 'error', what: 'The CDR database is unreachable or broke: records wait in the on-disk queue.', todo: 'Bring the database back; the queue is replayed in order, nothing is lost unless ERR_CDR_QUEUE_FULL follows.' },
  ERR_CDR_QUEUE_FULL: { level: 'error', what: "The CDR database's on-disk queue is full: later records are only in the JSON-lines file and the log.", todo: 'Restore the database, then load the missing records from the JSON-lines file.' },
  EVT_ADMIN_CALL_CLEARED: { level: 'info', what: 'An administrator hung up a live call (`trunkgate clear call`, DELETE /calls/:id): BYE on both legs (a call still ringing: CANCEL towards the called side, 480 to the caller), its CDR says cause admin.', todo: 'Nothing; the line names the call, its Call-IDs and the app that held it.' },
  EVT_CONNECTION_CLEARED: { level: 'info', what: 'An administrator closed a TCP/TLS connection (`trunkgate clear connection`, DELETE /connections/:id); calls on it get their connection-lost BYE.', todo: 'Nothing; a peer that must stay connected opens a new connection.' },
  EVT_RELOAD_APPLIED: { level: 'info', what: 'A configuration reload (SIGHUP, `trunkgate reload`, the admin API) was applied: what changed, and what needs a restart.', todo: 'Restart for anything listed under needsRestart.' },
  EVT_CONFIG_WRITTEN: { level: 'info', what: 'The configuration API wrote an entry (create, replace, delete) into its profiles file and the reload applied it: file, what was applied, what needs a restart.', todo: 'Restart for anything listed under needsRestart; the file is the record (keep profiles/ under version control).' },
  ERR_CONFIG_RESTORE: { level: 'error', what: 'The running gateway refused a configuration API write, and its profiles file could not be put back (or someone changed it meanwhile): the file holds the refused text, the running configuration is still the previous one.', todo: 'Move the backup the line names (`.<file>.<random>.prev`, beside it) back over the file before the next reload or restart, or fix the file by hand; `trunkgate config check` then.' },
  ERR_CONFIG_INVALID: { level: 'warn', what: 'A reload was refused: every problem is listed with its file:line; the running configuration stays.', todo: '`trunkgate config check` on the profiles directory, fix, reload again.' },
  ERR_TLS_PROFILE_INVALID: { level: 'warn', what: 'A TLS reload was refused (a certificate or key that does not load): the running profiles keep serving.', todo: 'Fix the file named in the line (`trunkgate pki list`), then `trunkgate reload --tls`.' },
  EVT_GATEWAY_STOPPING: { level: 'info', what: 'SIGTERM or SIGINT: new calls get 503, calls up get the drain time, then BYE.', todo: 'Nothing; for a rolling upgrade, wait for EVT_GATEWAY_STOPPED.' },
  ERR_GATEWAY_DRAIN: { level: 'warn', what: 'Calls were still up after the BYEs sent at stop.', todo: 'The far ends did not answer the BYE; their CDRs say so.' },
  EVT_GATEWAY_STOPPED: { level: 'info', what: 'The gateway stopped cleanly.', todo: 'Nothing.' },
  ERR_ENGINE_WORKER_CRASHED: { level: 'fatal', what: 'The engine thread failed: the process exits (code 70) rather than run without SIP.', todo: 'The service manager restarts it; report the stack in the line before.' },
};

export const EVENTS_START = '<!-- events:start -->';
export const EVENTS_END = '<!-- events:end -->';

/** The events as a Markdown table, in the order above (the order of a call's life and the gateway's). */
export function eventTable(): string {
  const esc = (s: string) => s.replace(/\|/g, '\\|');
  const rows = Object.entries(events).map(([code, e]) => `| \`${code}\` | ${e!.level} | ${esc(e!.what)} | ${esc(e!.todo)} |`);
  return ['| code | level | what happened | what to do |', '| --- | --- | --- | --- |', ...rows, ''].join('\n');
}
