# Sourced by scripts/ffmpeg-static.sh and scripts/ffmpeg-asan.sh: the source
# of the FFmpeg that Debian ships (the version of the installed libavcodec,
# Debian's patches applied), and the components vsnap reads.
#
# The tarballs are kept in $FFMPEG_SOURCE_DIR (default build/ffmpeg-source),
# fetched with `apt-get source --download-only` when missing (adding the
# deb-src entries if apt has none).

# The version of the library vsnap links against, e.g. 7:5.1.9-0+deb12u1:
# the installed libavcodec-dev's, or $VSNAP_FFMPEG_VERSION (the portable
# build names the host's inside its chroot).
ffmpeg_debian_version=${VSNAP_FFMPEG_VERSION:-$(dpkg-query -W -f='${source:Version}' libavcodec-dev)}

ffmpeg_as_root=()
[ "$(id -u)" -eq 0 ] || ffmpeg_as_root=(sudo)

# debian_source_add_deb_src, shared with the other libraries' sources.
# shellcheck source=scripts/debian-source.sh
source scripts/debian-source.sh

ffmpeg_source_dir=${FFMPEG_SOURCE_DIR:-$PWD/build/ffmpeg-source}
ffmpeg_upstream=${ffmpeg_debian_version#*:}
ffmpeg_upstream=${ffmpeg_upstream%-*}

# ffmpeg_fetch NAME: the tarballs in $FFMPEG_SOURCE_DIR; NAME prefixes what
# it prints.
ffmpeg_fetch() {
  local name=$1 source_dir=$ffmpeg_source_dir
  local orig=$source_dir/ffmpeg_$ffmpeg_upstream.orig.tar.xz
  local patches=$source_dir/ffmpeg_${ffmpeg_debian_version#*:}.debian.tar.xz
  if [ ! -f "$orig" ] || [ ! -f "$patches" ]; then
    debian_source_add_deb_src
    if ! apt-cache showsrc ffmpeg 2>/dev/null | grep -qx "Version: $ffmpeg_debian_version"; then
      "${ffmpeg_as_root[@]}" apt-get update -q
    fi
    echo "$name: fetching the source of ffmpeg $ffmpeg_debian_version into $source_dir"
    mkdir -p "$source_dir"
    (cd "$source_dir" && apt-get source --download-only "ffmpeg=$ffmpeg_debian_version")
  fi
}

# ffmpeg_unpack NAME DIR: the patched source tree in DIR (made anew); NAME
# prefixes what it prints.
ffmpeg_unpack() {
  local name=$1 work=$2
  ffmpeg_fetch "$name"
  local orig=$ffmpeg_source_dir/ffmpeg_$ffmpeg_upstream.orig.tar.xz
  local patches=$ffmpeg_source_dir/ffmpeg_${ffmpeg_debian_version#*:}.debian.tar.xz
  rm -rf "$work"
  mkdir -p "$work"
  tar -xJf "$orig" -C "$work" --strip-components=1
  tar -xJf "$patches" -C "$work"
  local patch
  while read -r patch; do
    case "$patch" in ''|'#'*) continue ;; esac
    patch -d "$work" -p1 -s < "$work/debian/patches/$patch"
  done < "$work/debian/patches/series"
}

# What vsnap reads: the demuxers of its format whitelist
# (native/core/Input.cpp); the video decoders of the containers it accepts;
# and the decoders that probing a stream (`avformat_find_stream_info`) opens
# when a file, or a damaged header, names them: the audio codecs of those
# containers, their other video codecs, their subtitle formats; every
# parser; swscale. Protocols and AV1 (libdav1d) are each build's own, given
# after these: --disable-everything undoes what comes before it.
ffmpeg_components=(
  --disable-everything --disable-programs --disable-doc --disable-autodetect
  --disable-avdevice --disable-avfilter
  --enable-pthreads --enable-zlib --enable-bzlib
  --enable-demuxer=mov,matroska,avi,flv,live_flv,mpegts,mpegps,asf,ogg,mp3,wav,flac,aac
  # The elementary-stream formats FFmpeg probes a stream's bytes against
  # when its container does not name the codec (MPEG-PS, MPEG-TS: fmt_id_type
  # in libavformat/demux.c); without them an MPEG-PS file has no video stream.
  --enable-demuxer=ac3,aptx,dts,dvbsub,dvbtxt,eac3,h264,hevc,loas,m4v,mjpeg_2000,mpegvideo,truehd
  --enable-decoder=h264,hevc,mpeg4,msmpeg4v1,msmpeg4v2,msmpeg4v3,vp8,vp9,flv,h263,h263p,h263i,mpeg1video,mpeg2video
  --enable-decoder='wmv*,vc1,theora,vp3,vp6*,mjpeg,h261,huffyuv,ffv1,dvvideo,rawvideo,cinepak,msvideo1,svq*,rv*,prores,dnxhd'
  --enable-decoder='aac*,ac3*,eac3*,mp1*,mp2*,mp3*,wma*,vorbis,opus,flac,alac,pcm_*,adpcm_*,dca,truehd,mlp,amr*,nellymoser,gsm*,qdm2,cook,atrac*,ra_*,speex,tta,wavpack,ape'
  --enable-decoder='ass,ssa,srt,subrip,dvdsub,dvbsub,xsub,mov_text,text,webvtt'
  --enable-parsers
  --enable-swscale --enable-swresample
)
