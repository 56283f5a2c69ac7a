/**
 * Every error code trunkgate writes (a log line's `code`, a GatewayError's `code`, a counter's cause, a problem of
 * `config check`), each with what it means. Each module owns its codes as a closed union; this registry must name
 * every member of every union and nothing else (the compiler checks both ways), and a test checks that no code is
 * written in src/ without being here. `npm run codes` prints the table the README carries.
 */
import type { AdminErrorCode } from './admin/errors.js';
import type { B2buaErrorCode, B2buaLogCode } from './b2bua/errors.js';
import type { CdrErrorCode } from './cdr/errors.js';
import type { ConfigErrorCode, ConfigProblemCode } from './config/errors.js';
import type { ConfigWriteCode, ConfigWriteWarningCode } from './config/write/errors.js';
import type { AppLimitCode } from './engine/app-connection.js';
import type { CoreErrorCode } from './engine/core/errors.js';
import type { EngineErrorCode } from './engine/errors.js';
import type { ControlErrorCode } from './engine/wire/errors.js';
import type { EngineWorkerErrorCode } from './engine/worker-types.js';
import type { LogErrorCode } from './log/errors.js';
import type { MediaErrorCode } from './media/errors.js';
import type { PkiErrorCode } from './pki/errors.js';
import type { PolicyCode } from './policy/errors.js';
import type { ParseErrorCode } from './sip/message/types.js';
import type { TransactionErrorCode } from './sip/transaction/errors.js';
import type { ConnectionLimitCode } from './sip/transport/connection-gate.js';
import type { FrameErrorCode, TransportDropCode, TransportErrorCode } from './sip/transport/errors.js';
import type { TlsErrorCode } from './tls/errors.js';

/** The gateway process's own codes: start, stop, drain and the last-resort handler. */
export type GatewayLifecycleCode = 'ERR_GATEWAY_START' | 'ERR_GATEWAY_STOP' | 'ERR_GATEWAY_DRAIN' | 'ERR_GATEWAY_UNCAUGHT'
  | 'ERR_GATEWAY_ENGINE_UNREACHABLE' | 'ERR_GATEWAY_ENGINE_LOST';

/** Warnings a start or a reload reports beside its verdict. */
export type GatewayWarningCode = 'WARN_NO_DIAL_PEERS' | 'WARN_POLICY_BRIDGE' | 'WARN_CERT_EXPIRING';

export type ErrorCode =
  | AdminErrorCode | B2buaErrorCode | B2buaLogCode | ConfigErrorCode | ConfigProblemCode | ConfigWriteCode | ConfigWriteWarningCode | AppLimitCode
  | CoreErrorCode | EngineErrorCode | ControlErrorCode | EngineWorkerErrorCode | LogErrorCode | PkiErrorCode
  | PolicyCode | ParseErrorCode | TransactionErrorCode | ConnectionLimitCode | FrameErrorCode | TransportDropCode
  | TransportErrorCode | TlsErrorCode | GatewayLifecycleCode | GatewayWarningCode | CdrErrorCode | MediaErrorCode;

export const errorCodes = {
  // gateway process
  ERR_GATEWAY_START: 'The gateway could not start (configuration, a port, the engine): it exits non-zero with the cause.',
  ERR_GATEWAY_STOP: 'Stopping took longer than allowed: the process exits anyway.',
  ERR_GATEWAY_DRAIN: 'Calls were still up after the BYEs sent at stop.',
  ERR_GATEWAY_UNCAUGHT: 'An error nothing handled: logged with its stack, then the process exits.',
  ERR_GATEWAY_ENGINE_UNREACHABLE: 'engine mode external: drachtio-server did not accept a connection at start; the gateway waits for it (logged once).',
  ERR_GATEWAY_ENGINE_LOST: 'engine mode external: the control connection to drachtio-server closed; drachtio-srf reconnects, the server refuses new calls meanwhile; counted (engineLosses in /health), logged once a minute, the rest summed up.',
  WARN_POLICY_BRIDGE: 'A warning at start and in /health: `policy: bridge` sends every trusted call to one target with no policy.',
  WARN_CERT_EXPIRING: 'A configured certificate (trustpoint or trust-store CA) is within 30, 7 or 1 days of its notAfter: logged once per threshold.',
  WARN_NO_DIAL_PEERS: 'A warning: no dial peers are configured, so every call is refused with 404 and a Reason.',
  // configuration
  ERR_CONFIG_INVALID: 'A configuration was refused; `details.problems` lists every problem (start refuses, reload keeps the running one).',
  ERR_CONFIG_READ: 'No *.yaml file, or a file that cannot be read.',
  ERR_CONFIG_FILE_UNSTABLE: 'A reload found a profiles file still being written (changed within 300 ms or during the read) and it did not settle within 2 s: refused naming the file, the running configuration stays.',
  ERR_CONFIG_FILE_EMPTIED: 'A reload found a profiles file empty or only comments that the running configuration has content from (as cp or a shell\'s > leave it for a moment): refused naming the file; to empty a list, write it out (dialPeers: []).',
  ERR_CONFIG_YAML: 'YAML syntax, including a key repeated inside one file.',
  ERR_CONFIG_DUPLICATE_KEY: 'The same key (or dial-peer id) defined in two files.',
  ERR_CONFIG_SCHEMA: 'A value the schema refuses: wrong type, unknown key, out of range.',
  ERR_CONFIG_REFERENCE: 'A name that refers to nothing (tenant, TLS profile, trustpoint, category).',
  ERR_CONFIG_PATTERN: 'A regular expression that does not compile.',
  ERR_CONFIG_LISTENER_CONFLICT: 'Two listeners on the same address and port.',
  ERR_CONFIG_CIPHER: 'A cipher name the TLS layer does not know.',
  ERR_CONFIG_TLS_PROFILE: 'A TLS profile whose settings contradict each other.',
  ERR_CONFIG_TENANT: 'A tenant whose transport, listeners, scheme and profile do not fit together.',
  ERR_CONFIG_ENGINE_MODE: 'A feature an external drachtio-server engine cannot provide.',
  WARN_CONFIG_ENV: 'A warning: an environment variable the configuration names is not set.',
  WARN_CONFIG_LIMIT: 'A warning: a maxCalls or call rate that cannot bind as written (a dial peer above its tenant, a call burst that does not share out evenly over the app workers, a callBurst without maxCallsPerSecond).',
  WARN_CONFIG_DIGEST_REALM: 'A warning: digest or register credentials without a realm, which answer a digest challenge from any realm.',
  ERR_CONFIG_NOT_FOUND: 'The configuration API named no entry of that kind by that name (or dial-peer id): 404.',
  ERR_CONFIG_EXISTS: 'A configuration API create for a name (or dial-peer id) some file already defines: 409.',
  ERR_CONFIG_ETAG_MISMATCH: 'If-Match names another version of the entry than the one on disk (another editor wrote first): 409 with the current ETag.',
  ERR_CONFIG_IF_MATCH_REQUIRED: 'A configuration API replace or delete without If-Match: 428, nothing written.',
  ERR_CONFIG_IN_USE: 'A configuration API delete of an entry the rest of the configuration still names: 409 with the referring paths.',
  ERR_CONFIG_WRITE_BUSY: 'Another configuration write is under way: 429 with Retry-After.',
  ERR_CONFIG_WRITE: 'A profiles file could not be written (disk, permissions): 500, the file is as it was.',
  ERR_CONFIG_APPLY_REFUSED: 'A written configuration validated but the running gateway refused it (a TLS file): the file is put back, 422 with why.',
  ERR_CONFIG_FILE_UNREADABLE: 'A configuration API write while a profiles file cannot be read, or while the file it would edit does not parse as a YAML mapping or is not UTF-8: 409 naming the file, nothing written.',
  ERR_CONFIG_RESTORE: 'The running gateway refused a configuration API write and its file could not be put back (or was changed meanwhile): 500 naming the file and the backup beside it that holds its previous bytes.',
  WARN_CONFIG_WRITE_OWNER: 'A warning: a configuration write could not give the new file the old one\'s owner and group (not permitted); the file is written with the process\'s own, said once.',
  // admin API
  ERR_ADMIN_UNAUTHORIZED: 'A request without the bearer token, or with another one: 401; counted as `unauthorized` in `adminRefused`.',
  ERR_ADMIN_CONN_LIMIT: 'A connection to the admin API past `gateway.admin.maxConnections`: closed at accept, before any request is read.',
  ERR_ADMIN_CONN_SOURCE_LIMIT: 'A connection to the admin API past `gateway.admin.maxConnectionsPerSource` from its address: closed at accept.',
  ERR_ADMIN_TOKEN_REQUIRED: 'The admin API was asked to listen beyond loopback with no token: it refuses to start.',
  ERR_ADMIN_SERVICE: 'A service behind a route failed: 500, the log has the cause.',
  ERR_ADMIN_REQUEST: 'A request the API refused (bad body, unknown name) without a code of its own: 4xx; one the HTTP parser refused (400, 408, 431) is counted as `client-error` in `adminRefused`, logged once a minute per source.',
  ERR_ADMIN_LISTEN: 'The admin API could not bind its address: the gateway runs on without it.',
  ERR_ADMIN_CALL_NOT_FOUND: '`DELETE /calls/:id` (`trunkgate clear call`) named no live call: 404.',
  ERR_ADMIN_CALL_ENDING: '`DELETE /calls/:id` on a call already being torn down (a BYE is out): 409, nothing more is sent.',
  ERR_ADMIN_CONNECTION_NOT_FOUND: '`DELETE /connections/:id` (`trunkgate clear connection`) named no open TCP/TLS connection: 404.',
  ERR_ADMIN_CDR_SCAN_BUSY: '`GET /cdrs` while another CDR scan runs (one at a time): 429 with Retry-After; counted as `cdr-scan-busy` in `adminRefused`, logged once a minute per source.',
  ERR_ADMIN_PKI_BUSY: 'A `/pki` task that writes (CSR, import, trust add or remove) while another runs (one at a time): 429 with Retry-After; counted as `pki-busy` in `adminRefused`, logged once a minute per source.',
  ERR_ADMIN_TLS_PROBE_BUSY: '`POST /tls/probe` while another probe runs (one at a time): 429 with Retry-After; counted as `tls-probe-busy` in `adminRefused`, logged once a minute per source.',
  ERR_ADMIN_ENGINE_EXTERNAL: 'A route that reads or acts on the embedded engine (connections, listeners, TLS, clear connection, TLS reload) on a gateway running against drachtio-server: 501.',
  ERR_ADMIN_ORIGIN_REFUSED: 'A request to an admin API without a token whose Host is not a loopback name (DNS rebinding), or whose Origin is another site (a page in the browser): 403; counted as `origin` in `adminRefused`, logged once a minute.',
  ERR_ADMIN_BODY_TOO_LARGE: 'A request body over the admin API\'s limit: 413; counted as `body-too-large` in `adminRefused`, logged once a minute.',
  // log
  ERR_CONSOLE_OUTPUT: 'A library wrote through console.*: the text became a JSON log line, rate-limited.',
  // policy
  ERR_POLICY_DENIED: "The caller's permissions forbid the called number's category: 403 with a Reason.",
  ERR_POLICY_UNKNOWN_PEER: 'No TLS peer matched and the tenant says `unknownPeer: reject`: 403 with a Reason.',
  ERR_POLICY_NO_ROUTE: 'No dial peer matches the called number for the source tenant: 404 with a Reason.',
  // b2bua
  ERR_B2BUA_TARGET_INVALID: 'A dial-peer target that is not a usable SIP URI, or no target and no policy.',
  ERR_B2BUA_CONNECT: 'The b2bua could not reach the engine on its control connection.',
  ERR_B2BUA_AUTH: 'The engine refused the b2bua\'s secret.',
  ERR_B2BUA_DNS: 'A `dns:` target resolved to nothing, or the lookup failed (RFC 3263).',
  ERR_B2BUA_POLICY: 'A policy swap asked of a b2bua that runs the plain bridge.',
  ERR_B2BUA_WORKER: 'An app worker did not start, stopped, or was ended as unresponsive (silent 5 s); it is started again 5 times a minute, then after a backoff of 1 minute doubling to 10; `recorded`: the CDRs the main thread wrote for the calls it left behind.',
  ERR_B2BUA_HELD_COPY_FULL: 'The main thread\'s copy of an app worker\'s call list (for the records of a worker stopped from outside) holds its 100,000 calls: the calls past it would get no record if that worker were lost; logged once per worker life, counted as `notCopied` in the `ERR_B2BUA_WORKER` line.',
  ERR_B2BUA_SHARED_COUNTS_FULL: 'With app workers, more tenants and dial peers (over all reloads) than the shared call counts hold (4,096): the names past it have their maxCalls enforced per app, ceil(maxCalls / N), and their maxCallsPerSecond as a bucket per app (the rate / N, ceil(callBurst / N)); logged at start and at each reload that adds such names.',
  ERR_B2BUA_PREWARM: 'The warm-up calls the b2bua thread (or an app worker, named in `app`) runs before it takes calls (a throwaway engine and app on loopback ports) failed: it goes on without them, its first calls only slower.',
  ERR_B2BUA_TOO_MANY_HOPS: 'A call arrived with Max-Forwards 0: 483.',
  ERR_B2BUA_DENIED: 'A call refused by the permissions of its TLS peer or tenant: 403 with a Reason.',
  ERR_B2BUA_NUMBER_INVALID: 'A call whose Request-URI (or, on a registration trunk, To) names no called number, no user part at all: 484 with a Reason, before any B leg; counted in `badNumber`, CDR cause `bad-number`, logged once per interval and source. A number with other characters than digits is classified by its digits too (README, Called numbers).',
  ERR_B2BUA_PEER_HEADER_FORGED: 'A call carried the engine\'s internal peer header without the engine\'s seal: the header is ignored.',
  ERR_B2BUA_NO_TENANT: 'A call arrived on no known tenant: refused.',
  ERR_B2BUA_NO_ROUTE: 'No dial peer matches the called number: 404 with a Reason.',
  ERR_B2BUA_BYE_FAILED: 'A BYE on one leg got no 2xx: the leg is released anyway.',
  ERR_B2BUA_CONTROL: 'An error on the b2bua\'s control connection (it reconnects).',
  ERR_B2BUA_DRAINING: 'A new call while the gateway drains for stop: 503.',
  ERR_B2BUA_CALL_HANDLER: 'The call handler failed on a call: 500 with a Reason if nothing was answered yet.',
  ERR_B2BUA_CDR_SINK: 'The CDR sink threw on a record: the call goes on, and the record is still in its `cdr` log line.',
  ERR_B2BUA_REFUSAL_CDR_RATE: 'More calls were refused by the b2bua before any B leg (call rate, call limit, no route, permissions, media policy, Min-SE, draining) than gateway.limits.refusalCdrsPerSecond allows CDRs for (burst twice that, each app a share): those past it get their answer, Reason and counters but no CDR and no `cdr` line (refusalCdrs.dropped in /stats b2bua), one warn line a minute per app; calls that reached a B leg always have their CDR.',
  ERR_B2BUA_REGISTER_REFUSED: 'A REGISTER on a tenant without registerRelay (403 with a Reason; or one the registrar could not be sent to), or an out-of-dialog MESSAGE or NOTIFY not to a relayed binding (404), logged once per interval and source.',
  ERR_B2BUA_REGISTER_RELAY_FULL: 'A tenant\'s relayed registrations are at its registerRelay.maxBindings: a REGISTER from a new flow gets 503 with Retry-After (flows already bound refresh as before), or a binding REGISTERs sent on together bring past it is not kept; counted as `refusedFull`, logged once per interval and source.',
  ERR_B2BUA_CALL_LIMIT: 'A tenant or dial peer held its `maxCalls` calls: a new call from that tenant, or one whose every target was passed over at its limit, got 503 with Retry-After and a Reason.',
  ERR_B2BUA_CALL_RATE: 'A tenant or dial peer was over its `maxCallsPerSecond`: a new call from that tenant, or one whose every target was passed over and the first for its rate, got 503 with Retry-After and a Reason.',
  ERR_B2BUA_FLOW_TOKEN_INVALID: 'A request to a relayed binding whose Path flow token is forged, malformed or run out, or that came from a source other than the registrar tenant: 403.',
  ERR_B2BUA_FLOW_FAILED: 'A request to a relayed phone whose flow has no live binding, or whose TCP/TLS connection has closed: 430 Flow Failed with a Reason (RFC 5626), nothing sent to the phone\'s address.',
  ERR_B2BUA_SRTP_REFUSED: 'A call whose offer (or the called side\'s answer) kept no SRTP suite both tenants allow, or broke a tenant\'s SRTP media policy: 488 with a Reason, counted as `cryptoRejected`, logged once per interval and source.',
  ERR_B2BUA_MIN_SE: 'A call whose Session-Expires was below `gateway.calls.sessionTimer.minSeSeconds`: 422 with Min-SE and a Reason (RFC 4028), logged once per interval and source.',
  ERR_B2BUA_BODY_UNSUPPORTED: 'A call whose INVITE body is not application/sdp (SDP in a multipart body, which the B leg could not be given as it came and which would bypass the media relay and the SRTP filters): 415 with Accept: application/sdp and a Reason, before any B leg; logged once per interval and source.',
  ERR_B2BUA_IN_DIALOG_REFUSED: 'An in-dialog request of a connected call the gateway refused itself, with a Reason: a re-INVITE, UPDATE or INFO with 488 (no SRTP suite left in its offer or answer, or either breaks a tenant\'s media policy: SRTP required, a media address refused; the line names the `policy`), 415 with Accept (a re-INVITE body not application/sdp, or on an anchored or SRTP-filtered call SDP in a multipart body of an UPDATE or of the other leg\'s answer), 503 (the media relay failed on it) or 500 (it could not be sent to the other leg, which ends the call; or the answer of the other leg could not be passed back, logged as an error); a REFER, MESSAGE, NOTIFY, PUBLISH or SUBSCRIBE with 405 and Allow (not relayed); counted by status in `inDialogRefused`, logged once per interval and source.',
  ERR_B2BUA_LEG_FAILED: 'A B leg failed (no answer in time, unreachable, a failover status): the next dial peer is tried, if any; logged once per interval per dial peer (per target in the plain bridge); the CDR lists every attempt.',
  ERR_B2BUA_DIGEST_REALM: 'A B leg (or a registration) was challenged from a realm other than its tenant\'s `digest.realm`: the credentials are not given, so the challenge\'s 401/407 fails it; logged once per interval and tenant.',
  ERR_B2BUA_DIGEST_CHALLENGE: 'A digest challenge not answered: not well formed, a parameter repeated, more than one challenge, or read otherwise by drachtio-srf, which computes the answer.',
  ERR_B2BUA_DIGEST_UNSUPPORTED: 'A digest challenge not answered: not Digest, not MD5, or a qop without auth.',
  ERR_B2BUA_TARGET_REFUSED: 'An address a DNS answer gave for a call target, an OPTIONS ping or a registrar is loopback, unspecified, link-local (cloud metadata), multicast, broadcast or the gateway\'s own, and gateway.outbound.allowResolved does not list it: skipped for the next address; a call fails over, a ping or registration with none left fails.',
  ERR_B2BUA_DNS_CAPPED: 'A DNS answer held more SRV/NAPTR records or addresses than gateway.outbound.maxSrvRecords / maxAddressesPerName: the rest are not used.',
  ERR_B2BUA_TARGETS_CAPPED: 'A call had more targets than gateway.outbound.maxTargetsPerCall: the rest are not tried.',
  ERR_B2BUA_DNS_DEADLINE: 'The DNS lookups of a call took longer than gateway.outbound.resolveTimeoutMs: the call goes on with the addresses found so far.',
  ERR_B2BUA_DIAL_PEER_SKIPPED: 'Dial peers whose every target the OPTIONS ping found down were passed over for a call while another was up: counted in `skippedDown`, logged once per interval per set of dial peers skipped.',
  ERR_B2BUA_CALL_ENDED: 'The gateway ended a connected call itself (session expired or its refresh failed, a leg lost, a media timeout, the maximum duration, shutdown, a hang-up): BYE with a Reason on both legs; counted per cause in `endedByGateway`, each call in its CDR, logged once per interval per cause.',
  ERR_B2BUA_REGISTER_TOO_BRIEF: 'A registration trunk\'s registrar answered 423 Interval Too Brief to the one retry a refresh cycle gets with its Min-Expires (or gave no usable Min-Expires): counted as a failure (`intervalTooBrief`) and tried again after the retry wait, logged once per interval and tenant.',
  // media (rtpengine)
  ERR_MEDIA_UNAVAILABLE: 'No rtpengine instance took a flow-through call (none live, or each failed the offer): 503 with a Reason, logged once per interval.',
  ERR_MEDIA_TIMEOUT: 'An rtpengine instance did not answer an ng request in gateway.media.timeoutMs: it is marked down and a new call tries the next one.',
  ERR_MEDIA_REFUSED: 'An rtpengine instance answered an ng request with an error (or its load limit): that call fails, the instance stays up.',
  ERR_MEDIA_INSTANCE_DOWN: 'An rtpengine instance stopped answering (a request or a health ping): new calls go to the others; the line gives its anchored calls.',
  ERR_MEDIA_REPLY: 'An ng reply that did not decode, came after its request timed out, or held no dictionary: dropped and counted (a reply with no dictionary fails that instance over), its content (SDP, keys) never logged.',
  ERR_MEDIA_ORPHAN: 'An rtpengine instance may hold a session no call uses (an offer it did not answer before the call went to another instance, the sessions of a call that failed over, a delete it did not answer, a session a late offer opened for a call attempt already given up, logged at info): the delete goes to it at once and again when it answers pings, before it takes a new call; unanswered, logged once per interval per instance; past 1,000 waiting (maxOrphans) the oldest is dropped to rtpengine\'s own timeout, counted and logged at error.',
  ERR_MEDIA_ADDRESS_REFUSED: 'An anchored call\'s offer or answer named a media address rtpengine must not send to (loopback or link-local unless the tenant\'s media.allowedNetworks names it, multicast, broadcast, not an IP address, or outside that list): 488 with a Reason, before rtpengine sees it; counted with the refused calls by status (in `inDialogRefused` in a call), logged once per interval and source, the CDR cause `media-address`.',
  // CDR sinks
  ERR_CDR_FILE: 'The JSON-lines CDR file could not be opened, written or rotated: logged once a minute, records go on to the log line and the database.',
  ERR_CDR_FILE_GONE: 'The CDR file\'s path no longer names the file being written (deleted, renamed away, replaced): it is opened again at its path; the line says how many records went to the old file.',
  ERR_CDR_EXIT_UNSAFE: 'The process exits with CDRs neither in the file nor in the database or its on-disk queue: counted per sink in the line.',
  ERR_CDR_DB: 'The CDR database could not be reached, broke, or its table could not be migrated: records wait in the on-disk queue, reconnection goes on.',
  ERR_CDR_DB_REJECTED: 'The CDR database refused a record for its content: counted, logged with its Call-ID; it is in the JSON-lines file and the log line.',
  ERR_CDR_QUEUE_FULL: 'The on-disk queue for the CDR database reached maxQueueBytes: records not queued are counted, and are in the JSON-lines file and the log line.',
  ERR_CDR_QUEUE_CORRUPT: 'A line of the on-disk CDR queue does not parse (a write a crash cut short): skipped and counted on replay.',
  ERR_CDR_QUEUE_IO: 'The on-disk CDR queue could not be written or read: those records are counted as lost to the database (the file still has them).',
  // engine: control protocol and apps
  ERR_ENGINE_FRAME_BAD_LENGTH: "A control frame's length prefix is not 1-7 decimal digits followed by '#'.",
  ERR_ENGINE_FRAME_TOO_LARGE: "A control frame announces more bytes than the connection's maximum.",
  ERR_ENGINE_MESSAGE_MALFORMED: 'A control payload lacks `msgId|type`.',
  ERR_ENGINE_MESSAGE_UNKNOWN: 'A control message type the engine does not serve.',
  ERR_ENGINE_NOT_AUTHENTICATED: 'A control message other than `authenticate` before authentication.',
  ERR_ENGINE_AUTH_FAILED: '`authenticate` with a wrong secret: the connection is closed.',
  ERR_ENGINE_AUTH_TIMEOUT: 'No `authenticate` within the allowed time: the connection is closed.',
  ERR_ENGINE_CORE_FAILED: 'The SIP core threw while handling an app command: NOK to the app.',
  ERR_ENGINE_LISTEN: 'The control listener could not bind.',
  ERR_ENGINE_DIAL: 'An outbound control connection could not be made.',
  ERR_ENGINE_APP_REFUSED: 'An app authenticated while the most apps allowed were connected: refused.',
  ERR_ENGINE_DNS_LIMIT: 'A host name to send to was not looked up because its pool of lookups in flight was full (names from the configuration have two, names a peer supplied one; they run on the thread pool file writes use): the last answer is used when one is at most 5 minutes old, else the send failed.',
  ERR_ENGINE_DNS_TIMEOUT: 'A host name to send to was not resolved within 3 s: the last answer is used when one is at most 5 minutes old, else the send fails.',
  ERR_ENGINE_CONTROL_SOCKET: 'A control connection\'s socket failed (reset, broken pipe): the connection closes; counted in controlErrors, one warn line a minute.',
  ERR_ENGINE_CONTROL_LISTENER: 'The bound control listener reported an error (an accept that failed, as when out of file descriptors); counted, one warn line a minute.',
  ERR_ENGINE_CONTROL_CONN_LIMIT: 'The control listener held its most connections (apps and connections not yet authenticated): the oldest connection not yet authenticated was closed for the new one (controlUnauthenticatedEvicted), or, with apps holding every slot, the new one was closed at accept (controlConnectionsRefused).',
  ERR_ENGINE_ROUTE_LIMIT: 'An app asked to route more distinct methods than one app may (64): NOK, its routes stay as they were.',
  ERR_ENGINE_SEND_BUFFER_FULL: 'An app read nothing while its queue grew past four times the send bound: its connection is closed.',
  ERR_ENGINE_WORKER: 'The engine thread failed to start or to apply a change.',
  ERR_ENGINE_WORKER_CRASHED: 'The engine thread threw: the gateway stops with this code rather than run without it.',
  ERR_ENGINE_WORKER_EXITED: 'The engine thread ended on its own: the gateway stops with this code.',
  ERR_ENGINE_START: 'The engine could not start (a port taken, a TLS profile unusable).',
  // engine: edge and core
  ERR_ENGINE_UNTRUSTED_SOURCE: 'A new request from an address no tenant trusts: 403 or dropped, counted, logged once a minute.',
  ERR_ENGINE_TRUST_RESOLVE: "A trusted tenant's host name did not resolve; the addresses already known are kept.",
  ERR_ENGINE_SOURCE_RATE: 'A source sent new requests faster than its rate: 503 with Retry-After, or dropped.',
  ERR_ENGINE_OVERLOAD: 'The engine or its app fell behind (event-loop delay, unanswered INVITEs): new INVITEs get 503 with Retry-After, or are dropped.',
  ERR_ENGINE_PREWARM: 'The engine thread\'s warm-up through loopback sockets (a throwaway engine and app before the listeners open) failed: the in-memory warm-up ran instead, the first calls perhaps a little slower.',
  ERR_ENGINE_REFUSAL_CDR_RATE: 'More new INVITEs were refused by the engine (untrusted source, source rate, overload, a full table, no app) than gateway.limits.refusalCdrsPerSecond allows CDRs for: those past it get their answer and their counters but no CDR (refusalRecords.dropped in /stats), one warn line a minute.',
  ERR_ENGINE_REQUEST_INVALID: 'A new request failed the UAS checks after parsing (RFC 3261 §8.2): 400 or 416.',
  ERR_ENGINE_REQUEST_URI_INVALID: 'A request the engine was about to send has no usable Request-URI: it never reaches the wire.',
  ERR_ENGINE_TOO_MANY_HOPS: 'Max-Forwards reached 0 (RFC 3261 §16.3 step 2): 483.',
  ERR_ENGINE_BAD_CONTACT: 'A dialog-creating INVITE without Contact, or with one that is not a SIP or SIPS URI: 400.',
  ERR_ENGINE_APP_NO_ANSWER: 'No app answered a request within the answer time: 503, state freed.',
  ERR_ENGINE_TABLE_FULL: 'The pending server transactions, client transactions or dialogs are at their cap: 503, or NOK to the app.',
  ERR_ENGINE_NO_APP: 'No app takes the method, or its control connection is backed up: 503.',
  ERR_ENGINE_APP_BACKLOG: "An app's control connection has more queued than its bound: new INVITEs get 503.",
  ERR_ENGINE_APP_GONE: "An app's control connection went away: its dialogs ended, its pending requests answered; counted in appDisconnects, one line a minute per app address. A request it sent (new, or in one of its dialogs) whose target's name was still being looked up is dropped when the lookup ends: never sent, counted (appGoneRequestsDropped).",
  ERR_ENGINE_FOREIGN_ID: "An app named a transaction or dialog another app owns (a response, an in-dialog request or ACK, a CANCEL, a proxy): answered NOK as for an unknown id, the other app's request or call not touched; counted (foreignIdRefused).",
  ERR_ENGINE_ROUTE_NOT_FOLLOWED: 'A new request with a Route naming another host, outside any dialog the engine proxied: not followed.',
  ERR_ENGINE_FORK_LIMIT: 'More forks answered one INVITE of an app with a 2xx than the engine ACKs and ends by itself (4 besides the fork whose 2xx made the call): the 2xx is dropped, counted (forkAnswersDropped); the app\'s call is not touched.',
  ERR_ENGINE_SEND_FAILED: 'A request was not sent (transaction cap, name lookup, transport): the app that sent it got NOK; a BYE of the engine\'s own was lost.',
  ERR_ENGINE_NO_DIALOG: 'An in-dialog request (To tag) matching no dialog nor transaction: 481 with a Reason, statelessly, charged to its source.',
  ERR_ENGINE_DIALOG_SOURCE: "An in-dialog request or ACK naming a dialog the engine knows (its Call-ID and tags) from a source that is neither the dialog's peer (its address, its TCP/TLS connection, its verified TLS identity; a proxied dialog's two ends) nor trusted by the dialog's tenant: 403 with a Reason, statelessly, within the per-source bound on 403s (an ACK dropped), counted (dialogSourceRefused); the dialog, its app and its target never see it.",
  ERR_ENGINE_METHOD_NOT_OFFERED: 'A request outside a dialog of a method no app is offered: 481 for PRACK, 405 with Allow for another known method, 501 for an unknown one; counted.',
  ERR_ENGINE_RELAY_REFUSED: "An in-dialog request of a dialog an app proxied whose Route or Request-URI names a host other than the dialog's other side: 403 with a Reason (an ACK dropped), not relayed, counted.",
  ERR_ENGINE_RELAY_LOOP: "An in-dialog request of a dialog an app proxied whose next hop is the gateway's own address: 482 with a Reason (an ACK dropped), not relayed, counted.",
  ERR_ENGINE_DIALOG_HOP_REFUSED: "A dialog's next hop (first Route, else remote target) is loopback, unspecified, link-local, multicast, broadcast or the gateway itself while its peer is not: its requests go to the peer's source; a dialog the engine placed is ACKed there and ended with BYE (Reason 403). Counted (dialogHopRefused).",
  ERR_ENGINE_CANCEL_OTHER_SOURCE: 'A CANCEL matching an INVITE under way that came from elsewhere than that INVITE (another address or transport, another TCP connection, a TLS one of another verified peer; RFC 3261 §9.1): 481 with a Reason, statelessly, counted; the INVITE is not touched.',
  ERR_ENGINE_MERGED_REQUEST: 'A new INVITE carrying the Call-ID and From tag of a request under way or a live dialog, with another branch (a merged request, RFC 3261 §8.2.2.2): 482 with a Reason, counted; the call already there is not touched.',
  ERR_ENGINE_PROXY_IDENTITY_UNTRUSTED: "A tenant's proxy identity header from a source that is not one of its trusted proxies: removed and ignored, counted.",
  // SIP message parser
  ERR_SIP_PARSE_TOO_LARGE: 'A message over the size limit.',
  ERR_SIP_PARSE_LINE_TOO_LONG: 'A header line over the line limit.',
  ERR_SIP_PARSE_TOO_MANY_HEADERS: 'More header lines than the limit.',
  ERR_SIP_PARSE_START_LINE: 'A start line that is neither a request line nor a status line.',
  ERR_SIP_PARSE_VERSION: 'A SIP version other than SIP/2.0 (upper case).',
  ERR_SIP_PARSE_HEADER: 'A header line without a name and a colon.',
  ERR_SIP_PARSE_MISSING_HEADER: 'A mandatory header (Via, From, To, Call-ID, CSeq, Max-Forwards on requests) is missing.',
  ERR_SIP_PARSE_CSEQ: 'A CSeq that is not a number and a method, or whose method differs from the request line.',
  ERR_SIP_PARSE_VIA: 'A Via that does not parse (sent-protocol, sent-by or parameters).',
  ERR_SIP_PARSE_URI: 'A Request-URI or an address that is not a SIP, SIPS or tel URI.',
  ERR_SIP_PARSE_CONTENT_LENGTH: 'A Content-Length that is not a number or does not match the body.',
  ERR_SIP_PARSE_EMPTY: 'An empty datagram or message.',
  ERR_SIP_PARSE_CONTROL_CHARACTER: 'A control character (NUL, a bare CR or LF, DEL, C1, U+2028/2029) in a header value.',
  ERR_SIP_PARSE_CALL_ID: 'A Call-ID that is not word[@word] (RFC 3261 §25.1).',
  ERR_SIP_PARSE_FROM: 'A From that is not a name-addr or addr-spec with parameters.',
  ERR_SIP_PARSE_TO: 'A To that is not a name-addr or addr-spec with parameters.',
  ERR_SIP_PARSE_ADDRESS: 'A Contact, Route, Record-Route, Path, Refer-To, Referred-By, P-Asserted-Identity or Remote-Party-ID that does not parse.',
  ERR_SIP_PARSE_MAX_FORWARDS: 'A Max-Forwards that is not a number from 0 to 255.',
  ERR_SIP_PARSE_AUTH: 'An Authorization, Proxy-Authorization, WWW-Authenticate, Proxy-Authenticate or Authentication-Info that does not parse.',
  ERR_SIP_PARSE_DUPLICATE_HEADER: 'A single-valued header (RFC 3261 §7.3.1) repeated.',
  // SIP transport
  ERR_SIP_FRAME_NO_CONTENT_LENGTH: 'A message on a stream without Content-Length (mandatory there, RFC 3261 §18.3): the connection is closed.',
  ERR_SIP_FRAME_BAD_CONTENT_LENGTH: 'A Content-Length on a stream that is not a number, is repeated with different values, or exceeds the limit.',
  ERR_SIP_FRAME_HEADER_TOO_LARGE: 'No end of headers on a stream within the header limit.',
  ERR_SIP_FRAME_TOO_LARGE: 'Headers plus body on a stream exceed the message limit.',
  ERR_SIP_TRANSPORT_CLOSED: 'The connection or transport was closed before or while writing.',
  ERR_SIP_TRANSPORT_CONNECT: 'An outbound TCP or TLS connection failed (refused, reset, handshake).',
  ERR_SIP_TRANSPORT_CONNECT_TIMEOUT: 'An outbound connection did not complete within the connect timeout.',
  ERR_SIP_TRANSPORT_NO_LISTENER: 'No listener can carry this target (protocol or address family not configured).',
  ERR_SIP_TRANSPORT_ADDRESS: 'A target address that is not an IP literal.',
  ERR_SIP_TRANSPORT_SEND: 'The kernel refused a write (datagram or stream).',
  ERR_SIP_TRANSPORT_BIND: 'A listener could not bind.',
  ERR_SIP_TRANSPORT_TLS_HANDSHAKE: 'A TLS handshake with a peer failed (unknown CA, name mismatch, no shared cipher), with the reason.',
  ERR_SIP_TRANSPORT_TLS_CONFIG: 'A listener or client TLS configuration is unusable.',
  ERR_SIP_TRANSPORT_STATE: 'The transport is not started, or is already closed.',
  ERR_SIP_TRANSPORT_SEND_BUFFER_FULL: 'A TCP/TLS peer let more than the send bound (gateway.limits.maxSendBufferBytes) wait unread: its connection was closed.',
  ERR_SIP_TRANSPORT_OUTBOUND_LIMIT: 'The gateway holds its most outbound TCP/TLS connections, open or connecting (gateway.limits.maxOutboundConnections): a new one is not opened and the send fails.',
  ERR_SIP_TRANSPORT_OUTBOUND_ADDRESS_LIMIT: 'The gateway holds its most outbound TCP/TLS connections to one remote address, open or connecting (gateway.limits.maxOutboundConnectionsPerAddress): a new one to it is not opened and the send fails; other addresses are unaffected.',
  ERR_SIP_TRANSPORT_NO_VIA: 'A received request whose top Via cannot be read: no response can be routed, none is sent.',
  ERR_SIP_TRANSPORT_NO_USER: 'A message arrived before anything above the transport was attached.',
  ERR_SIP_TRANSPORT_USER: 'The layer above threw while taking a message: dropped and counted, the transport stays up; the stack is logged at debug.',
  ERR_SIP_TRANSPORT_INTERNAL: 'The receive path failed on a message: dropped and counted, one warn line a minute; the stack is logged at debug.',
  ERR_SIP_TRANSPORT_BAD_REQUEST_RATE: 'A request that could not be parsed from a source already sent its most 400s (5 a second, bursts of 10): dropped unanswered, so forged sources get no reflected answers; counted.',
  ERR_SIP_TRANSPORT_LISTENER: 'A bound SIP listener reported an error (an accept that failed, as when out of file descriptors): counted in drops, one warn line a minute.',
  ERR_SIP_TRANSPORT_FD_RESERVE: 'The open-files limit leaves fewer descriptors than the configured connection limits: they were lowered at start to fit.',
  ERR_SIP_TRANSPORT_CONN_LIMIT: 'The listener is at its most connections: a new one is closed at accept.',
  ERR_SIP_TRANSPORT_CONN_SOURCE_LIMIT: 'One address holds its most connections: its next one is closed at accept.',
  ERR_SIP_TRANSPORT_HANDSHAKE_LIMIT: 'The most TLS handshakes in progress are running: a new connection is closed at accept.',
  ERR_SIP_TRANSPORT_HANDSHAKE_SOURCE_LIMIT: 'One address has its most TLS handshakes in progress: its next connection is closed at accept.',
  // SIP transactions
  ERR_SIP_TRANSACTION_NO_ACK: 'Timer H fired: no ACK arrived for a non-2xx final response to an INVITE.',
  ERR_SIP_TRANSACTION_TRANSPORT: 'The transport failed to send a request, a response or an ACK.',
  ERR_SIP_TRANSACTION_LIMIT: 'The cap on transactions still at work was reached: 503 with a Reason and Retry-After.',
  ERR_SIP_TRANSACTION_WAIT_LIMIT: 'The cap on transactions waiting out their final 32 s timer was reached: the oldest waits end early (warn line, waitsEndedEarly).',
  ERR_SIP_TRANSACTION_BAD_REQUEST: 'A request that cannot start a transaction (no top Via, no branch, ACK, missing CSeq).',
  ERR_SIP_TRANSACTION_CLOSED: 'The transaction layer was closed.',
  ERR_SIP_TRANSACTION_LATE_RESPONSE: 'A response passed after the server transaction\'s final one (a proxy\'s second 2xx, an app\'s late answer): not sent, counted.',
  ERR_SIP_TRANSACTION_CANCEL_NOT_SENT: 'A CANCEL could not be sent (the transaction cap, the transport).',
  ERR_SIP_TRANSACTION_USER_FAILED: 'A callback into the SIP core threw; the transaction went on (a fault: the line carries the error).',
  ERR_SIP_TRANSACTION_RELEASED: 'A transaction\'s request was asked for after its final response, when it no longer holds it (a defect).',
  // TLS
  ERR_TLS_CIPHER_UNKNOWN: 'A cipher name in none of the naming tables (IANA, OpenSSL, CUBE).',
  ERR_TLS_CIPHER_UNSUPPORTED: 'A cipher this OpenSSL cannot negotiate.',
  ERR_TLS_VERSION_RANGE: 'An unknown TLS version, or minVersion above maxVersion.',
  ERR_TLS_PROFILE_INVALID: 'A TLS profile that cannot be built: the running profiles stay.',
  ERR_TLS_CRL_INVALID: 'A CRL file that does not parse or does not verify.',
  ERR_TLS_CONTEXT: 'Node could not build a TLS context from a profile (key, certificate or options refused).',
  ERR_TLS_NAME_MISMATCH: "The peer's certificate names (SAN, else CN) do not match what the profile expects.",
  ERR_TLS_UNKNOWN_SNI: 'A client asked for a server name no profile serves.',
  ERR_TLS_NO_CLIENT_CERT: 'Mutual TLS: the client sent no certificate.',
  ERR_TLS_PEER_UNTRUSTED: "The peer's chain does not lead to a CA of the profile's trust store.",
  ERR_TLS_PROFILE_VERSION: 'A connection negotiated a TLS version its profile (picked by SNI after the hello) does not allow.',
  ERR_TLS_PROFILE_CIPHER: 'A connection negotiated a suite its profile (picked by SNI after the hello) does not allow.',
  ERR_TLS_CHAIN_DEPTH: "The peer's chain has more CAs above its certificate than the profile's maxChainDepth (default 4): refused in either role.",
  ERR_TLS_SNI_WIDENS: 'A warning: a profile an SNI may pick on a shared listener allows versions or suites its default does not.',
  // PKI
  ERR_PKI_KEY_INVALID: 'A private key file that does not parse.',
  ERR_PKI_CERT_INVALID: 'A certificate file that does not parse.',
  ERR_PKI_CSR_INVALID: 'A certificate signing request that does not parse or verify.',
  ERR_PKI_CRL_INVALID: 'A CRL that does not parse.',
  ERR_PKI_KEY_MISMATCH: 'A certificate that does not belong to its private key.',
  ERR_PKI_CHAIN_INCOMPLETE: 'A chain that does not reach a trusted CA.',
  ERR_PKI_SIGNATURE_INVALID: 'A certificate or CRL whose signature does not verify with its issuer.',
  ERR_PKI_CERT_EXPIRED: 'A certificate past its notAfter.',
  ERR_PKI_CERT_NOT_YET_VALID: 'A certificate before its notBefore.',
  ERR_PKI_NOT_CA: 'A certificate used as an issuer without the CA basic constraint.',
  ERR_PKI_UNSUPPORTED_KEY: 'A key type the PKI library does not handle.',
  ERR_PKI_TRUSTPOINT_FILES: 'An import into a trustpoint whose files cannot take it as named (several chain files that do not fit the chain one certificate each, or a file named twice): 409, nothing written. Also: a CA certificate whose key is missing (or a key without its certificate) at first start, refused rather than replaced; and a trustpoint swap cut short (a kill mid-write), rolled back or finished on the next load, said once.',
  ERR_PKI_TRUST_BUNDLE: 'A CA to remove from a trust store shares its file with other certificates (a bundle): 409 naming the file, nothing removed; take it out of the bundle by hand.',
  ERR_PKI_IMPORT_UNUSABLE: 'An import whose certificate, key and chain a TLS profile using that trustpoint could not load (a chain with no chain file to hold it, or one the profile\'s trust store cannot complete): 422, nothing written, the old files stay.',
  ERR_PKI_IO: 'A trustpoint or trust-store file or directory that cannot be read or written.',
} as const satisfies Record<ErrorCode, string>;

/** The part of trunkgate a code belongs to, from its prefix: ERR_SIP_PARSE_VIA is `sip parse`, ERR_TLS_CONTEXT is `tls`. */
export function moduleOf(code: string): string {
  const parts = code.split('_');
  return (parts[1] === 'SIP' ? `${parts[1]} ${parts[2]}` : parts[1] ?? '').toLowerCase();
}
