#!/usr/bin/env bash
# Installs everything vsnap needs on Debian 12 / Node 20 and builds it:
# FFmpeg (CLI and development libraries) and the tools from apt where
# missing (PyAV and OpenCV are the benchmarks' peers), npm dependencies,
# the static FFmpeg the addon links (scripts/ffmpeg-static.sh: Debian's
# source of the installed version, only what vsnap reads) with the static
# libraries it links beside it (scripts/native-deps.sh: dav1d, zlib, bzip2,
# libjpeg-turbo), the native addon, the TypeScript build.
# Safe to run any number of times; run it again after apt has updated
# FFmpeg (or dav1d, libjpeg-turbo, zlib, bzip2, OpenSSL), so that the addon
# links the new version.
#
# VSNAP_FFMPEG=system links the system's shared FFmpeg libraries instead;
# so does setup, with a warning, where the static build cannot be made.
#
# Where the native addon cannot be built (apt unavailable, no FFmpeg
# development libraries, no compiler), setup says so and goes on: vsnap
# then decodes with its wasm backend. VSNAP_SETUP_NATIVE=0 skips the native
# build on purpose (and removes an earlier one), as on such a host.
set -euo pipefail
cd "$(dirname "$0")/.."

# node-gyp builds find Node's headers here even without root's npm config.
export npm_config_nodedir="${npm_config_nodedir:-/usr}"

packages=(ffmpeg libavformat-dev libavcodec-dev libswscale-dev libavutil-dev libjpeg62-turbo-dev
          nasm meson libdav1d-dev libssl-dev zlib1g-dev libbz2-dev
          pkg-config cmake make g++ python3 python3-av python3-pil python3-opencv time curl redis-server)
missing=()
for pkg in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing from apt: ${missing[*]}"
  as_root=()
  [ "$(id -u)" -eq 0 ] || as_root=(sudo)
  if ! { "${as_root[@]}" apt-get update -q &&
         DEBIAN_FRONTEND=noninteractive "${as_root[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"; }; then
    echo "setup: warning: apt could not install ${missing[*]}; going on without them"
  fi
fi

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "setup: installing npm dependencies"
  npm ci --no-audit --no-fund
fi

# Which FFmpeg the addon links: the static build, unless VSNAP_FFMPEG=system
# or it cannot be made. CMake picks it up when it configures, so a changed
# choice (or a new FFmpeg version) makes it configure afresh.
choose_ffmpeg() {
  local choice=system
  if [ "${VSNAP_FFMPEG:-static}" = static ]; then
    if bash scripts/ffmpeg-static.sh; then
      choice=$(cat build/ffmpeg-static/built-by)
    else
      echo "setup: warning: the static FFmpeg did not build (see above); the addon links the system's FFmpeg"
    fi
  fi
  [ "$choice" != system ] || rm -rf build/ffmpeg-static
  if [ "$(cat build/ffmpeg-choice 2>/dev/null)" != "$choice" ]; then
    rm -rf build/CMakeCache.txt build/CMakeFiles
    mkdir -p build
    echo "$choice" > build/ffmpeg-choice
  fi
}

native_libs=(libavformat libavcodec libswscale libavutil libjpeg openssl)
if [ "${VSNAP_SETUP_NATIVE:-1}" = 0 ]; then
  echo "setup: skipping the native addon (VSNAP_SETUP_NATIVE=0); vsnap will decode with the wasm backend"
  rm -rf build
elif ! command -v pkg-config >/dev/null || ! pkg-config --exists "${native_libs[@]}"; then
  echo "setup: the development libraries (${native_libs[*]}) are missing, so the native addon is not built;" \
       "vsnap will decode with the slower wasm backend"
elif ! { choose_ffmpeg && echo "setup: building the native addon" && npm run --silent build:native; }; then
  echo "setup: the native addon did not build (see above); vsnap will decode with the slower wasm backend"
fi
echo "setup: building TypeScript"
npm run --silent build:ts
echo "setup: done"
