/**
 * kamailio as the load balancer in front of several gateways (dispatcher module): destinations in set 1, probed
 * with OPTIONS every `pingIntervalSeconds`, chosen round-robin (algorithm 4), and on a 5xx, a 408 or no answer the
 * destination is marked and the call tried on the next one (ds_next_dst). With `identityHeader`, the names of a
 * TLS caller's verified certificate go to the gateways in that header (any copy the caller sent is removed first).
 */
import type { KamailioRelayTarget } from './kamailio-cfg.js';

export interface KamailioDispatcherRoute {
  kind: 'dispatcher';
  destinations: KamailioRelayTarget[];
  pingIntervalSeconds: number;
  identityHeader?: string;
}

export function dispatcherList(route: KamailioDispatcherRoute): string {
  return route.destinations.map((d) => `1 sip:${d.host}:${d.port};transport=${d.transport}\n`).join('');
}

export function dispatcherModule(route: KamailioDispatcherRoute, listPath: string): string[] {
  return [
    'loadmodule "dispatcher.so"',
    'loadmodule "textops.so"',
    `modparam("dispatcher", "list_file", "${listPath}")`,
    `modparam("dispatcher", "ds_ping_interval", ${route.pingIntervalSeconds})`,
    'modparam("dispatcher", "ds_ping_from", "sip:dispatcher@127.0.0.1")',
    // Probe every destination, also the active ones, so one that stops answering is seen without a call failing.
    'modparam("dispatcher", "ds_probing_mode", 1)',
    'modparam("dispatcher", "ds_probing_threshold", 1)',
    'modparam("dispatcher", "ds_inactive_threshold", 1)',
    // flags 2: keep the other destinations in an xavp for ds_next_dst.
    'modparam("dispatcher", "flags", 2)',
  ];
}

export function dispatcherRequest(route: KamailioDispatcherRoute, tls: boolean): string[] {
  const h = route.identityHeader?.replace(/[^A-Za-z0-9-]/g, '');
  return [
    '  record_route();',
    ...(h ? [
      `  remove_hf("${h}");`,
      ...(tls ? [
        '  if (proto == TLS && $tls_peer_verified == 1) {',
        `    if ($tls_peer_san_hostname != $null) append_hf("${h}: $tls_peer_san_hostname\\r\\n");`,
        `    else append_hf("${h}: $tls_peer_subject_cn\\r\\n");`,
        '  }',
      ] : []),
    ] : []),
    '  if (!ds_select_dst("1", "4")) {',
    '    sl_send_reply("503", "No Gateway");',
    '    exit;',
    '  }',
    // One line per destination a new request is sent to (here and after ds_next_dst), for tests to follow calls.
    '  xlog("L_NOTICE", "tg-ds-relay method=$rm du=$du callid=$ci\\n");',
    '  t_on_failure("DSFAIL");',
    '  if (!t_relay()) sl_reply_error();',
    '  exit;',
  ];
}

export function dispatcherFailureRoute(): string[] {
  return [
    'failure_route[DSFAIL] {',
    '  if (t_is_canceled()) exit;',
    '  xlog("L_NOTICE", "tg-relay-failure method=$rm du=$du reason=$T_reply_code\\n");',
    '  if (t_check_status("5[0-9][0-9]|408") || (t_branch_timeout() && !t_branch_replied())) {',
    '    ds_mark_dst("ip");',
    '    if (ds_next_dst()) {',
    '      xlog("L_NOTICE", "tg-ds-relay method=$rm du=$du callid=$ci\\n");',
    '      t_on_failure("DSFAIL");',
    '      t_relay();',
    '    }',
    '  }',
    '}',
    '',
    // One line each time the probes take a destination out or put it back, for tests to wait on.
    'event_route[dispatcher:dst-down] {',
    '  xlog("L_NOTICE", "tg-ds-down uri=$rU@$rd:$rp\\n");',
    '}',
    '',
    'event_route[dispatcher:dst-up] {',
    '  xlog("L_NOTICE", "tg-ds-up uri=$rU@$rd:$rp\\n");',
    '}',
    '',
  ];
}
