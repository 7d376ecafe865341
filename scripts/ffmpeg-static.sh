#!/usr/bin/env bash
# Builds the FFmpeg the native addon links: the FFmpeg that Debian ships
# (the installed version's source, Debian's patches applied: see
# scripts/ffmpeg-source.sh), as static libraries holding only what vsnap
# reads, into build/ffmpeg-static (lib/, include/, lib/pkgconfig/), with
# libdav1d, zlib and bzip2 from build/native-deps (scripts/native-deps.sh,
# which runs first).
#
#   bash scripts/ffmpeg-static.sh     (scripts/setup.sh runs it)
#
# LGPL: nothing that would make FFmpeg GPL or non-free is enabled (no
# --enable-gpl, --enable-version3 or --enable-nonfree, and no library that
# needs one), and the build fails if configure reports another licence, so
# that the addon, which links it in, can be distributed beside vsnap's MIT
# code. What the prebuilt package says of it (licence texts, version,
# configure line) comes from build/ffmpeg-static/licenses/.
#
# Why not Debian's shared libraries: they pull 136 libraries into the
# process (every codec, device and protocol Debian enables), whose loading
# and symbol binding cost a command-line run about 30 ms, and whose
# decoders a hostile file can reach by naming them. This build links only
# libdav1d (AV1), zlib and bzip2 beside libc, all static, with the
# components of ffmpeg-source.sh and the file protocol: no network at all,
# since vsnap reads URLs with its own client (native/core/HttpClient.h).
#
# Built again when the installed libavcodec's version changes (a Debian
# security update: run setup again) or this script, ffmpeg-source.sh or
# build/native-deps does; the stamp is build/ffmpeg-static/built-by. Built
# in build/ffmpeg-static.build and put in place when it has succeeded: a
# build that runs or fails leaves the previous one usable. 3 to 8 minutes on
# 2 cores.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/ffmpeg-source.sh
source scripts/ffmpeg-source.sh

bash scripts/native-deps.sh
deps=$PWD/build/native-deps
prefix=$PWD/build/ffmpeg-static
stamp="$ffmpeg_debian_version $(cat scripts/ffmpeg-static.sh scripts/ffmpeg-source.sh "$deps/built-by" | sha1sum | cut -d' ' -f1)"
if [ "$(cat "$prefix/built-by" 2>/dev/null)" = "$stamp" ]; then
  echo "ffmpeg-static: FFmpeg $ffmpeg_debian_version is built"
  exit 0
fi

start=$SECONDS
build=$PWD/build/ffmpeg-static.build
work=$build/src
stage=$build/stage
log=$build/build.log
rm -rf "$build"
ffmpeg_unpack ffmpeg-static "$work"
echo "ffmpeg-static: building FFmpeg $ffmpeg_debian_version into $prefix (log: $log)"
if ! (cd "$work" &&
      PKG_CONFIG_PATH=$deps/lib/pkgconfig ./configure \
        --prefix="$prefix" \
        --enable-static --disable-shared --enable-pic \
        --pkg-config-flags=--static --extra-cflags="-I$deps/include" --extra-ldflags="-L$deps/lib" \
        "${ffmpeg_components[@]}" \
        --disable-network --enable-protocol=file \
        --enable-libdav1d --enable-decoder=libdav1d &&
      make -j"$(nproc)" && make install DESTDIR="$stage") > "$log" 2>&1; then
  tail -n 30 "$log"
  echo "ffmpeg-static: the build failed"
  exit 1
fi
license=$(sed -n 's/^#define FFMPEG_LICENSE "\(.*\)"$/\1/p' "$work/config.h")
if [ "$license" != "LGPL version 2.1 or later" ]; then
  echo "ffmpeg-static: configure made FFmpeg's licence \"$license\"; the addon must link an LGPL-2.1-or-later FFmpeg"
  exit 1
fi
dest=$stage$prefix
mkdir -p "$dest/licenses"
cp "$work/COPYING.LGPLv2.1" "$work/LICENSE.md" "$dest/licenses/"
cp "$work/debian/copyright" "$dest/licenses/debian-copyright"
echo "$ffmpeg_debian_version" > "$dest/licenses/version"
sed -n 's/^#define FFMPEG_CONFIGURATION "\(.*\)"$/\1/p' "$work/config.h" > "$dest/licenses/configuration"
echo "$stamp" > "$dest/built-by"
rm -rf "$prefix"
mv "$dest" "$prefix"
mv "$log" "$prefix/"
rm -rf "$build"
echo "ffmpeg-static: built in $(( SECONDS - start )) s"
