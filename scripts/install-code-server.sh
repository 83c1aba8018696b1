#!/usr/bin/env bash
# Installs code-server (a real VS Code in a browser) into .cache/code-server/ for the UI
# tests and `npm run demo`. Idempotent: does nothing when the pinned version is present.
# It lives in its own package.json there so the repository's lockfile stays lean.
#
# code-server 4.100.3 is the last release that runs on Node 20. Its @vscode/ripgrep
# dependency downloads `rg` from GitHub in postinstall unless the tarball is already in
# its cache directory, so we put Debian's ripgrep there first (this machine class can
# reach only the npm registry and Debian's mirrors).
set -euo pipefail
cd "$(dirname "$0")/.."

version="${CODE_SERVER_VERSION:-4.100.3}"
ripgrep_pkg_version=1.15.11
ripgrep_asset=ripgrep-v13.0.0-10-x86_64-unknown-linux-musl.tar.gz
dir="$PWD/.cache/code-server"
bin="$dir/node_modules/.bin/code-server"

log() { printf '\033[1minstall-code-server:\033[0m %s\n' "$*"; }

# --version writes a default config file under $XDG_CONFIG_HOME: keep that out of the user's home.
installed_version() {
  local tmp rc=0
  tmp="$(mktemp -d)"
  HOME="$tmp" XDG_CONFIG_HOME="$tmp" XDG_DATA_HOME="$tmp" "$bin" --version 2>/dev/null </dev/null |
    grep -Eo '^[0-9]+\.[0-9]+\.[0-9]+' | head -n1 || rc=$?
  rm -rf "$tmp"
  return "$rc"
}

if [[ -x $bin ]] && [[ "$(installed_version)" == "$version" ]]; then
  log "code-server $version already installed ($bin)"
  exit 0
fi

need=()
command -v rg >/dev/null || need+=(ripgrep)
for p in libkrb5-dev libsecret-1-dev; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || need+=("$p")
done
if ((${#need[@]})); then
  if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then
    log "installing ${need[*]}"
    DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${need[@]}" >/dev/null
  else
    echo "install-code-server: missing: ${need[*]}; install them with: sudo apt-get install -y ${need[*]}" >&2
    exit 1
  fi
fi

if [[ $(uname -m) == x86_64 ]]; then
  cache="$(node -e 'process.stdout.write(require("os").tmpdir())')/vscode-ripgrep-cache-$ripgrep_pkg_version"
  if [[ ! -s $cache/$ripgrep_asset ]]; then
    log "seeding @vscode/ripgrep's cache with Debian's rg"
    staging="$(mktemp -d)"
    trap 'rm -rf "$staging"' EXIT
    mkdir -p "$cache"
    cp "$(command -v rg)" "$staging/rg"
    tar czf "$cache/$ripgrep_asset.tmp" -C "$staging" rg
    mv "$cache/$ripgrep_asset.tmp" "$cache/$ripgrep_asset"
  fi
fi

mkdir -p "$dir"
if [[ ! -f $dir/package.json ]]; then
  printf '{\n  "name": "ringbuf-studio-code-server",\n  "private": true,\n  "description": "code-server for the UI tests and the demo; installed by scripts/install-code-server.sh"\n}\n' >"$dir/package.json"
fi
log "npm install code-server@$version (takes about a minute)"
(cd "$dir" && npm_config_unsafe_perm=true npm_config_yes=true \
  npm install --no-audit --no-fund --loglevel=error --save-exact "code-server@$version" </dev/null)
got="$(installed_version)"
if [[ $got != "$version" ]]; then
  echo "install-code-server: expected code-server $version at $bin, found '${got:-nothing}'" >&2
  exit 1
fi
log "code-server $got installed ($bin)"
