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
    Input::probeStreams(*ctx);
  }
  return ctx;
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

// One I/O buffer: the range a read after a seek asks for, unless the demuxer
// wants more at once (a sample larger than this is read directly).
constexpr int kUrlBufferSize = 32 * 1024;
// Reading on doubles the range up to this.
constexpr int64_t kMaxRange = 8 * 1024 * 1024;

}  // namespace

UrlInput::UrlInput(std::string url) : url_(std::move(url)) {
  if (url_.rfind("http://", 0) != 0 && url_.rfind("https://", 0) != 0) {
    throw Error(ErrorCode::Internal, "UrlInput: only http and https URLs are read");
  }
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

std::string UrlInput::describe() const {
  // Scheme, host and path only: the query of a presigned URL is its
  // credential, and so is a user:password@ before the host.
  std::string shown = url_.substr(0, url_.find_first_of("?#"));
  const size_t host = shown.find("://") + 3;
  const size_t at = shown.find('@', host);
  if (at != std::string::npos && at < shown.find('/', host)) {
    shown.erase(host, at + 1 - host);
  }
  return shown;
}

AVIOContext* UrlInput::customIo(const AVIOInterruptCB& interrupt) const {
  interrupt_ = interrupt;
  return io_.get();
}

int UrlInput::read(void* opaque, uint8_t* buf, int size) {
  auto* self = static_cast<UrlInput*>(opaque);
  if (self->size_ >= 0 && self->position_ >= self->size_) {
    return AVERROR_EOF;
  }
  for (int attempt = 0;; ++attempt) {
    const int ret = self->prepare(size);
    if (ret < 0) {
      return ret;
    }
    const bool fresh = self->responseAt_ == self->responseStart_;
    const auto wanted = static_cast<int>(std::min<int64_t>(size, self->responseEnd_ - self->responseAt_));
    const int n = avio_read_partial(self->response_.get(), buf, wanted);
    if (n > 0) {
      self->responseAt_ += n;
      self->position_ += n;
      return n;
    }
    self->dropResponse();
    if (n == AVERROR_EOF && self->size_ < 0) {
      // A server that told no size ended the resource here.
      self->size_ = self->position_;
      return AVERROR_EOF;
    }
    // A response that served part of its range may have been closed by
    // the server while the demuxer was busy: ask once more for the rest.
    if (fresh || attempt > 0 || n == AVERROR_EXIT) {
      return n == AVERROR_EOF || n == 0 ? AVERROR(EIO) : n;  // less than the range asked for
    }
  }
}

int64_t UrlInput::seek(void* opaque, int64_t offset, int whence) {
  auto* self = static_cast<UrlInput*>(opaque);
  int64_t target = 0;
  switch (whence & ~AVSEEK_FORCE) {
    case AVSEEK_SIZE:
      if (self->size_ < 0) {
        // Only a response tells the size: ask for what is read next anyway.
        const int ret = self->prepare(kUrlBufferSize);
        if (ret < 0) {
          return ret;
        }
      }
      return self->size_ >= 0 ? self->size_ : AVERROR(ENOSYS);
    case SEEK_SET:
      target = offset;
      break;
    case SEEK_CUR:
      target = self->position_ + offset;
      break;
    case SEEK_END:
      if (self->size_ < 0) {
        return AVERROR(ENOSYS);
      }
      target = self->size_ + offset;
      break;
    default:
      return AVERROR(EINVAL);
  }
  if (target < 0) {
    return AVERROR(EINVAL);
  }
  self->position_ = target;
  return target;
}

int UrlInput::prepare(int size) {
  if (response_ != nullptr && position_ >= responseAt_ && position_ < responseEnd_) {
    // Within the range being read: read up to position_ and drop it; it
    // was fetched already.
    uint8_t skipped[4096];
    while (responseAt_ < position_) {
      const auto wanted = static_cast<int>(std::min<int64_t>(sizeof(skipped), position_ - responseAt_));
      const int n = avio_read_partial(response_.get(), skipped, wanted);
      if (n == AVERROR_EXIT) {
        return n;
      }
      if (n <= 0) {
        // The server closed it: a new request below.
        dropResponse();
        break;
      }
      responseAt_ += n;
    }
    if (response_ != nullptr) {
      return 0;
    }
  }
  // Reading on past a range: a larger one; after a seek: what is asked.
  const bool onward = response_ != nullptr && position_ == responseEnd_;
  return request(onward ? std::min(kMaxRange, std::max<int64_t>(size, 2 * lastRange_)) : size);
}

void UrlInput::dropResponse() {
  // What the server did not send of the range was not fetched.
  fetched_ -= responseEnd_ - responseAt_;
  response_.reset();
}

int UrlInput::request(int64_t length) {
  response_.reset();
  if (size_ >= 0) {
    length = std::min(length, size_ - position_);
  }
  AVDictionary* options = nullptr;
  av_dict_set(&options, "protocol_whitelist", "http,https,tcp,tls", 0);
  av_dict_set_int(&options, "offset", position_, 0);
  av_dict_set_int(&options, "end_offset", position_ + length, 0);
  // A stalled read fails after this long instead of holding a worker
  // forever (microseconds, for every protocol of the chain).
  av_dict_set(&options, "rw_timeout", "30000000", 0);
  // https checks the server's certificate against the system's trust store.
  av_dict_set(&options, "tls_verify", "1", 0);
  av_dict_set(&options, "user_agent", "vsnap", 0);
  // No Icy-MetaData header: this is a file, not an internet radio stream.
  av_dict_set(&options, "icy", "0", 0);
  AVIOContext* raw = nullptr;
  const int ret = avio_open2(&raw, url_.c_str(), AVIO_FLAG_READ, &interrupt_, &options);
  av_dict_free(&options);
  if (ret < 0) {
    return ret;
  }
  response_.reset(raw);
  if (size_ < 0) {
    // http's size is the total of the response's Content-Range.
    const int64_t size = avio_size(raw);
    size_ = size >= 0 ? size : -1;
  }
  responseStart_ = position_;
  responseAt_ = position_;
  responseEnd_ = size_ >= 0 ? std::min(position_ + length, size_) : position_ + length;
  lastRange_ = length;
  fetched_ += responseEnd_ - responseAt_;
  return 0;
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
