#!/usr/bin/env bash
# The Quick start's main job: makes a 30-second sample video and extracts a
# snapshot every 5 seconds from it into ./snapshots.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p sample
if [ ! -f sample/sample.mp4 ]; then
  ffmpeg -v error -y -f lavfi -i testsrc2=size=1280x720:rate=30 -t 30 \
    -c:v libx264 -preset veryfast -g 150 -pix_fmt yuv420p sample/sample.mp4
fi
bin/vsnap probe sample/sample.mp4
bin/vsnap extract sample/sample.mp4 --interval 5 --out snapshots
