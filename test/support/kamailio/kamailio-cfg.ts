/**
 * Writes kamailio.cfg for a loopback test peer: no DNS, no control sockets, few processes, and one routing
 * mode. Every request is logged on one `tg-request` line (with the TLS facts when it came over TLS) so a test
 * can read what kamailio saw, and every relay failure on a `tg-relay-failure` line.
 */
import { dispatcherFailureRoute, dispatcherModule, dispatcherRequest, type KamailioDispatcherRoute } from './dispatcher-cfg.js';

export type KamailioProto = 'udp' | 'tcp' | 'tls';

export interface KamailioListen {
  proto: KamailioProto;
  host: string;
  /** 0 picks a free port. */
  port: number;
}

/** Where kamailio sends a request it relays. */
export interface KamailioRelayTarget {
  host: string;
  port: number;
  transport: KamailioProto;
}

/**
 * What kamailio does with a request that starts a dialog or stands alone:
 * - `relay`: a stateful proxy (tm) to one fixed next hop, recording the route so in-dialog requests stay on
 *   the path (two Record-Route entries when the transport changes, rr's `enable_double_rr`);
 * - `reply`: a stateless answer with this status.
 * In-dialog requests follow their Route headers (loose_route) in both modes.
 */
export type KamailioRoute =
  /** `appendHeaders`: whole header lines (`Name: value`) added to each initial request relayed (textops). */
  | { kind: 'relay'; target: KamailioRelayTarget; appendHeaders?: string[] }
  | { kind: 'reply'; status: number; reason?: string }
  /**
   * A registrar with digest auth (auth, registrar and usrloc in memory): REGISTER is challenged in `realm` and checked
   * against `users` (user → password), its bindings kept; other new requests go to the binding of their Request-URI
   * (lookup), 404 when there is none; with `callsTo`, every call goes to that address-of-record's binding, as a
   * carrier sends its DIDs to a registered trunk. `minExpires`: a shorter Expires gets 423 with Min-Expires.
   * `usePath`: the Path of a REGISTER is kept with the binding (RFC 3327, registrar `use_path`, stored whether or
   * not the phone said `Supported: path`), and a request to the binding goes along it; the log line shows the Path.
   * `ctlSocket`: a unix socket path for kamailio's ctl module, so `kamcmd -s unix:<path> ul.dump` shows the bindings.
   */
  | { kind: 'registrar'; realm: string; users: Record<string, string>; minExpires?: number; callsTo?: string; usePath?: boolean; ctlSocket?: string }
  /** A load balancer over several gateways (dispatcher-cfg.ts). */
  | KamailioDispatcherRoute;

export type KamailioLogLevel = 'error' | 'warn' | 'notice' | 'info' | 'debug';

/** kamailio's `debug` values (L_ERR -1 … L_DBG 3). */
const LEVELS: Record<KamailioLogLevel, number> = { error: -1, warn: 0, notice: 1, info: 2, debug: 3 };

export interface KamailioCfgInput {
  listen: KamailioListen[];
  route: KamailioRoute;
  logLevel: KamailioLogLevel;
  moduleDir: string;
  /** Absolute path of tls.cfg, when TLS is on. */
  tlsCfgPath?: string;
  /** Worker processes per UDP socket and for TCP/TLS. */
  children: number;
  /** tm's final-response timers (ms): fr_timer and fr_inv_timer. */
  frTimerMs: number;
  frInvTimerMs: number;
  /**
   * SNI for new outbound TLS connections. kamailio 5.6 sends SNI only from the `server_name` field of the xavp
   * named by the tls module's `xavp_cfg` (a client profile's own `server_name` only selects that profile).
   */
  sendServerName?: string;
  /** Absolute path of the dispatcher's destination list, for a `dispatcher` route. */
  dispatcherListPath?: string;
}

function hostOf(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

function relayUri(t: KamailioRelayTarget): string {
  return `sip:${hostOf(t.host)}:${t.port};transport=${t.transport}`;
}

function quoted(text: string): string {
  return text.replace(/[\\"]/g, '');
}

function initialRequest(route: KamailioRoute, tls: boolean): string[] {
  if (route.kind === 'dispatcher') return dispatcherRequest(route, tls);
  if (route.kind === 'registrar') {
    const realm = quoted(route.realm);
    return [
      '  if (method == "REGISTER") {',
      '    $var(pw) = "";',
      ...Object.entries(route.users).map(([u, pw]) => `    if ($au == "${quoted(u)}") $var(pw) = "${quoted(pw)}";`),
      `    if ($var(pw) == "" || !pv_www_authenticate("${realm}", "$var(pw)", "0")) {`,
      `      www_challenge("${realm}", "0");`,
      '      exit;',
      '    }',
      '    if (!save("location")) sl_reply_error();',
      `    xlog("L_NOTICE", "tg-registered aor=$tu contact=$ct expires=$hdr(Expires)${route.usePath === true ? ' path=$hdr(Path)' : ''}\\n");`,
      '    exit;',
      '  }',
      `  if (!lookup("location"${route.callsTo !== undefined ? `, "${quoted(route.callsTo)}"` : ''})) {`,
      '    sl_send_reply("404", "Not Found");',
      '    exit;',
      '  }',
      '  record_route();',
      '  route(RELAY);',
    ];
  }
  if (route.kind === 'reply') {
    return [`  sl_send_reply("${route.status}", "${quoted(route.reason ?? 'Test Reply')}");`, '  exit;'];
  }
  return [
    '  record_route();',
    ...(route.appendHeaders ?? []).map((h) => `  append_hf("${h.replace(/[\\\r\n]/g, '').replace(/"/g, '\\"')}\\r\\n");`),
    `  $du = "${relayUri(route.target)}";`,
    '  route(RELAY);',
  ];
}

/** The text of kamailio.cfg. */
export function buildKamailioCfg(o: KamailioCfgInput): string {
  const tls = o.tlsCfgPath !== undefined;
  const stream = o.listen.some((l) => l.proto !== 'udp');
  const lines = [
    '#!KAMAILIO',
    `debug=${LEVELS[o.logLevel]}`,
    'log_stderror=yes',
    'memdbg=5',
    'memlog=5',
    `children=${o.children}`,
    `tcp_children=${o.children}`,
    'auto_aliases=no',
    'dns=no',
    'rev_dns=no',
    'dns_try_naptr=no',
    'dns_srv_lb=no',
    'use_dns_cache=no',
    'use_dns_failover=no',
    'tcp_connect_timeout=3',
    `disable_tcp=${stream ? 'no' : 'yes'}`,
    `enable_tls=${tls ? 'yes' : 'no'}`,
    'server_header="Server: trunkgate-test-kamailio"',
    'user_agent_header="User-Agent: trunkgate-test-kamailio"',
    ...o.listen.map((l) => `listen=${l.proto}:${hostOf(l.host)}:${l.port}`),
    `mpath="${o.moduleDir}"`,
    ...(tls ? ['loadmodule "tls.so"'] : []),
    'loadmodule "tm.so"',
    'loadmodule "tmx.so"',
    'loadmodule "sl.so"',
    'loadmodule "rr.so"',
    'loadmodule "pv.so"',
    'loadmodule "xlog.so"',
    'loadmodule "maxfwd.so"',
    'loadmodule "siputils.so"',
    ...(o.route.kind === 'relay' && (o.route.appendHeaders?.length ?? 0) > 0 ? ['loadmodule "textops.so"'] : []),
    ...(o.route.kind === 'registrar' ? [
      'loadmodule "usrloc.so"', 'loadmodule "registrar.so"', 'loadmodule "auth.so"', 'modparam("usrloc", "db_mode", 0)',
      ...(o.route.minExpires !== undefined ? [`modparam("registrar", "min_expires", ${o.route.minExpires})`] : []),
      ...(o.route.usePath === true ? ['modparam("registrar", "use_path", 1)', 'modparam("registrar", "path_mode", 0)'] : []),
      ...(o.route.ctlSocket !== undefined ? ['loadmodule "ctl.so"', `modparam("ctl", "binrpc", "unix:${quoted(o.route.ctlSocket)}")`] : []),
    ] : []),
    ...(o.route.kind === 'dispatcher' ? dispatcherModule(o.route, o.dispatcherListPath ?? 'dispatcher.list') : []),
    ...(tls ? [`modparam("tls", "config", "${o.tlsCfgPath}")`, 'modparam("tls", "xavp_cfg", "tls")'] : []),
    `modparam("tm", "fr_timer", ${o.frTimerMs})`,
    `modparam("tm", "fr_inv_timer", ${o.frInvTimerMs})`,
    'modparam("rr", "enable_double_rr", 1)',
    '',
    'request_route {',
    '  route(LOG);',
    '  if (!mf_process_maxfwd_header("10")) {',
    '    sl_send_reply("483", "Too Many Hops");',
    '    exit;',
    '  }',
    '  if (method == "CANCEL") {',
    '    if (t_check_trans()) route(RELAY);',
    '    exit;',
    '  }',
    '  if (has_totag()) {',
    '    if (loose_route()) route(RELAY);',
    '    if (method == "ACK") {',
    '      if (t_check_trans()) t_relay();',
    '      exit;',
    '    }',
    '    sl_send_reply("404", "Not Here");',
    '    exit;',
    '  }',
    '  t_check_trans();',
    ...initialRequest(o.route, tls),
    '}',
    '',
    'route[RELAY] {',
    ...(tls && o.sendServerName ? [`  $xavp(tls=>server_name) = "${quoted(o.sendServerName)}";`] : []),
    '  if (method == "INVITE") t_on_failure("FAILED");',
    '  if (!t_relay()) {',
    '    xlog("L_NOTICE", "tg-relay-failure method=$rm du=$du reason=t_relay\\n");',
    '    sl_reply_error();',
    '  }',
    '  exit;',
    '}',
    '',
    'route[LOG] {',
    // The $tls_* variables exist only with tls.so loaded.
    ...(tls ? [
      '  if (proto == TLS) {',
      '    xlog("L_NOTICE", "tg-request method=$rm proto=tls src=$si:$sp dst=$Ri:$Rp callid=$ci sni=$tls_peer_server_name verified=$tls_peer_verified peer_cn=$tls_peer_subject_cn version=$tls_version cipher=$tls_cipher_info\\n");',
      '    return;',
      '  }',
    ] : []),
    '  xlog("L_NOTICE", "tg-request method=$rm proto=$pr src=$si:$sp dst=$Ri:$Rp callid=$ci\\n");',
    '}',
    '',
    // Replies that came over TLS: the serial of the certificate the connection they arrived on presented, so
    // a test can tell which certificate a server showed on each connection (the $tls_* variables need tls.so).
    ...(tls ? [
      'onreply_route {',
      '  if (proto == TLS) {',
      '    xlog("L_NOTICE", "tg-reply status=$rs proto=tls src=$si:$sp callid=$ci peer_serial=$tls_peer_serial peer_cn=$tls_peer_subject_cn cipher=$tls_cipher_info\\n");',
      '  }',
      '}',
      '',
    ] : []),
    'failure_route[FAILED] {',
    '  xlog("L_NOTICE", "tg-relay-failure method=$rm du=$du reason=$T_reply_code\\n");',
    '}',
    '',
    ...(o.route.kind === 'dispatcher' ? dispatcherFailureRoute() : []),
  ];
  return lines.join('\n');
}
