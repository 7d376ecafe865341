#!/usr/bin/env bash
# Builds the FFmpeg the native addon links: the FFmpeg that Debian ships
# (the installed version's source, Debian's patches applied: see
# scripts/ffmpeg-source.sh), as static libraries holding only what vsnap
# reads, into build/ffmpeg-static (lib/, include/, lib/pkgconfig/).
#
#   bash scripts/ffmpeg-static.sh     (scripts/setup.sh runs it)
#
# Why not Debian's shared libraries: they pull 136 libraries into the
# process (every codec, device and protocol Debian enables), whose loading
# and symbol binding cost a command-line run about 30 ms, and whose
# decoders a hostile file can reach by naming them. This build links only
# libdav1d (AV1), zlib and bzip2 beside libc, with the components of
# ffmpeg-source.sh and the file protocol: no network at all, since vsnap
# reads URLs with its own client (native/core/HttpClient.h).
#
# Built again when the installed libavcodec's version changes (a Debian
# security update: run setup again) or this script or ffmpeg-source.sh
# does; the stamp is build/ffmpeg-static/built-by. 2.5 minutes on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/ffmpeg-source.sh
source scripts/ffmpeg-source.sh

prefix=$PWD/build/ffmpeg-static
stamp="$ffmpeg_debian_version $(cat scripts/ffmpeg-static.sh scripts/ffmpeg-source.sh | sha1sum | cut -d' ' -f1)"
if [ "$(cat "$prefix/built-by" 2>/dev/null)" = "$stamp" ]; then
  echo "ffmpeg-static: FFmpeg $ffmpeg_debian_version is built"
  exit 0
fi

start=$SECONDS
work=$prefix/src
rm -rf "$prefix"
ffmpeg_unpack ffmpeg-static "$work"
echo "ffmpeg-static: building FFmpeg $ffmpeg_debian_version into $prefix (log: $prefix/build.log)"
if ! (cd "$work" &&
      ./configure \
        --prefix="$prefix" \
        --enable-static --disable-shared --enable-pic \
        "${ffmpeg_components[@]}" \
        --disable-network --enable-protocol=file \
        --enable-libdav1d --enable-decoder=libdav1d &&
      make -j"$(nproc)" && make install) > "$prefix/build.log" 2>&1; then
  tail -n 30 "$prefix/build.log"
  echo "ffmpeg-static: the build failed"
  exit 1
fi
rm -rf "$work"
echo "$stamp" > "$prefix/built-by"
echo "ffmpeg-static: built in $(( SECONDS - start )) s"
