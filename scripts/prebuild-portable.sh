#!/usr/bin/env bash
# Makes the prebuilt addon's package as `npm run prebuilt` does
# (scripts/prebuild.mjs), but in a Debian 11 (bullseye) chroot, so that the
# addon needs glibc 2.31 rather than the build host's (2.36 on Debian 12):
# it then loads on Debian 11, Ubuntu 20.04, RHEL 9 and their successors.
#
#   npm run prebuilt:portable      (as root: debootstrap, chroot, mounts)
#
# The chroot is made once, with debootstrap from Debian's mirror, in
# $VSNAP_PORTABLE_ROOT (default build/portable/root), with bullseye's
# compilers, cmake, meson and nasm. The sources are the host's, fetched
# here (the chroot has no deb-src lists): bookworm's FFmpeg, dav1d,
# libjpeg-turbo, zlib, bzip2 and OpenSSL, so the portable addon holds the
# same library versions as one built on the host, compiled by GCC 10
# against glibc 2.31. Inside, the repository is mounted at /vsnap with
# build/portable/build as its build/, so its static libraries, its FFmpeg
# and the package it stages (build/portable/build/prebuild/package, which
# `npm pack` takes while it is of the current sources) stay apart from the
# host's. The mounts live in a mount namespace of their own and go with it.
#
# About 25 minutes on 2 cores the first time (OpenSSL and FFmpeg), 3 after
# a change to vsnap's C++ alone.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
root=${VSNAP_PORTABLE_ROOT:-$repo/build/portable/root}
work=$repo/build/portable/build
packages=build-essential,cmake,nasm,meson,ninja-build,pkg-config,python3,perl,xz-utils,bzip2,patch,dpkg-dev

if [ "$(id -u)" -ne 0 ]; then
  echo "prebuilt-portable: run as root (debootstrap, chroot and mount need it)"
  exit 1
fi
command -v debootstrap >/dev/null ||
  { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends debootstrap; }
if [ "$(cat "$root/.vsnap-packages" 2>/dev/null)" != "$packages" ]; then
  echo "prebuilt-portable: making a Debian 11 chroot in $root (debootstrap, a few minutes)"
  rm -rf "$root"
  mkdir -p "$root"
  debootstrap --variant=minbase --include="$packages" bullseye "$root" http://deb.debian.org/debian > "$root.log" 2>&1 ||
    { tail -n 20 "$root.log"; echo "prebuilt-portable: debootstrap failed"; exit 1; }
  echo "$packages" > "$root/.vsnap-packages"
fi

# The sources, fetched on the host.
# shellcheck source=scripts/ffmpeg-source.sh
source scripts/ffmpeg-source.sh
ffmpeg_fetch prebuilt-portable
VSNAP_OPENSSL=source bash scripts/native-deps.sh --fetch-only
[ -d dist/src ] || npm run --silent build:ts

mkdir -p "$work"
node_modules=$(readlink -f node_modules)
node=$(readlink -f "$(command -v node)")
export root repo work node_modules node ffmpeg_debian_version ffmpeg_source_dir
unshare --mount --propagation private bash -euo pipefail -c '
  bind() { mkdir -p "$root$2"; mount --bind "$1" "$root$2"; }
  bind "$repo" /vsnap
  bind "$work" /vsnap/build
  # node_modules may be a link out of the repository (a worktree): its target, at the same path.
  [ "$node_modules" = "$repo/node_modules" ] || bind "$node_modules" "$node_modules"
  bind "$ffmpeg_source_dir" /sources/ffmpeg
  bind "$repo/build/deps-source" /sources/deps
  bind /usr/include/node /usr/include/node
  touch "$root/usr/local/bin/node"
  mount --bind "$node" "$root/usr/local/bin/node"
  mount -t proc proc "$root/proc"
  mount --rbind /dev "$root/dev"
  chroot "$root" /usr/bin/env -i HOME=/root PATH=/usr/local/bin:/usr/bin:/bin LANG=C.UTF-8 \
    VSNAP_DEPS_OFFLINE=1 VSNAP_OPENSSL=source VSNAP_DEPS_SOURCE_DIR=/sources/deps \
    VSNAP_FFMPEG_VERSION="$ffmpeg_debian_version" FFMPEG_SOURCE_DIR=/sources/ffmpeg npm_config_nodedir=/usr \
    bash -c "cd /vsnap && node scripts/prebuild.mjs"
'
echo "prebuilt-portable: staged build/portable/build/prebuild/package; npm pack takes it while it is of these sources"
