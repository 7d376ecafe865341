#!/usr/bin/env bash
# Fuzzes the native core (native/fuzz/extract_fuzzer.cpp) with libFuzzer,
# AddressSanitizer and UndefinedBehaviorSanitizer:
#
#   npm run fuzz -- [--seconds N] [--containers mp4,mkv,...] [--asan-ffmpeg]
#   bash scripts/fuzz.sh --build-only    (the fuzzer alone, for scripts/leaks.sh)
#
# By default the fuzzer links Debian's FFmpeg, which is not instrumented: a
# bad write inside it shows only when it corrupts the allocator's records.
# --asan-ffmpeg links FFmpeg built with the same sanitizers instead
# (build/ffmpeg-asan, made by scripts/ffmpeg-asan.sh when missing or when
# that script has changed since, about 10 minutes),
# so that ASan reports the first bad access inside FFmpeg with its stack;
# with VSNAP_FUZZ_CPUFLAGS=0 in the environment FFmpeg runs its C functions,
# which ASan checks, rather than its assembly, which it cannot.
#
# N seconds in all (default 120), split evenly across the containers (default
# all). Each container keeps its corpus in build/fuzz/corpus/<container>,
# grown from seeds made with the ffmpeg CLI (tiny clips of the recipes the
# tests use) and the committed regression inputs (native/fuzz/regressions).
# A finding (crash, sanitizer report, a unit over 10 s, or 60 s with
# --asan-ffmpeg, over 2 GiB of memory) stops the run with its input saved
# under build/fuzz/artifacts/; reproduce
# it with `build/fuzz/extract_fuzzer FILE` (extract_fuzzer_asan_ffmpeg after
# --asan-ffmpeg), fix it, and commit the input to
# native/fuzz/regressions/ (test/engine/fuzz-regressions.test.ts runs them).
# Needs clang and libclang-rt-14-dev (installed from apt when missing).
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=120
build_only=0
asan_ffmpeg=0
containers=(mp4 mp4-hevc mp4-hdr mov mkv webm-vp8 webm-vp9 webm-av1 avi avi-bframes flv flv1 ts mpg
  avi-mp3 flv-aac ts-ac3 mpg-mp2 wmv-wma ogv-vorbis)
while [ $# -gt 0 ]; do
  case "$1" in
    --seconds) seconds="$2"; shift 2 ;;
    --build-only) build_only=1; shift ;;
    --asan-ffmpeg) asan_ffmpeg=1; shift ;;
    --containers) IFS=, read -r -a containers <<< "$2"; shift 2 ;;
    *) echo "fuzz: unknown argument $1 (expected --seconds N, --containers a,b, --asan-ffmpeg)" >&2; exit 2 ;;
  esac
done
[[ "$seconds" =~ ^[1-9][0-9]*$ ]] || { echo "fuzz: --seconds takes a positive integer, not $seconds" >&2; exit 2; }

if ! command -v clang++ >/dev/null || ! ls /usr/lib/llvm-*/lib/clang/*/lib/linux/libclang_rt.fuzzer-x86_64.a >/dev/null 2>&1; then
  echo "fuzz: installing clang and libFuzzer from apt"
  as_root=()
  [ "$(id -u)" -eq 0 ] || as_root=(sudo)
  "${as_root[@]}" apt-get update -q
  DEBIAN_FRONTEND=noninteractive "${as_root[@]}" apt-get install -y -q --no-install-recommends clang libclang-rt-14-dev
fi

out=build/fuzz
unit_timeout=10
fuzzer=$out/extract_fuzzer
sources=(native/core/*.cpp native/core/*.h native/encode/*.cpp native/encode/*.h native/fuzz/extract_fuzzer.cpp)
ffmpeg_libs=(libavformat libavcodec libswscale libavutil)
if [ "$asan_ffmpeg" = 1 ]; then
  ffmpeg_prefix=build/ffmpeg-asan
  # Built again when scripts/ffmpeg-asan.sh has changed since (its hash in built-by).
  if [ ! -f "$ffmpeg_prefix/lib/libavcodec.a" ] ||
     [ "$(cat "$ffmpeg_prefix/built-by" 2>/dev/null)" != "$(sha1sum scripts/ffmpeg-asan.sh | cut -d' ' -f1)" ]; then
    bash scripts/ffmpeg-asan.sh
  fi
  fuzzer=$out/extract_fuzzer_asan_ffmpeg
  # Its checked C code runs ~30 times slower than Debian's: one frame of
  # 8191x8191 (the pixel limit allows up to 8192x8192) took 16 s there against
  # 0.5 s in Debian's (regressions/avi-mpeg4-8191px-slow-578b4e20.avi).
  unit_timeout=60
  sources+=("$ffmpeg_prefix"/lib/*.a)
  # Only these .pc files, not Debian's; --static adds the libraries the archives need (-lm, -lz, -pthread...).
  ffmpeg_flags=$(PKG_CONFIG_LIBDIR=$ffmpeg_prefix/lib/pkgconfig pkg-config --static --cflags --libs "${ffmpeg_libs[@]}")
else
  ffmpeg_flags=$(pkg-config --cflags --libs "${ffmpeg_libs[@]}")
fi
mkdir -p "$out/seeds" "$out/corpus" "$out/artifacts"
if [ ! -x "$fuzzer" ] || [ -n "$(find "${sources[@]}" -newer "$fuzzer")" ]; then
  echo "fuzz: building $fuzzer"
  # shellcheck disable=SC2086
  # VSNAP_GUARD_BANDS: the RGB bands swscale writes end at a page that
  # faults (BandMemory in native/core/Decoder.h).
  clang++ -std=c++17 -g -O1 -fno-omit-frame-pointer -DVSNAP_GUARD_BANDS \
    -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
    -Inative/core -Inative/encode native/core/*.cpp native/encode/*.cpp native/fuzz/extract_fuzzer.cpp \
    $ffmpeg_flags $(pkg-config --cflags --libs libjpeg openssl) -o "$fuzzer"
fi
[ "$build_only" = 0 ] || exit 0

# Seeds: 64x48, 1 s at 10 fps, two GOPs, each container and codec the service accepts.
# `seed --audio NAME EXT ...` adds a 1 s tone as a second stream.
seed() {
  local audio=()
  if [ "$1" = --audio ]; then
    audio=(-f lavfi -i sine=frequency=440:duration=1 -map 0:v -map 1:a -shortest)
    shift
  fi
  local name="$1" ext="$2"; shift 2
  local dir="$out/seeds/$name"
  [ -n "$(ls -A "$dir" 2>/dev/null)" ] && return
  mkdir -p "$dir"
  ffmpeg -v error -y -f lavfi -i testsrc2=size=64x48:rate=10:duration=1 "${audio[@]}" "$@" "$dir/seed.$ext" ||
    echo "fuzz: this FFmpeg cannot make the $name seed; its corpus starts from the regressions only"
}
seed mp4 mp4 -c:v libx264 -bf 2 -g 5 -pix_fmt yuv420p
seed mp4-hevc mp4 -c:v libx265 -x265-params log-level=error -g 5 -pix_fmt yuv420p
# HDR10 (PQ, BT.2020, its static metadata in SEI): tone mapping (ToneMap.h).
seed mp4-hdr mp4 -c:v libx265 -x265-params log-level=error:max-cll=1000,400 -g 5 -pix_fmt yuv420p10le \
  -color_primaries bt2020 -color_trc smpte2084 -colorspace bt2020nc
seed mov mov -c:v libx264 -g 5 -pix_fmt yuv420p -metadata:s:v rotate=90
seed mkv mkv -c:v libx264 -bf 2 -g 5 -pix_fmt yuv420p
seed webm-vp8 webm -c:v libvpx -g 5
seed webm-vp9 webm -c:v libvpx-vp9 -deadline realtime -g 5
seed webm-av1 webm -c:v libaom-av1 -usage realtime -cpu-used 8 -g 5
seed avi avi -c:v mpeg4 -g 5
# Decode times only, anchors without a pts: the timeline places them by later packets.
seed avi-bframes avi -c:v mpeg4 -bf 2 -g 5
seed flv flv -c:v libx264 -bf 2 -g 5 -pix_fmt yuv420p
seed flv1 flv -c:v flv -g 5
seed ts ts -c:v libx264 -bf 2 -g 5 -pix_fmt yuv420p
seed mpg mpg -c:v mpeg2video -bf 2 -g 5
# With an audio track, as most real files have: the demuxers interleave it,
# and probing the streams opens its decoder.
seed --audio avi-mp3 avi -c:v mpeg4 -bf 2 -g 5 -c:a libmp3lame
seed --audio flv-aac flv -c:v libx264 -bf 2 -g 5 -pix_fmt yuv420p -c:a aac
seed --audio ts-ac3 ts -c:v libx264 -bf 2 -g 5 -pix_fmt yuv420p -c:a ac3
seed --audio mpg-mp2 mpg -c:v mpeg2video -bf 2 -g 5 -c:a mp2
seed --audio wmv-wma wmv -c:v wmv2 -g 5 -c:a wmav2
seed --audio ogv-vorbis ogv -c:v libtheora -g 5 -c:a libvorbis

share=$(( seconds / ${#containers[@]} ))
[ "$share" -ge 1 ] || share=1
total_runs=0
for container in "${containers[@]}"; do
  [ -d "$out/seeds/$container" ] || { echo "fuzz: unknown container $container (one of ${!containers[*]})" >&2; exit 2; }
  mkdir -p "$out/corpus/$container"
  echo "fuzz: $container for $share s"
  log="$out/$container.log"
  if ! "$fuzzer" -max_total_time="$share" -timeout="$unit_timeout" -rss_limit_mb=2048 -max_len=65536 -print_final_stats=1 \
      -artifact_prefix="$out/artifacts/" "$out/corpus/$container" "$out/seeds/$container" native/fuzz/regressions \
      > "$log" 2>&1; then
    tail -n 40 "$log"
    echo "fuzz: FINDING in $container; the input is in $out/artifacts/ (log: $log)"
    exit 1
  fi
  runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo 0)
  echo "fuzz: $container: $runs executions, no finding"
  total_runs=$(( total_runs + runs ))
done
echo "fuzz: $total_runs executions in all, no finding"
