#!/usr/bin/env bash
# Installs what is missing, idempotently. Safe to run again and again.
#   scripts/setup.sh            base: system packages, npm deps, bundles, helper
#   scripts/setup.sh test       base + what the test tiers need (chromium, code-server deps)
#   scripts/setup.sh bench      base + the peers the benchmark compares against
# As root on Debian/Ubuntu it installs with apt-get; otherwise it says exactly what to install.
set -euo pipefail
cd "$(dirname "$0")/.."
profile="${1:-base}"

log() { printf '\033[1msetup:\033[0m %s\n' "$*"; }

base_pkgs=(clang llvm libbpf-dev libelf-dev zlib1g-dev bpftool openssh-server make gcc pkg-config)
# golang + cilium/ebpf: the export-go test builds the exported bpf2go package offline.
# strace: the hostile-target tier checks every file the CLI opens.
# libxml2-utils: xmllint validates `ringbuf-studio test --reporter junit` against the JUnit schema.
# qemu-system-*, zstd, debian-archive-keyring: the built-in VM targets (qemu:debian-*) and their tests.
test_pkgs=(chromium libkrb5-dev libsecret-1-dev ripgrep iproute2 sudo strace golang-go golang-github-cilium-ebpf-dev qemu-system-x86 qemu-system-arm busybox-static cpio xz-utils zstd debian-archive-keyring libxml2-utils)
bench_pkgs=(bpftrace python3-bpfcc)

pkgs=("${base_pkgs[@]}")
case "$profile" in
  base) ;;
  test) pkgs+=("${test_pkgs[@]}") ;;
  bench) pkgs+=("${test_pkgs[@]}" "${bench_pkgs[@]}") ;;
  *) echo "setup: unknown profile '$profile' (base|test|bench)" >&2; exit 2 ;;
esac

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
  if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then
    log "installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    stamp=/var/lib/apt/periodic/ringbuf-studio-update
    if [[ ! -f $stamp ]] || [[ -n $(find "$stamp" -mmin +360 2>/dev/null) ]]; then
      apt-get update -qq && mkdir -p "$(dirname $stamp)" && touch "$stamp"
    fi
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "setup: missing system packages: ${missing[*]}" >&2
    echo "setup: install them with: sudo apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
fi

# npm dependencies: `npm ci` when the lockfile changed since the last install.
if [[ ! -f node_modules/.package-lock.json ]] || [[ package-lock.json -nt node_modules/.package-lock.json ]]; then
  log "npm ci"
  npm ci --no-audit --no-fund --loglevel=error
fi

# BPF file systems (needed to load and attach on the local kernel).
if [[ $(id -u) -eq 0 ]]; then
  mountpoint -q /sys/kernel/tracing || mount -t tracefs nodev /sys/kernel/tracing 2>/dev/null || true
  mountpoint -q /sys/fs/bpf || mount -t bpf bpf /sys/fs/bpf 2>/dev/null || true
fi

# The .vsix ships an aarch64 helper too: test/bench install the cross toolchain, arm64
# static libs and qemu-user-static (Debian multiarch) before building, so a multiarch
# apt upgrade of amd64 libraries happens before the x86_64 helper links.
case "$profile" in
  test | bench) log "aarch64 cross toolchain"; bash helper/setup-aarch64.sh ;;
esac

log "building helper and bundles"
if [[ -f helper/Makefile ]]; then
  make -s -C helper
  case "$profile" in test | bench) make -s -C helper aarch64 ;; esac
fi
node scripts/build.mjs

# The UI tests and `npm run demo` drive a real VS Code (code-server) in Chromium.
case "$profile" in
  test | bench) bash scripts/install-code-server.sh ;;
esac

# The second-kernel tests (test/integration/qemu) boot Debian's kernel in QEMU: download the
# package linux-image-amd64 depends on into .cache/qemu/debs, once, without installing it.
if [[ $profile != base ]] && command -v apt-get >/dev/null && ! compgen -G ".cache/qemu/debs/linux-image-*_amd64.deb" >/dev/null; then
  kpkg=$(apt-cache depends linux-image-amd64 2>/dev/null | sed -n 's/^ *Depends: \(linux-image-[0-9][^ ]*\)$/\1/p' | head -1)
  if [[ -n $kpkg ]]; then
    log "downloading $kpkg (kernel for the QEMU tests)"
    mkdir -p .cache/qemu/debs && (cd .cache/qemu/debs && apt-get download -qq "$kpkg" 2>/dev/null)
  else
    echo "setup: apt-cache names no linux-image for linux-image-amd64 (run apt-get update); the QEMU tests need it" >&2
  fi
fi

# The built-in VM targets (qemu:debian-5.10, -6.1, -6.12, -6.12-arm64-16k): fetch and unpack their
# kernels and guest userland once (only from Debian's archive, verified by its signed indexes),
# so the tests and benchmarks boot without downloading. Already cached: no network at all.
if [[ $profile != base ]] && command -v apt-get >/dev/null; then
  log "VM kernels for qemu: targets"
  node dist/cli.js vm download --all >/dev/null
fi

# bcc compiles at run time against kernel headers; this kernel ships none, so the
# benchmark uses Debian's closest ones (see env-recipes) — only for `npm run bench`.
if [[ $profile == bench && $(id -u) -eq 0 ]]; then
  kdir="/lib/modules/$(uname -r)"
  if [[ ! -e $kdir/build/Makefile ]]; then
    dpkg-query -W -f='${Status}' linux-headers-amd64 2>/dev/null | grep -q 'install ok installed' ||
      apt-get install -y -qq --no-install-recommends linux-headers-amd64 >/dev/null
    hdr=$(ls -d /usr/src/linux-headers-*-amd64 | sort -V | tail -1)
    common=$(ls -d /usr/src/linux-headers-*-common | sort -V | tail -1)
    mkdir -p "$kdir" && ln -sfn "$hdr" "$kdir/build" && ln -sfn "$common" "$kdir/source"
  fi
fi
