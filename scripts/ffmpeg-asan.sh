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
# tree in build/ffmpeg-asan/src). Only what vsnap reads is built: the
# demuxers of its format whitelist (native/core/Input.cpp), the video
# decoders of the containers it accepts (no AV1: libdav1d is not linked
# here), the file protocol and swscale; and the decoders that probing a
# stream (`avformat_find_stream_info`) opens when a file, or a mutated
# header, names them: the audio codecs of those containers, their other
# video codecs, their subtitle formats; every parser.
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
#
# The source tarball is taken from $FFMPEG_SOURCE_DIR (default
# build/ffmpeg-source), where it is fetched with `apt-get source
# --download-only` when missing (adding the deb-src entries if apt has none).
set -euo pipefail
cd "$(dirname "$0")/.."

prefix=$PWD/build/ffmpeg-asan
script=$PWD/scripts/ffmpeg-asan.sh
source_dir=${FFMPEG_SOURCE_DIR:-$PWD/build/ffmpeg-source}
# The version of the library vsnap links, e.g. 7:5.1.9-0+deb12u1.
debian_version=$(dpkg-query -W -f='${source:Version}' libavcodec-dev)
upstream_version=${debian_version#*:}
upstream_version=${upstream_version%-*}
orig=$source_dir/ffmpeg_$upstream_version.orig.tar.xz
patches=$source_dir/ffmpeg_${debian_version#*:}.debian.tar.xz

as_root=()
[ "$(id -u)" -eq 0 ] || as_root=(sudo)

if ! command -v nasm >/dev/null; then
  echo "ffmpeg-asan: installing nasm from apt"
  "${as_root[@]}" apt-get update -q
  DEBIAN_FRONTEND=noninteractive "${as_root[@]}" apt-get install -y -q --no-install-recommends nasm
fi

if [ ! -f "$orig" ] || [ ! -f "$patches" ]; then
  if ! grep -rqs '^Types: deb-src' /etc/apt/sources.list.d/ && ! grep -qs '^deb-src' /etc/apt/sources.list; then
    echo "ffmpeg-asan: adding deb-src entries to /etc/apt/sources.list.d/debian-src.sources"
    "${as_root[@]}" tee /etc/apt/sources.list.d/debian-src.sources >/dev/null <<'EOF'
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb-src
URIs: http://deb.debian.org/debian-security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
  fi
  if ! apt-cache showsrc ffmpeg 2>/dev/null | grep -qx "Version: $debian_version"; then
    "${as_root[@]}" apt-get update -q
  fi
  echo "ffmpeg-asan: fetching the source of ffmpeg $debian_version into $source_dir"
  mkdir -p "$source_dir"
  (cd "$source_dir" && apt-get source --download-only "ffmpeg=$debian_version")
fi

work=$prefix/src
rm -rf "$prefix"
mkdir -p "$work"
tar -xJf "$orig" -C "$work" --strip-components=1
tar -xJf "$patches" -C "$work"
while read -r patch; do
  case "$patch" in ''|'#'*) continue ;; esac
  patch -d "$work" -p1 -s < "$work/debian/patches/$patch"
done < "$work/debian/patches/series"

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
  --disable-everything --disable-programs --disable-doc --disable-network --disable-autodetect \
  --disable-avdevice --disable-avfilter \
  --enable-pthreads --enable-zlib --enable-bzlib \
  --enable-protocol=file \
  --enable-demuxer=mov,matroska,avi,flv,live_flv,mpegts,mpegps,asf,ogg,mp3,wav,flac,aac \
  --enable-decoder=h264,hevc,mpeg4,msmpeg4v1,msmpeg4v2,msmpeg4v3,vp8,vp9,flv,h263,h263p,h263i,mpeg1video,mpeg2video \
  --enable-decoder='wmv*,vc1,theora,vp3,vp6*,mjpeg,h261,huffyuv,ffv1,dvvideo,rawvideo,cinepak,msvideo1,svq*,rv*,prores,dnxhd' \
  --enable-decoder='aac*,ac3*,eac3*,mp1*,mp2*,mp3*,wma*,vorbis,opus,flac,alac,pcm_*,adpcm_*,dca,truehd,mlp,amr*,nellymoser,gsm*,qdm2,cook,atrac*,ra_*,speex,tta,wavpack,ape' \
  --enable-decoder='ass,ssa,srt,subrip,dvdsub,dvbsub,xsub,mov_text,text,webvtt' \
  --enable-parsers \
  --enable-swscale --enable-swresample
nice -n 10 make -j2
make install
# scripts/fuzz.sh builds again when this script has changed since.
sha1sum "$script" | cut -d' ' -f1 > "$prefix/built-by"
echo "ffmpeg-asan: built in $(( SECONDS - start )) s into $prefix"
