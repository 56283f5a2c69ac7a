#!/usr/bin/env bash
# Builds Jazzer.js's native fuzzer (the C++ sources its npm package ships) against Debian's libFuzzer.
# The package's own install step downloads a prebuilt binary or an LLVM fork, neither of which this project's
# machines can fetch; Debian's libclang-rt (apt-get install g++ libclang-rt-14-dev) has the same libFuzzer.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
pkg="$here/../node_modules/@jazzer.js/fuzzer"
out="$pkg/build/Release/jazzerjs.node"
[ -f "$out" ] && [ "$out" -nt "$here/upstream-libfuzzer.cpp" ] && exit 0
arch="$(uname -m)"
lib="$(ls /usr/lib/llvm-*/lib/clang/*/lib/linux/libclang_rt.fuzzer_no_main-"$arch".a 2>/dev/null | sort -V | tail -1 || true)"
if [ -z "$lib" ]; then
  echo "fuzz: libFuzzer not found; install it with: apt-get install -y g++ libclang-rt-14-dev" >&2
  exit 1
fi
command -v g++ >/dev/null || { echo "fuzz: g++ not found; apt-get install -y g++" >&2; exit 1; }
nodeinc="$(dirname "$(dirname "$(readlink -f "$(command -v node)")")")/include/node"
[ -f "$nodeinc/node_api.h" ] || { echo "fuzz: Node's headers not found in $nodeinc" >&2; exit 1; }
mkdir -p "$(dirname "$out")"
echo "fuzz: building the Jazzer.js addon with $lib" >&2
g++ -std=c++17 -O2 -fPIC -shared -w -DNAPI_VERSION=4 -DNAPI_CPP_EXCEPTIONS -fexceptions \
  -I"$nodeinc" -I"$here/../node_modules/node-addon-api" -I"$here" -I"$pkg" \
  "$pkg"/*.cpp "$pkg"/shared/*.cpp "$here/upstream-libfuzzer.cpp" \
  -Wl,--whole-archive "$lib" -Wl,--no-whole-archive -o "$out.tmp"
mv "$out.tmp" "$out"
