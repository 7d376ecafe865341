#!/usr/bin/env bash
# Leak checks, both kinds (npm run leaks):
#
# 1. LeakSanitizer over the native core: the fuzz harness (AddressSanitizer
#    with its leak checker) decodes every test fixture whole in both modes,
#    and each cut at half its length, so that decoding fails half-way. Any
#    definite leak fails the run.
# 2. The process's memory settles: test/engine/leaks.test.ts extracts from
#    every kind of fixture many times over in one process (native backend).
#
# Run after the tests have made their fixtures (npm test), or it makes them.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/fuzz.sh --build-only
fixtures=test/.fixtures
if [ -z "$(ls "$fixtures"/*.mp4 2>/dev/null)" ]; then
  echo "leaks: making the test fixtures"
  npx vitest run test/helpers/fixtures.test.ts >/dev/null
fi
inputs=$(mktemp -d)
trap 'rm -rf "$inputs"' EXIT
for file in "$fixtures"/*.{mp4,mov,mkv,webm,avi,flv,ts}; do
  [ -f "$file" ] || continue
  size=$(stat -c %s "$file")
  # The engine fixtures (seconds of video); the minutes-long ones of the range and service tests would take minutes under ASan.
  [ "$size" -le $(( 16 * 1024 * 1024 )) ] || continue
  cp "$file" "$inputs/"
  head -c $(( size / 2 )) "$file" > "$inputs/half-$(basename "$file")"
done
count=$(ls "$inputs" | wc -l)
echo "leaks: LeakSanitizer over $count inputs (whole fixtures and their first halves), both modes"
if ! VSNAP_FUZZ_OUTPUTS=1000000 ASAN_OPTIONS=detect_leaks=1 build/fuzz/extract_fuzzer "$inputs"/* > build/fuzz/leaks.log 2>&1; then
  tail -n 60 build/fuzz/leaks.log
  echo "leaks: LeakSanitizer or AddressSanitizer reported a problem (log: build/fuzz/leaks.log)"
  exit 1
fi
echo "leaks: no leak in $count inputs"

echo "leaks: memory over repeated extractions"
npx vitest run test/engine/leaks.test.ts --reporter=verbose
