#!/usr/bin/env bash
# Usage: scripts/generate-suite.sh COUNT DIR
# Writes COUNT flow files into DIR, copied round-robin from flows/, flows/failures/ and
# flows/time/, each renamed NAME-NNNN so every file is a flow of its own. Run them with
#   aksflow test DIR                    one seed for all
#   aksflow test DIR --seeds 1..4       each flow under several seeds
# to measure the suite at scale (issue 16: time in proportion to the flows, flat memory).
set -euo pipefail
count=${1:?COUNT}; dir=${2:?DIR}
root=$(cd "$(dirname "$0")/.." && pwd)
mapfile -t sources < <(ls "$root"/flows/*.toml "$root"/flows/failures/*.toml "$root"/flows/time/*.toml)
mkdir -p "$dir"
for ((i = 0; i < count; i++)); do
  src=${sources[$((i % ${#sources[@]}))]}
  base=$(basename "$src" .toml)
  n=$(printf '%04d' "$i")
  # The flow's own name line gets the number; everything else is the seed flow's.
  awk -v n="$n" '!done && /^name = "/ { sub(/"$/, "-" n "\""); done = 1 } { print }' "$src" > "$dir/$base-$n.toml"
done
echo "wrote $count flows to $dir (from ${#sources[@]} seed flows)"
