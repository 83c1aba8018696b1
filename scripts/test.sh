#!/usr/bin/env bash
# The README's test command. Installs what is missing, builds, then runs the tiers.
#   scripts/test.sh            every tier (unit, integration, panel, ui)
#   scripts/test.sh unit|integration|panel|ui   one tier
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh test
tiers=("$@")
((${#tiers[@]})) || tiers=(unit integration panel ui)
args=()
for t in "${tiers[@]}"; do args+=(--project "$t"); done
exec npx vitest run "${args[@]}"
