#include "Input.h"

#include <algorithm>
#include <cstring>

#include "Error.h"

extern "C" {
#include <libavutil/avstring.h>
#include <libavutil/dict.h>
}

namespace vsnap {

namespace {

// Containers a video may arrive in, and audio containers, so that an audio
// file is told it has no video stream rather than that it is unknown.
// Demuxers that open other files or URLs by themselves (playlists, concat,
// image sequences) are left out on purpose.
constexpr const char* kFormatWhitelist = "mov,matroska,avi,flv,mpegts,mpeg,asf,ogg,mp3,wav,flac,aac";

int interrupted(void* opaque) {
  auto* cancel = static_cast<const std::atomic<bool>*>(opaque);
  return cancel != nullptr && cancel->load() ? 1 : 0;
}

struct DictionaryDeleter {
  void operator()(AVDictionary* dict) const { av_dict_free(&dict); }
};

}  // namespace

FormatContextPtr Input::open(const std::atomic<bool>* cancel, bool probeStreams) const {
  AVFormatContext* raw = avformat_alloc_context();
  if (raw == nullptr) {
    throw Error(ErrorCode::Internal, "avformat_alloc_context: out of memory");
  }
  raw->pb = customIo();
  if (raw->pb != nullptr) {
    raw->flags |= AVFMT_FLAG_CUSTOM_IO;
  }
  raw->interrupt_callback.callback = interrupted;
  raw->interrupt_callback.opaque = const_cast<std::atomic<bool>*>(cancel);

  AVDictionary* options = nullptr;
  av_dict_set(&options, "format_whitelist", kFormatWhitelist, 0);
  av_dict_set(&options, "protocol_whitelist", protocolWhitelist(), 0);
  std::unique_ptr<AVDictionary, DictionaryDeleter> ownedOptions(options);

  // avformat_open_input takes the raw pointer and frees the context itself
  // when it fails, so ownership passes to FormatContextPtr only on success.
  AVDictionary* opts = ownedOptions.release();
  int ret = avformat_open_input(&raw, url().c_str(), nullptr, &opts);
  ownedOptions.reset(opts);
  if (ret < 0) {
    const std::string what = "avformat_open_input(" + describe() + ")";
    if (ret == AVERROR(ENOENT) || ret == AVERROR(EACCES) || ret == AVERROR(EISDIR)) {
      checkAv(ret, what.c_str(), ErrorCode::InputNotFound);
    }
    // A container we read that fails to open is damaged (an MP4 cut before
    // its index, say); unknown data and formats outside the whitelist are not
    // videos we read.
    const std::string format = detectFormat();
    if (ret == AVERROR_INVALIDDATA && !format.empty() && av_match_list(format.c_str(), kFormatWhitelist, ',') > 0) {
      throw Error(ErrorCode::CorruptInput,
                  what + ": truncated or corrupt " + format + " data (" + avErrorText(ret) + ")");
    }
    throw Error(ErrorCode::UnsupportedInput,
                what + ": not a video container vsnap reads (" + avErrorText(ret) + ")");
  }
  FormatContextPtr ctx(raw);
  if (probeStreams) {
    checkAv(avformat_find_stream_info(ctx.get(), nullptr), "avformat_find_stream_info", ErrorCode::CorruptInput);
  }
  return ctx;
}

std::string Input::detectFormat() const {
  AVIOContext* io = customIo();
  AVIOContext* opened = nullptr;
  if (io == nullptr) {
    AVDictionary* options = nullptr;
    av_dict_set(&options, "protocol_whitelist", protocolWhitelist(), 0);
    const int ret = avio_open2(&opened, url().c_str(), AVIO_FLAG_READ, nullptr, &options);
    av_dict_free(&options);
    if (ret < 0) {
      return "";
    }
    io = opened;
  } else if (avio_seek(io, 0, SEEK_SET) < 0) {
    return "";
  }
  const AVInputFormat* format = nullptr;
  // By content only: a file name's extension says nothing about damage.
  const int ret = av_probe_input_buffer2(io, &format, nullptr, nullptr, 0, 0);
  avio_closep(&opened);
  return ret >= 0 && format != nullptr ? format->name : "";
}

MemoryInput::MemoryInput(const uint8_t* data, size_t size) : data_(data), size_(size) {
  constexpr int kBufferSize = 64 * 1024;
  auto* buffer = static_cast<unsigned char*>(av_malloc(kBufferSize));
  if (buffer == nullptr) {
    throw Error(ErrorCode::Internal, "av_malloc: out of memory");
  }
  AVIOContext* io = avio_alloc_context(buffer, kBufferSize, 0, this, &MemoryInput::read,
                                       nullptr, &MemoryInput::seek);
  if (io == nullptr) {
    av_free(buffer);
    throw Error(ErrorCode::Internal, "avio_alloc_context: out of memory");
  }
  io_.reset(io);
}

int MemoryInput::read(void* opaque, uint8_t* buf, int size) {
  auto* self = static_cast<MemoryInput*>(opaque);
  const size_t left = self->size_ - self->position_;
  if (left == 0) {
    return AVERROR_EOF;
  }
  const size_t n = std::min(left, static_cast<size_t>(size));
  std::memcpy(buf, self->data_ + self->position_, n);
  self->position_ += n;
  return static_cast<int>(n);
}

int64_t MemoryInput::seek(void* opaque, int64_t offset, int whence) {
  auto* self = static_cast<MemoryInput*>(opaque);
  const auto size = static_cast<int64_t>(self->size_);
  int64_t target = 0;
  switch (whence & ~AVSEEK_FORCE) {
    case AVSEEK_SIZE:
      return size;
    case SEEK_SET:
      target = offset;
      break;
    case SEEK_CUR:
      target = static_cast<int64_t>(self->position_) + offset;
      break;
    case SEEK_END:
      target = size + offset;
      break;
    default:
      return AVERROR(EINVAL);
  }
  if (target < 0 || target > size) {
    return AVERROR(EINVAL);
  }
  self->position_ = static_cast<size_t>(target);
  return target;
}

}  // namespace vsnap
