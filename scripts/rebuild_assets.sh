#!/usr/bin/env bash
# Rebuild every artifact downstream of the generators into one asset set, in build order:
# the risk predictors, then the cohorts and the world model, then the default policy.
#   scripts/rebuild_assets.sh [OUT]          OUT defaults to runs/assets
#   scripts/rebuild_assets.sh OUT --ship     and then make that set the shipped one
#                                            (scripts/ship_assets.sh OUT)
# The build is seeded, so shipping the set is what `--ship` on each command would write.
set -euo pipefail
out=${1:-runs/assets}
mano train predictor --out "$out" --trusted
mano train world-model --assets "$out" --out "$out" --trusted
mano train --agent hybrid-ppo --assets "$out" --out "$out" --overwrite
mano evaluate world-model --assets "$out"
if [[ "${2:-}" == "--ship" ]]; then
  "$(dirname "$0")/ship_assets.sh" "$out"
fi
