#!/usr/bin/env bash
# Builds the FFmpeg that Debian ships (the source of the installed libavcodec
# package, with Debian's patches) instrumented with AddressSanitizer and
# UndefinedBehaviorSanitizer, as static libraries, so that `npm run fuzz --
# --asan-ffmpeg` reports a bad access inside FFmpeg where it happens rather
# than when it corrupts the allocator's records:
#
#   bash scripts/ffmpeg-asan.sh
#
# Installs into build/ffmpeg-asan (lib/, include/, lib/pkgconfig/; build
# tree in build/ffmpeg-asan/src). Only what vsnap reads is built (the
# components of scripts/ffmpeg-source.sh), with the file protocol and no
# AV1 (libdav1d is not linked here).
#
# FFmpeg is also built with libFuzzer's coverage instrumentation
# (-fsanitize=fuzzer-no-link): the fuzzer then keeps an input that reaches
# new code in a demuxer or a decoder, not only in vsnap's own, and steers
# its mutations there.
#
# Assembly stays on, as in Debian's build: it sets the alignment of frame
# strides and av_malloc (64 bytes with AVX-512, 8 and 16 without), so buffer
# sizes and padding match the library users link. The SIMD functions
# themselves are not instrumented; run the fuzzer with
# VSNAP_FUZZ_CPUFLAGS=0 to have FFmpeg use its C versions instead (same
# layout, every access checked). Needs clang and nasm (installed from apt
# when missing).
# The source comes as scripts/ffmpeg-source.sh says.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/ffmpeg-source.sh
source scripts/ffmpeg-source.sh

prefix=$PWD/build/ffmpeg-asan
script=$PWD/scripts/ffmpeg-asan.sh
if ! command -v nasm >/dev/null; then
  echo "ffmpeg-asan: installing nasm from apt"
  "${ffmpeg_as_root[@]}" apt-get update -q
  DEBIAN_FRONTEND=noninteractive "${ffmpeg_as_root[@]}" apt-get install -y -q --no-install-recommends nasm
fi

work=$prefix/src
rm -rf "$prefix"
ffmpeg_unpack ffmpeg-asan "$work"

# No coverage counters in the pixel loops: a profile of the fuzzer (perf,
# 2026-11-27) put 81% of its time in the coverage-comparison callbacks,
# mostly from swscale's C scaler and MPEG-4 error concealment run over
# frames of up to 67 Mpixels (9 to 19 executions a second). Those loops are
# still checked by ASan and UBSan; only the fuzzer's steering ignores them.
ignorelist=$prefix/coverage-ignorelist.txt
mkdir -p "$prefix"
cat > "$ignorelist" <<'LIST'
src:libswscale/*
src:*/libswscale/*
src:libavcodec/error_resilience.c
src:*/libavcodec/error_resilience.c
LIST
sanitize=(-fsanitize=address,undefined,fuzzer-no-link -fsanitize-coverage-ignorelist="$ignorelist" -fno-omit-frame-pointer)
start=$SECONDS
cd "$work"
# --disable-optimizations keeps configure's -O3 out, so the -O1 below holds.
nice -n 10 ./configure \
  --prefix="$prefix" --cc=clang --cxx=clang++ \
  --extra-cflags="${sanitize[*]} -g -O1" --extra-ldflags="${sanitize[*]}" \
  --disable-optimizations --disable-stripping \
  --enable-static --disable-shared \
  "${ffmpeg_components[@]}" \
  --disable-network --enable-protocol=file
nice -n 10 make -j2
make install
# scripts/fuzz.sh builds again when this script has changed since.
sha1sum "$script" | cut -d' ' -f1 > "$prefix/built-by"
echo "ffmpeg-asan: built in $(( SECONDS - start )) s into $prefix"
