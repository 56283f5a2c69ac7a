#!/usr/bin/env bash
# drachtio-srf's own test suite, as shipped in node_modules/drachtio-srf/test, on loopback against trunkgate's
# engine (no docker; local sipp). Ends with "N passed, M failed"; non-zero exit on any failure or shortfall.
#   scripts/srf-suite.sh              unit (mocha) + integration (tape) files
#   scripts/srf-suite.sh --unit-only  only the mocha unit tests (need no server)
#   scripts/srf-suite.sh --keep       keep the rewritten copy of the suite for inspection
#   scripts/srf-suite.sh --only=uas,b2b   only those files (names: unit b2b reinvite uac uas proxy utils refer)
set -euo pipefail
cd "$(dirname "$0")/.."
command -v sipp >/dev/null 2>&1 || { echo "srf-suite: sipp is missing: apt-get install -y sip-tester" >&2; exit 2; }
exec node scripts/srf-suite/run.mjs "$@"
