#!/usr/bin/env bash
# npm run package → ringbuf-studio-<version>.vsix: the bundled extension, CLI and
# webview, libbpf headers (dist/include/bpf), the helper binaries (dist/helper/),
# the BPF templates, README and LICENSE. Installs into VS Code and code-server.
#   scripts/package.sh [--no-build] [--x86_64-only] [-o out.vsix]
# Both helpers (x86_64, aarch64) are required; the aarch64 cross toolchain comes from
# `bash helper/setup-aarch64.sh` (run by `scripts/setup.sh test`). --x86_64-only packages
# without the aarch64 helper (aarch64 targets then get a "no ringbuf-helper for aarch64" error).
set -euo pipefail
cd "$(dirname "$0")/.."

build=1
out=""
arches=(x86_64 aarch64)
while (($#)); do
  case "$1" in
    --no-build) build=0 ;;
    --x86_64-only) arches=(x86_64) ;;
    -o) out="$2"; shift ;;
    *) echo "package: unknown argument '$1' (use --no-build, --x86_64-only, -o FILE)" >&2; exit 2 ;;
  esac
  shift
done

log() { printf '\033[1mpackage:\033[0m %s\n' "$*"; }

name="$(node -p 'require("./package.json").name')"
version="$(node -p 'require("./package.json").version')"
out="${out:-$name-$version.vsix}"

if ((build)); then
  log "building bundles"
  node scripts/build.mjs
  log "building the helpers (${arches[*]})"
  make -s -C helper
  if [[ " ${arches[*]} " == *" aarch64 "* ]]; then
    command -v aarch64-linux-gnu-gcc >/dev/null || {
      echo "package: no aarch64 cross compiler: install it with 'bash helper/setup-aarch64.sh' (root, Debian multiarch), or package with --x86_64-only" >&2
      exit 1
    }
    make -s -C helper aarch64
  fi
fi

# `make -C helper` puts the static helpers into dist/helper/ringbuf-helper-<arch>.
[[ -f dist/extension.js ]] || { echo "package: dist/extension.js missing: run node scripts/build.mjs" >&2; exit 1; }
shopt -s nullglob
helpers=(dist/helper/ringbuf-helper-*)
agents=(dist/helper/ringbuf-agent-*) # the VM targets' guest agent, built next to the helpers
shopt -u nullglob
if ((${#helpers[@]} == 0)); then
  echo "package: no helper binary in dist/helper/ (make -C helper); refusing to build a package that cannot run programs" >&2
  exit 1
fi
for arch in "${arches[@]}"; do
  [[ -f dist/helper/ringbuf-helper-$arch ]] || {
    echo "package: dist/helper/ringbuf-helper-$arch missing: build it with make -C helper$([[ $arch == x86_64 ]] || echo " $arch (or package with --x86_64-only)")" >&2
    exit 1
  }
done
chmod 0755 "${helpers[@]}" "${agents[@]}"

# The pinned @vscode/vsce from devDependencies (npm ci brings it; nothing is fetched at package time).
vsce=node_modules/.bin/vsce
[[ -x $vsce ]] || { echo "package: $vsce missing: run npm ci (it is pinned in devDependencies)" >&2; exit 1; }
log "vsce $("$vsce" --version) package → $out"
# Relative links in the README stay relative (no public repository URL to rewrite them to).
"$vsce" package --no-dependencies --allow-missing-repository --no-rewrite-relative-links \
  -o "$out" </dev/null
size=$(stat -c %s "$out")
log "$out: $((size / 1024)) KiB"
unzip -l "$out" | awk 'NR>3 && $4 ~ /^extension\// {print $4}' | sed 's|^extension/||' |
  awk -F/ '{d=$1; if (NF>2) d=$1"/"$2; c[d]++} END {for (k in c) printf "  %-32s %d file(s)\n", k, c[k]}' | sort
