#!/usr/bin/env bash
# `npm run bench [-- --json]`: installs the peers, builds, runs bench/*.bench.ts.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh bench >&2
exec node scripts/bench.mjs "$@"
