#!/usr/bin/env bash
# Builds the libraries the native addon links in statically besides FFmpeg,
# from Debian's sources with Debian's patches (scripts/debian-source.sh), as
# position-independent static archives in build/native-deps (lib/,
# include/, lib/pkgconfig/, and licenses/ with each one's licence texts):
#
#   zlib, bzip2     compressed Matroska tracks and MOV headers (FFmpeg)
#   dav1d           AV1 (FFmpeg's libdav1d decoder)
#   libjpeg-turbo   JPEG (native/encode)
#   OpenSSL         https inputs (native/core/HttpClient), only with
#                   VSNAP_OPENSSL=source (the portable build); otherwise the
#                   addon links the static libssl.a and libcrypto.a of
#                   Debian's libssl-dev, which are position-independent
#
#   bash scripts/native-deps.sh     (ffmpeg-static.sh runs it first)
#   bash scripts/native-deps.sh --fetch-only    the sources only
#
# Why build them: Debian's libz.a, libbz2.a and libjpeg.a are not
# position-independent, so they cannot go into a shared object such as the
# addon, and Debian ships no static dav1d. With these inside it, the addon
# needs nothing but glibc: it loads where none of these libraries is
# installed, as the prebuilt package must (docs/development.md#prebuilt-addon).
#
# Built again when this script or a source version changes (the stamp is
# build/native-deps/built-by), in build/native-deps.build, and put in place
# when the whole build has succeeded: a build that runs or fails leaves the
# previous one usable. About 2 minutes on 2 cores; OpenSSL adds 6.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/debian-source.sh
source scripts/debian-source.sh

prefix=$PWD/build/native-deps
jobs=$(nproc)

# Source package, and the installed binary package whose version it takes.
deps=(zlib:zlib1g-dev bzip2:libbz2-dev dav1d:libdav1d-dev libjpeg-turbo:libjpeg62-turbo-dev)
[ "${VSNAP_OPENSSL:-system}" = source ] && deps+=(openssl:libssl-dev)

declare -A dsc
for dep in "${deps[@]}"; do
  dsc[${dep%%:*}]=$(debian_source_dsc "${dep%%:*}" "${dep#*:}")
done
[ "${1:-}" != --fetch-only ] || exit 0
stamp="$(for source in "${!dsc[@]}"; do basename "${dsc[$source]}"; done | sort | tr '\n' ' ')$(sha1sum < scripts/native-deps.sh | cut -d' ' -f1)"
if [ "$(cat "$prefix/built-by" 2>/dev/null)" = "$stamp" ]; then
  echo "native-deps: built ($stamp)"
  exit 0
fi

start=$SECONDS
# Built with their final prefix (what .pc files say), installed under $stage.
build=$PWD/build/native-deps.build
work=$build/src
stage=$build/stage
dest=$stage$prefix
log=$build/build.log
rm -rf "$build"
mkdir -p "$dest/lib/pkgconfig" "$dest/include" "$dest/licenses"
export CFLAGS="-O2 -fPIC" CXXFLAGS="-O2 -fPIC"

# unpack SOURCE LICENCE...: the tree in $work/SOURCE, its licence files and
# Debian's copyright file copied to licenses/SOURCE/.
unpack() {
  local source=$1
  shift
  debian_source_unpack "${dsc[$source]}" "$work/$source"
  mkdir -p "$dest/licenses/$source"
  cp "$work/$source/debian/copyright" "$dest/licenses/$source/debian-copyright"
  local file
  for file in "$@"; do cp "$work/$source/$file" "$dest/licenses/$source/"; done
  sed -n 's/^Version: //p' "${dsc[$source]}" > "$dest/licenses/$source/version"
}

build_zlib() {
  unpack zlib README
  cd "$work/zlib"
  ./configure --static --prefix="$prefix" --libdir="$prefix/lib"
  make -j"$jobs" libz.a
  make install DESTDIR="$stage"
}

build_bzip2() {
  unpack bzip2 LICENSE
  cd "$work/bzip2"
  make -j"$jobs" libbz2.a CFLAGS="$CFLAGS -D_FILE_OFFSET_BITS=64"
  cp libbz2.a "$dest/lib/"
  cp bzlib.h "$dest/include/"
}

build_dav1d() {
  unpack dav1d COPYING
  cd "$work/dav1d"
  meson setup build --prefix="$prefix" --libdir=lib --buildtype=release \
    --default-library=static -Db_staticpic=true -Dbitdepths=8,16 \
    -Denable_tools=false -Denable_tests=false -Denable_examples=false
  DESTDIR=$stage ninja -C build -j"$jobs" install
}

build_jpeg() {
  unpack libjpeg-turbo LICENSE.md README.ijg
  mkdir -p "$work/libjpeg-turbo/build"
  cd "$work/libjpeg-turbo/build"
  cmake .. -DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_PREFIX="$prefix" -DCMAKE_INSTALL_LIBDIR=lib \
    -DENABLE_SHARED=OFF -DENABLE_STATIC=ON -DWITH_TURBOJPEG=OFF -DCMAKE_POSITION_INDEPENDENT_CODE=ON
  make -j"$jobs" jpeg-static
  # Only the library and its headers: `make install` would build the tools too.
  cp libjpeg.a "$dest/lib/"
  cp jconfig.h ../jpeglib.h ../jmorecfg.h ../jerror.h "$dest/include/"
  local version
  version=$(debian_source_version "${dsc[libjpeg-turbo]}")
  version=${version%-*}
  sed -e "s|@PREFIX@|$prefix|" -e "s|@VERSION@|$version|" > "$dest/lib/pkgconfig/libjpeg.pc" <<'EOF'
prefix=@PREFIX@
libdir=${prefix}/lib
includedir=${prefix}/include

Name: libjpeg
Description: libjpeg-turbo, static (scripts/native-deps.sh)
Version: @VERSION@
Libs: -L${libdir} -ljpeg
Cflags: -I${includedir}
EOF
}

build_openssl() {
  unpack openssl LICENSE.txt
  cd "$work/openssl"
  # Debian's OPENSSLDIR; vsnap names its trust store itself (HttpClient.cpp).
  ./Configure linux-x86_64 no-shared no-tests no-module --prefix="$prefix" --libdir=lib \
    --openssldir=/usr/lib/ssl -fPIC
  make -j"$jobs" build_libs
  make install_dev DESTDIR="$stage"
}

echo "native-deps: building ${!dsc[*]} into $prefix (log: $log)"
# Not in an `if`: bash ignores set -e inside a condition, subshells included.
set +e
(
  set -e
  build_zlib
  build_bzip2
  build_dav1d
  build_jpeg
  [ -z "${dsc[openssl]:-}" ] || build_openssl
) > "$log" 2>&1
status=$?
set -e
if [ "$status" -ne 0 ]; then
  tail -n 30 "$log"
  echo "native-deps: the build failed"
  exit 1
fi
echo "$stamp" > "$dest/built-by"
rm -rf "$prefix"
mv "$dest" "$prefix"
mv "$log" "$prefix/"
rm -rf "$build"
echo "native-deps: built in $(( SECONDS - start )) s"
