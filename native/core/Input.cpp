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
  raw->interrupt_callback.callback = interrupted;
  raw->interrupt_callback.opaque = const_cast<std::atomic<bool>*>(cancel);
  raw->pb = customIo(raw->interrupt_callback);
  if (raw->pb != nullptr) {
    raw->flags |= AVFMT_FLAG_CUSTOM_IO;
  }
  const AVIOInterruptCB interrupt = raw->interrupt_callback;

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
    throwIfFailed();
    const std::string what = "avformat_open_input(" + describe() + ")";
    if (ret == AVERROR_EXIT) {
      throw Error(ErrorCode::Aborted, "aborted");
    }
    if (isUnreadable(ret)) {
      checkAv(ret, what.c_str(), ErrorCode::InputNotFound);
    }
    // A container we read that fails to open is damaged (an MP4 cut before
    // its index, say); unknown data and formats outside the whitelist are not
    // videos we read.
    const std::string format = detectFormat(interrupt);
    if (ret == AVERROR_INVALIDDATA && !format.empty() && av_match_list(format.c_str(), kFormatWhitelist, ',') > 0) {
      throw Error(ErrorCode::CorruptInput,
                  what + ": truncated or corrupt " + format + " data (" + avErrorText(ret) + ")");
    }
    throw Error(ErrorCode::UnsupportedInput,
                what + ": not a video container vsnap reads (" + avErrorText(ret) + ")");
  }
  FormatContextPtr ctx(raw);
  if (probeStreams) {
    probeStreamsOf(*ctx);
  }
  return ctx;
}

void Input::probeStreamsOf(AVFormatContext& format) const {
  try {
    probeStreams(format);
  } catch (const Error&) {
    throwIfFailed();
    throw;
  }
}

void Input::probeStreams(AVFormatContext& format) {
  checkAv(avformat_find_stream_info(&format, nullptr), "avformat_find_stream_info", ErrorCode::CorruptInput);
}

int64_t Input::bytesFetched(const AVFormatContext& format) const {
  return format.pb != nullptr ? format.pb->bytes_read : 0;
}

std::string Input::detectFormat(const AVIOInterruptCB& interrupt) const {
  AVIOContext* io = customIo(interrupt);
  AVIOContext* opened = nullptr;
  if (io == nullptr) {
    AVDictionary* options = nullptr;
    av_dict_set(&options, "protocol_whitelist", protocolWhitelist(), 0);
    const int ret = avio_open2(&opened, url().c_str(), AVIO_FLAG_READ, &interrupt, &options);
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

// ---- UrlInput -----------------------------------------------------------------

namespace {

// One AVIOContext buffer: what the demuxer reads at a time, from the cache
// for the most part.
constexpr int kUrlBufferSize = 32 * 1024;

}  // namespace

UrlInput::UrlInput(std::shared_ptr<RemoteSource> source) : source_(std::move(source)) {
  auto* buffer = static_cast<unsigned char*>(av_malloc(kUrlBufferSize));
  if (buffer == nullptr) {
    throw Error(ErrorCode::Internal, "av_malloc: out of memory");
  }
  AVIOContext* io = avio_alloc_context(buffer, kUrlBufferSize, 0, this, &UrlInput::read, nullptr, &UrlInput::seek);
  if (io == nullptr) {
    av_free(buffer);
    throw Error(ErrorCode::Internal, "avio_alloc_context: out of memory");
  }
  io_.reset(io);
}

AVIOContext* UrlInput::customIo(const AVIOInterruptCB& interrupt) const {
  interrupt_ = interrupt;
  return io_.get();
}

void UrlInput::expectReads(int64_t from, int64_t to) {
  expectedFrom_ = from;
  expectedTo_ = to;
}

void UrlInput::throwIfFailed() const {
  if (failure_ != nullptr) {
    throw *failure_;
  }
}

int UrlInput::fail(const Error& error) {
  failure_ = std::make_unique<Error>(error);
  return error.code() == ErrorCode::Aborted ? AVERROR_EXIT : AVERROR(EIO);
}

int UrlInput::read(void* opaque, uint8_t* buf, int size) {
  auto* self = static_cast<UrlInput*>(opaque);
  if (self->position_ != self->readEnd_) {
    self->streak_ = 0;
  }
  try {
    // Ask for as much again as was read on since the last seek (a reader
    // that reads on keeps doing so), or for the rest of what the decoder
    // said it will read.
    const int64_t end = self->position_ + size;
    const bool expected = self->position_ >= self->expectedFrom_ && end < self->expectedTo_;
    const int64_t ahead = std::max(self->streak_, expected ? self->expectedTo_ - end : 0);
    const size_t n =
        self->source_->read(self->position_, buf, static_cast<size_t>(size), ahead, self->interrupt_, self->counts_);
    self->failure_.reset();
    if (n == 0) {
      return AVERROR_EOF;
    }
    self->position_ += static_cast<int64_t>(n);
    self->streak_ += static_cast<int64_t>(n);
    self->readEnd_ = self->position_;
    return static_cast<int>(n);
  } catch (const Error& error) {
    return self->fail(error);
  }
}

int64_t UrlInput::seek(void* opaque, int64_t offset, int whence) {
  auto* self = static_cast<UrlInput*>(opaque);
  int64_t target = 0;
  switch (whence & ~AVSEEK_FORCE) {
    case AVSEEK_SIZE:
      try {
        return self->source_->size(self->position_, self->interrupt_, self->counts_);
      } catch (const Error& error) {
        return self->fail(error);
      }
    case SEEK_SET:
      target = offset;
      break;
    case SEEK_CUR:
      target = self->position_ + offset;
      break;
    case SEEK_END: {
      int64_t size = -1;
      try {
        size = self->source_->size(self->position_, self->interrupt_, self->counts_);
      } catch (const Error& error) {
        return self->fail(error);
      }
      if (size < 0) {
        return AVERROR(ENOSYS);
      }
      target = size + offset;
      break;
    }
    default:
      return AVERROR(EINVAL);
  }
  if (target < 0) {
    return AVERROR(EINVAL);
  }
  self->position_ = target;
  return target;
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
