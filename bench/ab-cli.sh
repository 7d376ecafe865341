#!/usr/bin/env bash
# Times `vsnap extract` of two builds side by side, alternating run by run so
# that both see the same load, and prints each one's median wall time:
#
#   bash bench/ab-cli.sh OLD_ROOT NEW_ROOT RUNS VIDEO INTERVAL [MODE] [FORMAT]
#
# A root is a checkout with its build (bin/, dist/, build/), e.g. an older
# commit made with `git worktree add /tmp/old <commit>`, node_modules linked
# from here, and `npm run build`. What the suite (npm run bench) measures
# in two runs a case, this measures in many, for one change.
set -euo pipefail
old=$1 new=$2 runs=$3 video=$4 interval=$5 mode=${6:-keyframe} format=${7:-jpg}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
# As the suite does (bench/lib/process.mjs): Node reads these certificates at every start.
unset NODE_EXTRA_CA_CERTS
for _ in $(seq "$runs"); do
  for side in old new; do
    root=$old
    [ "$side" = new ] && root=$new
    start=$(date +%s%N)
    node "$root/bin/vsnap" extract "$video" --interval "$interval" --format "$format" --quality 80 --mode "$mode" \
      --out "$out/$side" --json >/dev/null
    echo "$side $(( ($(date +%s%N) - start) / 1000000 ))"
  done
done | python3 -c '
import collections, statistics, sys
times = collections.defaultdict(list)
for line in sys.stdin:
    side, ms = line.split()
    times[side].append(int(ms))
for side in ("old", "new"):
    t = times[side]
    print(f"{side}: median {statistics.median(t):.0f} ms (min {min(t)}, max {max(t)}, {len(t)} runs)")
'
