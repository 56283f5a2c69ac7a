#!/usr/bin/env bash
# Makes sure the third-party peers the interop tests need are present.
# Installs them with apt-get when running as root; otherwise stops and names the command.
set -euo pipefail
need=()
command -v sipp >/dev/null 2>&1 || need+=(sip-tester)
command -v kamailio >/dev/null 2>&1 || need+=(kamailio)
if command -v kamailio >/dev/null 2>&1; then
  libdir=$(dirname "$(dpkg -L kamailio 2>/dev/null | grep -m1 '/modules/tm.so$' || echo /usr/lib/x86_64-linux-gnu/kamailio/modules/tm.so)")
  [ -f "$libdir/tls.so" ] || need+=(kamailio-tls-modules)
else
  need+=(kamailio-tls-modules)
fi
command -v openssl >/dev/null 2>&1 || need+=(openssl)
# The CDR tests start their own PostgreSQL cluster with initdb and pg_ctl (not on PATH in Debian's layout).
compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || need+=(postgresql)
command -v runuser >/dev/null 2>&1 || need+=(util-linux)
# The media tests start their own rtpengine in user space (test/support/rtpengine.ts).
command -v rtpengine >/dev/null 2>&1 || need+=(rtpengine-daemon)
# The carrier SRTP call ends at Debian's baresip (test/load/rtpengine/carrier-srtp-baresip.test.ts).
command -v baresip >/dev/null 2>&1 || need+=(baresip)
# docker-compose.yml is checked by Debian's docker-compose (its config command needs no Docker engine; the engine it
# recommends is left out).
if ! command -v docker-compose >/dev/null 2>&1; then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    apt-get install -y --no-install-recommends docker-compose >/dev/null 2>&1 || { apt-get update >/dev/null 2>&1 && apt-get install -y --no-install-recommends docker-compose; }
  else
    echo "missing: docker-compose; run: apt-get install -y --no-install-recommends docker-compose" >&2
    exit 1
  fi
fi
# The web console's test drives Debian's chromium through playwright-core (test/load/console).
[ -x /usr/bin/chromium ] || need+=(chromium)
if [ ${#need[@]} -eq 0 ]; then exit 0; fi
cmd="apt-get install -y ${need[*]}"
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "ensure-peers: installing missing test peers: ${need[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y "${need[@]}" >/dev/null 2>&1 || { apt-get update >/dev/null 2>&1 && apt-get install -y "${need[@]}"; }
  # rtpengine-daemon's package enables a system service: the tests run their own instances only.
  if [[ " ${need[*]} " == *" rtpengine-daemon "* ]]; then systemctl disable --now rtpengine-daemon >/dev/null 2>&1 || true; fi
  exit 0
fi
echo "ensure-peers: the interop tests need ${need[*]}; run as root: $cmd" >&2
exit 1
