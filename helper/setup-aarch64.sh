#!/usr/bin/env bash
# Installs the aarch64 cross toolchain and arm64 static libraries (Debian multiarch)
# needed by `make -C helper aarch64`. Idempotent; root on Debian/Ubuntu.
set -euo pipefail
pkgs=(gcc-aarch64-linux-gnu libc6-dev-arm64-cross libbpf-dev:arm64 libelf-dev:arm64 zlib1g-dev:arm64 qemu-user-static)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
((${#missing[@]})) || exit 0
if [[ $(id -u) -ne 0 ]]; then
  echo "setup-aarch64: run as root, or install: dpkg --add-architecture arm64 && apt-get update && apt-get install -y ${missing[*]}" >&2
  exit 1
fi
dpkg --print-foreign-architectures | grep -qx arm64 || { dpkg --add-architecture arm64; apt-get update -qq; }
# The arm64 -dev packages must match the amd64 versions, so apt may upgrade a few amd64 libraries.
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
