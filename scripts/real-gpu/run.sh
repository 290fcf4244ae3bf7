#!/usr/bin/env bash
# scripts/real-gpu/run.sh — the benchmarks on a real GPU, in one go, on a Linux x86-64 machine
# with an NVIDIA GPU and its driver but no package registry (see scripts/real-gpu/README.md).
#
#   scripts/real-gpu/run.sh [--pack DIR] [--out DIR] [--prefix DIR] [--flags "…"]
#                           [--allow-software] [--probe-only] [--skip-index] [-- BENCH ARGS…]
#
# Needs, in the repo root it is run from (it cd's there itself):
#   - Node >= 20 on the PATH, or the pack's runtime/node.tar.* (prepare.sh --with-node)
#   - node_modules from a machine that ran `npm ci` (copied), or the pack's
#     runtime/node_modules.tar.* (prepare.sh --with-node-modules)
#   - nothing else for the fixture models the benchmarks load: the bench builds the three it
#     needs in seconds from node_modules (or copy test/fixtures/models/ after `npm run fixtures`).
#     The `dtypes` section (where bench/run.ts has it) needs the model zoo, test/fixtures/zoo/,
#     built with PyPI's torch: without it, this script adds `--skip dtypes`
#   - the pack made by scripts/real-gpu/prepare.sh (default ./.gpu-pack): Debian's Chromium and
#     its libraries as .debs, or that pack cut into part-NN folders (--split-mib), joined here
#   - glibc >= 2.36 (Debian 12, Ubuntu 22.10 or later): the packed libraries are bookworm's
#
# What it does:
#   1. joins a split pack; unpacks the runtime parts that are missing here
#   2. unpacks every .deb with `dpkg -x` into a private prefix (default /tmp/webgpu-embed-gpu;
#      never into /), and writes a wrapper that starts that Chromium with LD_LIBRARY_PATH set to
#      the prefix's libraries and the NVIDIA driver's folder (only Chromium sees it)
#   3. finds NVIDIA's Vulkan ICD (nvidia_icd.json in /usr/local/nvidia/share/vulkan/icd.d,
#      /usr/share/vulkan/icd.d, /etc/vulkan/icd.d, /usr/local/share/vulkan/icd.d; or writes one
#      for a libGLX_nvidia.so.0 it finds) and exports VK_DRIVER_FILES / VK_ICD_FILENAMES
#   4. prints `nvidia-smi -L` where there is nvidia-smi
#   5. scripts/real-gpu/probe-adapter.ts through the benchmarks' own harness: prints the WebGPU
#      adapter (vendor, architecture, device, description), isFallbackAdapter, features and
#      limits, runs a compute dispatch, saves chrome://gpu; EXITS NON-ZERO, before anything is
#      timed, when there is no adapter, or it is a fallback adapter, or SwiftShader / llvmpipe /
#      lavapipe by name (exit 2 software, 3 none, 4 the dispatch failed)
#   6. `npm run bench -- --large` (or the BENCH ARGS after --), then `npm run bench:index`
#   7. scripts/real-gpu/summarize.ts: MiniLM at B=128 in texts/s and as a fraction of the GPU's
#      fp16 peak, the index's GPU top-k against the JS loop
#
# Output ($OUT if set, else ./gpu-results; --out DIR overrides): run.log (everything printed),
# summary.md, adapter.json, chrome-gpu.txt, and results.tar.gz (the bench's JSON/SVG/table, the
# index bench's JSON, each step's log, nvidia-smi's answer). Five files, so it fits the device
# tool's limits on what comes back. On a hardware adapter the bench also writes its table into
# README.md between <!-- bench:start --> and <!-- bench:end --> and its files into bench/results/.
#
#   --allow-software  do not refuse a software adapter: run the probe, then only
#                     `npm run bench -- --quick --only throughput`, to prove the path (unpacked
#                     Chromium → harness → bench) on a machine without a GPU. README.md's table
#                     and bench/results are put back as they were; the files go to the output.
#   --probe-only      stop after the probe (its exit status is the script's)
#   --skip-index      no `npm run bench:index`
#   --flags "…"       Chromium flags instead of the default (below); also WEBGPU_EMBED_CHROMIUM_ARGS
#   --prefix DIR      where the debs are unpacked (re-used while the pack is unchanged)
#
# Chromium flags. The harness always passes --enable-unsafe-webgpu --no-sandbox (and a few
# quiet ones); this script adds, for the NVIDIA path:
#   --enable-features=Vulkan   Vulkan in the GPU process
#   --use-angle=vulkan         GL through ANGLE on Vulkan (headless otherwise picks ANGLE on
#                              SwiftShader, and WebGPU is then "software only")
#   --use-vulkan=native        the system's Vulkan (loader + ICD), not SwiftShader's
#   --disable-vulkan-surface   no VK_KHR_surface needed (there is no display): without it ANGLE
#                              fails to start on Vulkan and the GPU process falls back
#   --ignore-gpu-blocklist     no blocklist entry can turn the GPU off
#   --enable-webgpu-developer-features
#                              adapter.info gives the device and description (the card's name,
#                              which the bench records), not only vendor and architecture
# On a machine without a GPU these flags still give SwiftShader (so the probe runs and refuses);
# with VK_ICD_FILENAMES at Chromium's SwiftShader ICD, chrome://gpu shows "Vulkan: Enabled" and
# ANGLE on Vulkan, i.e. the ICD variable reaches the GPU process.
set -uo pipefail

REPO=$(cd "$(dirname "$0")/../.." && pwd)
cd "$REPO" || exit 1

PACK="$REPO/.gpu-pack"
RESULTS=${OUT:-$REPO/gpu-results}
PREFIX=${WEBGPU_EMBED_PREFIX:-/tmp/webgpu-embed-gpu}
DEFAULT_FLAGS="--enable-features=Vulkan --use-angle=vulkan --use-vulkan=native --disable-vulkan-surface --ignore-gpu-blocklist --enable-webgpu-developer-features"
FLAGS=${WEBGPU_EMBED_CHROMIUM_ARGS:-$DEFAULT_FLAGS}
ALLOW_SOFTWARE=0 PROBE_ONLY=0 SKIP_INDEX=0
BENCH_ARGS=(--large)
while (($#)); do
  case $1 in
    --pack) PACK=$(cd "$2" && pwd) || exit 64; shift 2 ;;
    --out) mkdir -p "$2" && RESULTS=$(cd "$2" && pwd); shift 2 ;;
    --prefix) PREFIX=$2; shift 2 ;;
    --flags) FLAGS=$2; shift 2 ;;
    --allow-software) ALLOW_SOFTWARE=1; shift ;;
    --probe-only) PROBE_ONLY=1; shift ;;
    --skip-index) SKIP_INDEX=1; shift ;;
    --) shift; BENCH_ARGS=("$@"); break ;;
    -h|--help) sed -n '2,/^set -uo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "run: unknown argument '$1' (see --help)" >&2; exit 64 ;;
  esac
done

mkdir -p "$RESULTS"
if [ "$RESULTS" = "$REPO/gpu-results" ]; then # keep the default output folder out of git
  excl=$(git rev-parse --git-path info/exclude 2>/dev/null) && { grep -qxF /gpu-results/ "$excl" 2>/dev/null || echo /gpu-results/ >>"$excl"; } 2>/dev/null
fi
WORK=$(mktemp -d "${TMPDIR:-/tmp}/webgpu-embed-gpu-run.XXXXXX")
exec > >(tee "$RESULTS/run.log") 2>&1
T0=$(date +%s)
say() { printf '[%5ss] run: %s\n' "$(($(date +%s) - T0))" "$*"; }

# Everything worth keeping is collected in $WORK and packed into $RESULTS on the way out.
finish() {
  local code=$1
  for f in adapter.json chrome-gpu.txt summary.md; do [ -f "$WORK/$f" ] && cp "$WORK/$f" "$RESULTS/$f"; done
  tar -C "$WORK" -czf "$RESULTS/results.tar.gz" . 2>/dev/null
  say "output in $RESULTS: $(cd "$RESULTS" && ls | tr '\n' ' ')"
  say "exit $code after $(($(date +%s) - T0)) s"
  rm -rf "$WORK"
  exit "$code"
}
die() { say "ERROR: $*"; finish "${2:-1}"; }

say "repo $REPO; pack $PACK; prefix $PREFIX; output $RESULTS"
say "host $(uname -n), $(uname -srm); $(nproc) cores; $(. /etc/os-release 2>/dev/null; echo "${PRETTY_NAME:-unknown OS}")"

# ---------------------------------------------------------------- 1. the pack

untar() { # untar FILE DIR: tar, or Python where tar lacks xz
  mkdir -p "$2"
  tar -xf "$1" -C "$2" 2>/dev/null ||
    python3 -c 'import sys, tarfile; tarfile.open(sys.argv[1]).extractall(sys.argv[2])' "$1" "$2" ||
    die "could not unpack $1"
}

if [ ! -d "$PACK/debs" ] && compgen -G "$PACK/part-*/pack.tar.*" >/dev/null; then
  parts=$(ls -d "$PACK"/part-* | wc -l)
  want=$(head -n1 "$PACK/part-01/SHA256" 2>/dev/null | cut -d' ' -f1)
  say "joining $parts pack parts"
  mkdir -p "$(dirname "$PREFIX")"
  cat "$PACK"/part-*/pack.tar.[0-9][0-9] >"$PREFIX.pack.tar" || die "could not join the parts into $PREFIX.pack.tar"
  got=$(sha256sum "$PREFIX.pack.tar" | cut -d' ' -f1)
  [ "$got" = "$want" ] || die "the joined pack's checksum differs ($got, want $want): a part is missing or incomplete ($(cd "$PACK" && ls -d part-* | tr '\n' ' '))"
  untar "$PREFIX.pack.tar" "$PACK" && rm -f "$PREFIX.pack.tar"
fi
compgen -G "$PACK/debs/chromium_*.deb" >/dev/null || die "no pack at $PACK (debs/chromium_*.deb): make one with scripts/real-gpu/prepare.sh on a machine with Debian's archive, and copy it here (or --pack DIR)"
say "pack: $(sed -n 2p "$PACK/MANIFEST" | sed 's/^# //'), $(ls "$PACK"/debs/*.deb | wc -l) debs"

node_major() { node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }
if [ "$(node_major)" -lt 20 ] && compgen -G "$PACK/runtime/node.tar.*" >/dev/null; then
  [ -x "$PREFIX/node/bin/node" ] || { say "unpacking the pack's Node"; untar "$(ls "$PACK"/runtime/node.tar.*)" "$PREFIX/node"; }
  [ -d "$PREFIX/node/lib/node_modules/npm" ] && ln -sf ../lib/node_modules/npm/bin/npm-cli.js "$PREFIX/node/bin/npm" && ln -sf ../lib/node_modules/npm/bin/npx-cli.js "$PREFIX/node/bin/npx"
  export PATH="$PREFIX/node/bin:$PATH"
fi
[ "$(node_major)" -ge 20 ] || die "needs Node >= 20 (found: $(node --version 2>/dev/null || echo none)); or pack one with prepare.sh --with-node"
command -v npm >/dev/null || die "node is here but npm is not: copy npm with Node, or pack Node with prepare.sh --with-node"
if [ ! -d node_modules/playwright-core ] && compgen -G "$PACK/runtime/node_modules.tar.*" >/dev/null; then
  say "unpacking the pack's node_modules"; untar "$(ls "$PACK"/runtime/node_modules.tar.*)" "$REPO"
fi
for m in playwright-core tsx vite onnxruntime-web; do
  [ -d "node_modules/$m" ] || die "node_modules/$m is missing: copy node_modules from a machine that ran npm ci (or prepare.sh --with-node-modules)"
done
say "node $(node --version), npm $(npm --version 2>/dev/null)"

# ---------------------------------------------------------------- 2. unpack Chromium

glibc=$(getconf GNU_LIBC_VERSION 2>/dev/null | awk '{print $2}')
if [ -n "$glibc" ] && [ "$(printf '%s\n2.36\n' "$glibc" | sort -V | head -n1)" != 2.36 ]; then
  die "glibc $glibc is older than 2.36: the packed libraries (Debian 12) need 2.36 or later"
fi

debx() { # debx DEB DIR: dpkg -x, or a Python reader of the .deb (ar + data.tar.*) where dpkg is missing
  if command -v dpkg-deb >/dev/null; then dpkg-deb -x "$1" "$2"; return; fi
  python3 - "$1" "$2" <<'PY'
import io, sys, tarfile
data = open(sys.argv[1], 'rb').read()
assert data[:8] == b'!<arch>\n', 'not a .deb'
i = 8
while i < len(data):
    name = data[i:i + 16].decode().strip().rstrip('/'); size = int(data[i + 48:i + 58])
    body = data[i + 60:i + 60 + size]; i += 60 + size + (size & 1)
    if name.startswith('data.tar'):
        tarfile.open(fileobj=io.BytesIO(body)).extractall(sys.argv[2]); break
else:
    sys.exit('no data.tar in ' + sys.argv[1])
PY
}

ROOT="$PREFIX/root"
stamp=$(cat "$PACK/MANIFEST" | sha256sum | cut -d' ' -f1)
if [ "$(cat "$PREFIX/.stamp" 2>/dev/null)" != "$stamp" ] || [ ! -x "$ROOT/usr/lib/chromium/chromium" ]; then
  say "unpacking $(ls "$PACK"/debs/*.deb | wc -l) debs into $ROOT (dpkg -x)"
  rm -rf "$ROOT" "$PREFIX/fallback" && mkdir -p "$ROOT"
  for f in "$PACK"/debs/*.deb; do debx "$f" "$ROOT" || die "could not unpack $f"; done
  echo "$stamp" >"$PREFIX/.stamp"
fi
CHROME_BIN="$ROOT/usr/lib/chromium/chromium"
[ -x "$CHROME_BIN" ] || die "no $CHROME_BIN after unpacking"

LIBS="$ROOT/usr/lib/x86_64-linux-gnu:$ROOT/lib/x86_64-linux-gnu:$ROOT/usr/lib/chromium"
# bookworm's libstdc++ where the host's is older (GLIBCXX_3.4.30 is GCC 12's)
host_cxx=$(ldconfig -p 2>/dev/null | awk '/libstdc\+\+\.so\.6 .*x86-64/{print $NF; exit}')
if [ -z "$host_cxx" ] || ! grep -qa GLIBCXX_3.4.30 "$host_cxx"; then
  say "the host's libstdc++ (${host_cxx:-none}) is older than GCC 12's: using the pack's"
  mkdir -p "$PREFIX/fallback"
  for f in "$PACK"/debs/fallback/*.deb; do debx "$f" "$PREFIX/fallback"; done
  LIBS="$LIBS:$PREFIX/fallback/usr/lib/x86_64-linux-gnu:$PREFIX/fallback/lib/x86_64-linux-gnu"
fi

# ---------------------------------------------------------------- 3. the NVIDIA Vulkan driver

ICD=${VK_DRIVER_FILES:-${VK_ICD_FILENAMES:-}}
if [ -n "$ICD" ]; then
  say "Vulkan ICD from the environment: $ICD"
else
  for d in /usr/local/nvidia/share/vulkan/icd.d /usr/share/vulkan/icd.d /etc/vulkan/icd.d /usr/local/share/vulkan/icd.d; do
    for f in "$d"/nvidia_icd*.json; do [ -f "$f" ] && { ICD=$f; break 2; }; done
  done
  if [ -z "$ICD" ]; then
    glx=$(ldconfig -p 2>/dev/null | awk '/libGLX_nvidia\.so\.0 .*x86-64/{print $NF; exit}')
    for c in /usr/local/nvidia/lib64/libGLX_nvidia.so.0 /usr/lib/x86_64-linux-gnu/libGLX_nvidia.so.0 /usr/lib64/libGLX_nvidia.so.0; do
      [ -z "$glx" ] && [ -e "$c" ] && glx=$c
    done
    if [ -n "$glx" ]; then
      ICD="$PREFIX/nvidia_icd.json"
      printf '{ "file_format_version": "1.0.0", "ICD": { "library_path": "%s", "api_version": "1.3.0" } }\n' "$glx" >"$ICD"
      say "no nvidia_icd.json found; wrote $ICD for $glx"
    fi
  fi
  if [ -n "$ICD" ]; then
    export VK_DRIVER_FILES=$ICD VK_ICD_FILENAMES=$ICD
    say "Vulkan ICD: $ICD ($(tr -d '\n ' <"$ICD" | grep -o '"library_path":"[^"]*"'))"
  else
    say "WARNING: no NVIDIA Vulkan driver found (no nvidia_icd.json, no libGLX_nvidia.so.0): Chromium will only have SwiftShader"
  fi
fi
# the ICD's library (libGLX_nvidia.so.0) and its libnvidia-* neighbours must be found by dlopen
NV_LIBS=""
for d in /usr/local/nvidia/lib64 /usr/local/nvidia/lib; do [ -d "$d" ] && NV_LIBS="$NV_LIBS:$d"; done
if [ -n "$ICD" ] && [ -f "${ICD%%:*}" ]; then
  lp=$(tr -d '\n ' <"${ICD%%:*}" | sed -n 's/.*"library_path":"\([^"]*\)".*/\1/p')
  case $lp in /*) NV_LIBS="$NV_LIBS:$(dirname "$lp")" ;; esac
fi
for f in /usr/local/nvidia/share/glvnd/egl_vendor.d/10_nvidia.json /usr/share/glvnd/egl_vendor.d/10_nvidia.json; do
  [ -f "$f" ] && { export __EGL_VENDOR_LIBRARY_FILENAMES=$f; break; }
done

# ---------------------------------------------------------------- 4. the GPU, as the driver sees it

if command -v nvidia-smi >/dev/null; then
  nvidia-smi -L 2>&1 | tee "$WORK/nvidia-smi.txt"
  nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm,clocks.max.mem,power.limit --format=csv 2>&1 | tee -a "$WORK/nvidia-smi.txt"
  GPU_NAME=$(nvidia-smi --query-gpu=name --format=csv,noheader 2>/dev/null | head -n1)
else
  say "no nvidia-smi on the PATH"
  GPU_NAME=""
fi

# ---------------------------------------------------------------- 5. the wrapper, then the probe

WRAPPER="$PREFIX/chromium"
cat >"$PREFIX/fonts.conf" <<EOF
<?xml version="1.0"?>
<!DOCTYPE fontconfig SYSTEM "urn:fontconfig:fonts.dtd">
<fontconfig><dir>$ROOT/usr/share/fonts</dir><dir>/usr/share/fonts</dir><cachedir>$PREFIX/fontconfig-cache</cachedir></fontconfig>
EOF
cat >"$WRAPPER" <<EOF
#!/bin/sh
# written by scripts/real-gpu/run.sh: Debian's Chromium unpacked in $ROOT
export LD_LIBRARY_PATH="$LIBS$NV_LIBS\${LD_LIBRARY_PATH:+:\$LD_LIBRARY_PATH}"
export FONTCONFIG_FILE="$PREFIX/fonts.conf"
exec "$CHROME_BIN" "\$@"
EOF
chmod +x "$WRAPPER"
missing=$(LD_LIBRARY_PATH="$LIBS$NV_LIBS" ldd "$CHROME_BIN" 2>&1 | grep 'not found' | sort -u)
[ -z "$missing" ] || die "Chromium's libraries are not all there: $(echo "$missing" | tr '\n' ' ')"
version=$("$WRAPPER" --version 2>&1 | head -n1)
case $version in Chromium*) say "$version (unpacked: $WRAPPER)" ;; *) die "the unpacked Chromium does not start: $version" ;; esac

export WEBGPU_EMBED_CHROMIUM=$WRAPPER WEBGPU_EMBED_CHROMIUM_ARGS=$FLAGS
say "WEBGPU_EMBED_CHROMIUM=$WEBGPU_EMBED_CHROMIUM"
say "WEBGPU_EMBED_CHROMIUM_ARGS=$WEBGPU_EMBED_CHROMIUM_ARGS"

probe_args=(--json "$WORK/adapter.json" --gpu-page "$WORK/chrome-gpu.txt")
((ALLOW_SOFTWARE)) && probe_args+=(--allow-software)
say "probing the WebGPU adapter (nothing is timed before it answers)"
node_modules/.bin/tsx scripts/real-gpu/probe-adapter.ts "${probe_args[@]}" 2>&1 | tee "$WORK/probe.log"
rc=${PIPESTATUS[0]}
if [ "$rc" -ne 0 ]; then
  [ -f "$WORK/chrome-gpu.txt" ] && {
    say "chrome://gpu says:"
    grep -E '^(Vulkan|WebGPU|GL implementation parts|GL_RENDERER|GPU0)' "$WORK/chrome-gpu.txt" | sed 's/^/    /'
    sed -n '/^Log Messages/,$p' "$WORK/chrome-gpu.txt" | head -n 12 | cut -c1-240 | sed 's/^/    /'
  }
  case $rc in
    2) say "REFUSED: the only WebGPU adapter is a software rasterizer (SwiftShader / llvmpipe / lavapipe or a fallback adapter): no benchmark was run, nothing was timed. On a GPU machine: check the Vulkan ICD above, nvidia-smi, and chrome://gpu (chrome-gpu.txt). Without a GPU, --allow-software proves the path." ;;
    3) say "REFUSED: no WebGPU adapter at all: no benchmark was run." ;;
    4) say "REFUSED: the adapter failed a compute dispatch: no benchmark was run." ;;
    *) say "the probe failed (exit $rc): no benchmark was run." ;;
  esac
  finish "$rc"
fi
((PROBE_ONLY)) && { say "--probe-only: done"; finish 0; }

# ---------------------------------------------------------------- 6. the benchmarks

failed=0
run_step() { # run_step NAME CMD…: logs to $WORK/NAME.log, never stops the script
  local name=$1; shift
  say "$name: $*"
  "$@" 2>&1 | tee "$WORK/$name.log"
  local rc=${PIPESTATUS[0]}
  ((rc)) && { say "$name: FAILED (exit $rc)"; failed=1; }
  return 0
}
keep_outputs() { # copies the files a step says it wrote ("wrote FILE") into $WORK
  grep -o 'wrote [^ ,]*' "$WORK/$1.log" 2>/dev/null | cut -d' ' -f2 | while read -r f; do
    for g in "$f" "${f%.json}.svg" "${f%.json}.md"; do [ -f "$g" ] && cp "$g" "$WORK/"; done
  done
}

if ((ALLOW_SOFTWARE)); then
  # a software adapter's numbers are no one's GPU figures: README.md's table and bench/results
  # are put back afterwards (only the table between the markers: other edits to README.md stay)
  cp README.md "$WORK/README.before.md"
  mkdir -p "$WORK/results-before" && cp -a bench/results/. "$WORK/results-before/" 2>/dev/null
  run_step bench npm run bench -- --quick --only throughput
  keep_outputs bench
  node -e '
    const fs = require("fs"); const [before, now] = [process.argv[1], "README.md"].map((f) => fs.readFileSync(f, "utf8"));
    const re = /<!-- bench:start -->[\s\S]*?<!-- bench:end -->/; const old = before.match(re);
    if (old && re.test(now)) fs.writeFileSync("README.md", now.replace(re, () => old[0]));
  ' "$WORK/README.before.md"
  grep -o 'wrote [^ ,]*' "$WORK/bench.log" | cut -d' ' -f2 | while read -r f; do
    for g in "$f" "${f%.json}.svg" "${f%.json}.md"; do
      b=$(basename "$g")
      if [ -f "$WORK/results-before/$b" ]; then cp -p "$WORK/results-before/$b" "$g"; else rm -f "$g"; fi
    done
  done
  rm -rf "$WORK/results-before" "$WORK/README.before.md"
  say "software run: README.md's bench table and bench/results are as they were; this run's files are in the output"
else
  # the zoo cannot be built here (PyPI): without it the dtypes section would stop the whole bench
  if grep -q "'dtypes'" bench/run.ts && [ ! -f test/fixtures/zoo/manifest.json ] && [[ " ${BENCH_ARGS[*]} " != *" --only "* ]] && [[ " ${BENCH_ARGS[*]} " != *dtypes* ]]; then
    say "no model zoo (test/fixtures/zoo/): skipping the dtypes section"
    added=0
    for i in "${!BENCH_ARGS[@]}"; do # bench/run.ts reads the first --skip only: extend that one
      if [ "${BENCH_ARGS[$i]}" = --skip ] && [ $((i + 1)) -lt ${#BENCH_ARGS[@]} ]; then BENCH_ARGS[$((i + 1))]+=",dtypes"; added=1; break; fi
    done
    ((added)) || BENCH_ARGS+=(--skip dtypes)
  fi
  run_step bench npm run bench -- "${BENCH_ARGS[@]}"
  keep_outputs bench
  if ((SKIP_INDEX)); then
    say "--skip-index: no index bench"
  else
    run_step bench-index npm run bench:index -- --large
    keep_outputs bench-index
  fi
fi

# ---------------------------------------------------------------- 7. the summary

bench_json=$(grep -o 'wrote [^ ,]*\.json' "$WORK/bench.log" 2>/dev/null | tail -n1 | cut -d' ' -f2)
index_json=$(grep -o 'wrote [^ ,]*\.json' "$WORK/bench-index.log" 2>/dev/null | tail -n1 | cut -d' ' -f2)
sum_args=()
[ -n "$bench_json" ] && [ -f "$WORK/$(basename "$bench_json")" ] && sum_args+=(--bench "$WORK/$(basename "$bench_json")")
[ -n "$index_json" ] && [ -f "$WORK/$(basename "$index_json")" ] && sum_args+=(--index "$WORK/$(basename "$index_json")")
[ -n "$GPU_NAME" ] && sum_args+=(--gpu "$GPU_NAME")
node_modules/.bin/tsx scripts/real-gpu/summarize.ts "${sum_args[@]}" >"$WORK/summary.md" 2>"$WORK/summarize.err" || { say "summarize failed: $(cat "$WORK/summarize.err")"; failed=1; }
cat "$WORK/summary.md"
((failed)) && finish 1
finish 0
