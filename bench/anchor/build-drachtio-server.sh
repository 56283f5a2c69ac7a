#!/usr/bin/env bash
# Builds drachtio-server from source into a scratch folder, for the bench's anchor target (drachtio-anchor).
# Nothing it fetches or builds is part of this repository: the default folder, .tmp/anchor/, is git-ignored.
#
#   bash bench/anchor/build-drachtio-server.sh
#
# Environment:
#   ANCHOR_DIR           where to check out and build (default: <repo>/.tmp/anchor)
#   DRACHTIO_SRC_MIRROR  a folder of bare mirrors named owner+name/repo (default: /work/.mirror); a repository
#                        missing there is cloned from https://github.com/owner/name instead
#   DRACHTIO_REF         the drachtio-server commit, tag or branch to build (default: the mirror's HEAD)
#   BUILD_JOBS           make -j (default 2); the build runs under nice -n 19
#
# The result is $ANCHOR_DIR/bin/drachtio; when it exists the script does nothing (delete it to build again).
set -euo pipefail

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
ANCHOR_DIR=${ANCHOR_DIR:-$repo_root/.tmp/anchor}
MIRROR=${DRACHTIO_SRC_MIRROR:-/work/.mirror}
JOBS=${BUILD_JOBS:-2}
SRC=$ANCHOR_DIR/drachtio-server
BIN=$ANCHOR_DIR/bin/drachtio

say() { printf '[build-drachtio-server] %s\n' "$*" >&2; }
rel() { local p=${1#"$SRC"}; p=${p#/}; echo "${p:-drachtio-server}"; }

if [[ -x $BIN ]]; then
  say "already built: $BIN ($("$BIN" --version 2>/dev/null || echo 'version unknown'))"
  exit 0
fi

# --- build dependencies (Debian 12 package names; the same set drachtio-server's Dockerfile installs) ---------
packages=(build-essential cmake git autoconf automake libtool libtool-bin pkg-config libssl-dev
  libcurl4-openssl-dev zlib1g-dev libgoogle-perftools-dev
  libboost-dev libboost-thread-dev libboost-system-dev libboost-log-dev libboost-filesystem-dev)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]} > 0)); then
  say "installing build dependencies: ${missing[*]}"
  sudo=()
  if [[ $(id -u) -ne 0 ]]; then
    command -v sudo >/dev/null || { say "not root and no sudo: install ${missing[*]} first"; exit 1; }
    sudo=(sudo)
  fi
  "${sudo[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# --- sources -------------------------------------------------------------------------------------------------
# source_of https://github.com/owner/name(.git) → the bare mirror when there is one, else the URL itself
source_of() {
  local url=$1 slug
  slug=${url#https://github.com/}
  slug=${slug%.git}
  if [[ -d $MIRROR/${slug/\//+}/repo ]]; then
    echo "$MIRROR/${slug/\//+}/repo"
  else
    say "no mirror of $slug under $MIRROR: cloning $url"
    echo "$url"
  fi
}

# Submodules only the upstream tests need.
skip_submodule() { [[ $1 == */googletest ]]; }

# checkout_at SRC DEST COMMIT: DEST becomes a clone of SRC with COMMIT checked out; COMMIT falls back to SRC's
# newest when SRC lacks it. A mirror may hold a commit without some of its largest files (images, amalgamated
# sources the build does not use): those are left out of the checkout by a sparse pattern, and named.
checkout_at() {
  local src=$1 dest=$2 commit=$3 absent
  rm -rf "$dest"
  git clone -q --no-checkout "$src" "$dest"
  if ! git -C "$dest" cat-file -e "$commit^{commit}" 2>/dev/null; then
    say "$(rel "$dest"): commit $commit is not in $src; using its newest, $(git -C "$dest" rev-parse --short HEAD)"
    commit=HEAD
  fi
  absent=$(git -C "$dest" ls-tree -r "$commit" | awk '$2 == "blob" {print $3}' \
    | git -C "$dest" cat-file --batch-check 2>/dev/null | awk '$2 == "missing" {print $1}' || true)
  if [[ -n $absent ]]; then
    local patterns=('/*') oid path
    for oid in $absent; do
      path=$(git -C "$dest" ls-tree -r "$commit" | awk -v o="$oid" '$3 == o {sub(/^[^\t]*\t/, ""); print}')
      say "$(rel "$dest"): $path is not in the mirror; left out"
      patterns+=("!/$path")
    done
    # (git complains here about the absent files of the branch checked out by default; the patterns still apply)
    git -C "$dest" sparse-checkout set --no-cone "${patterns[@]}" 2>/dev/null
  fi
  git -C "$dest" -c advice.detachedHead=false checkout -q "$commit"
  touch "$dest/.git/anchor-checkout-done"
}

# wire_submodules DIR: each submodule of DIR, from its mirror, at the commit DIR pins; then the same inside it.
wire_submodules() {
  local dir=$1 key path url pinned
  [[ -f $dir/.gitmodules ]] || return 0
  while read -r key path; do
    if skip_submodule "$path"; then say "skipping $path (tests only)"; continue; fi
    if [[ ! -f $dir/$path/.git/anchor-checkout-done ]]; then
      url=$(git config -f "$dir/.gitmodules" "${key%.path}.url")
      pinned=$(git -C "$dir" ls-tree HEAD -- "$path" | awk '{print $3}')
      if [[ -z $pinned ]]; then say "skipping $path (in .gitmodules, not in the tree)"; continue; fi
      checkout_at "$(source_of "$url")" "$dir/$path" "$pinned"
      say "$(rel "$dir/$path") at $(git -C "$dir/$path" log -1 --format='%h %cs')"
    fi
    wire_submodules "$dir/$path"
  done < <(git config -f "$dir/.gitmodules" --get-regexp '^submodule\..*\.path$')
}

mkdir -p "$ANCHOR_DIR/bin"
if [[ ! -f $SRC/.git/anchor-checkout-done ]]; then
  checkout_at "$(source_of https://github.com/drachtio/drachtio-server.git)" "$SRC" "${DRACHTIO_REF:-HEAD}"
fi
say "drachtio-server at $(git -C "$SRC" log -1 --format='%h %cs %s')"
wire_submodules "$SRC"

# --- build ---------------------------------------------------------------------------------------------------
make_=(nice -n 19 make -j"$JOBS")
cd "$SRC"

# prometheus-cpp first, without its tests (their googletest is not needed) and with only the libraries
# drachtio links (core, pull); drachtio's own make rule then finds them built and skips it.
prom=deps/prometheus-cpp
if [[ ! -f $prom/build/lib/libprometheus-cpp-core.a || ! -f $prom/build/lib/libprometheus-cpp-pull.a ]]; then
  say "building prometheus-cpp"
  mkdir -p "$prom/build"
  (cd "$prom/build" && cmake .. -DBUILD_SHARED_LIBS=OFF -DENABLE_TESTING=OFF -DENABLE_PUSH=OFF \
    -DENABLE_COMPRESSION=OFF -DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_LIBDIR=lib -DCMAKE_INSTALL_PREFIX="$(pwd)" >/dev/null \
    && "${make_[@]}" >/dev/null && make install >/dev/null)
fi

if [[ ! -x configure ]]; then
  say "autogen"
  ./autogen.sh >/dev/null 2>&1
fi
mkdir -p build
cd build
if [[ ! -f Makefile ]]; then
  say "configure (tcmalloc, -O2, NDEBUG: the flags of drachtio-server's Dockerfile)"
  ../configure --enable-tcmalloc=yes CPPFLAGS='-DNDEBUG' CXXFLAGS='-O2' >/dev/null
fi
say "make (sofia-sip, jansson, hiredis, then drachtio): ${make_[*]}"
"${make_[@]}"
cp drachtio "$BIN"
say "built $BIN ($("$BIN" --version 2>/dev/null || echo 'version unknown'))"
