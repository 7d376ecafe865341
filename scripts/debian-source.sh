# Sourced by scripts/native-deps.sh and scripts/ffmpeg-source.sh: a Debian source package, Debian's
# patches applied, fetched with `apt-get source --download-only` into
# $VSNAP_DEPS_SOURCE_DIR (default build/deps-source) and unpacked with
# dpkg-source.
#
# The version taken is the one of the installed binary package named (the
# library's -dev package: what setup installs and apt's security updates
# move), so that running setup again after an update builds the new source.
# Where the mirror does not serve that version's source, the newest older
# one it serves, with a warning. With VSNAP_DEPS_OFFLINE=1 nothing is fetched: the
# newest version already in the directory is taken (the portable build
# fetches on the host and builds in a chroot that has no deb-src lists).

debian_source_dir=${VSNAP_DEPS_SOURCE_DIR:-$PWD/build/deps-source}

debian_as_root=()
[ "$(id -u)" -eq 0 ] || debian_as_root=(sudo)

# debian_source_add_deb_src: deb-src entries for bookworm, unless apt has some.
debian_source_add_deb_src() {
  if grep -rqs '^Types: deb-src' /etc/apt/sources.list.d/ || grep -qs '^deb-src' /etc/apt/sources.list; then
    return
  fi
  echo "debian-source: adding deb-src entries to /etc/apt/sources.list.d/debian-src.sources"
  "${debian_as_root[@]}" tee /etc/apt/sources.list.d/debian-src.sources >/dev/null <<'EOF'
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
  "${debian_as_root[@]}" apt-get update -q
}

# The .dsc files of source package $1 in the directory, newest first.
debian_source_present() {
  local dsc
  for dsc in "$debian_source_dir/$1"_*.dsc; do
    [ -f "$dsc" ] && echo "$dsc"
  done | awk -F_ '{ v = $NF; sub(/\.dsc$/, "", v); print v "\t" $0 }' |
    sort -t$'\t' -k1,1 -r -V | cut -f2
}

# debian_source_dsc SOURCE BINARY: prints the .dsc of source package SOURCE
# at the version of installed binary package BINARY, fetched if missing.
debian_source_dsc() {
  local source=$1 binary=$2
  mkdir -p "$debian_source_dir"
  if [ "${VSNAP_DEPS_OFFLINE:-0}" = 1 ]; then
    local newest
    newest=$(debian_source_present "$source" | head -n1)
    [ -n "$newest" ] || { echo "debian-source: no source of $source in $debian_source_dir" >&2; return 1; }
    echo "$newest"
    return
  fi
  local wanted
  wanted=$(dpkg-query -W -f='${source:Version}' "$binary")
  local dsc="$debian_source_dir/${source}_${wanted#*:}.dsc"
  [ -f "$dsc" ] && { echo "$dsc"; return; }
  debian_source_add_deb_src
  local version log first=1
  log=$(mktemp)
  # The installed version, then the older ones apt knows, newest first.
  for version in "$wanted" $(apt-cache showsrc "$source" 2>/dev/null | sed -n 's/^Version: //p' | sort -r -V); do
    if [ "$first" = 1 ]; then
      first=0
    elif ! dpkg --compare-versions "$version" lt "$wanted"; then
      continue
    fi
    dsc="$debian_source_dir/${source}_${version#*:}.dsc"
    if (cd "$debian_source_dir" && apt-get source -q --download-only "$source=$version") >> "$log" 2>&1 && [ -f "$dsc" ]; then
      [ "$version" = "$wanted" ] ||
        echo "debian-source: warning: the mirror does not serve $source $wanted (installed); building $version" >&2
      rm -f "$log"
      echo "$dsc"
      return
    fi
  done
  cat "$log" >&2
  rm -f "$log"
  echo "debian-source: cannot fetch the source of $source" >&2
  return 1
}

# debian_source_version DSC: the package's version, without its epoch.
debian_source_version() {
  local name
  name=$(basename "$1" .dsc)
  echo "${name#*_}"
}

# debian_source_unpack DSC DIR: the patched tree in DIR (made anew).
debian_source_unpack() {
  rm -rf "$2"
  mkdir -p "$(dirname "$2")"
  dpkg-source --no-check -x "$1" "$2" >/dev/null
}
