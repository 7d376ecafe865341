// Where the bytes of a video come from. An Input opens an AVFormatContext
// that reads through it; the Input must outlive that context.
//
// Each kind of source is one subclass: a file path, an in-memory buffer read
// through a custom AVIOContext (no temp file), an http(s) URL read by bounded
// ranges. Nothing else in the core knows the kind.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "Error.h"
#include "FFmpeg.h"
#include "RemoteSource.h"

namespace vsnap {

class Input {
 public:
  virtual ~Input() = default;

  // Opens the container and, with `probeStreams`, reads ahead to learn its
  // streams' parameters. `cancel`, when set, makes blocking I/O give up
  // (through the context's interrupt callback).
  FormatContextPtr open(const std::atomic<bool>* cancel, bool probeStreams) const;
  // What `probeStreams` does, for a context open() gave without it.
  static void probeStreams(AVFormatContext& format);
  // The same, throwing what this input's reads failed on where they did.
  void probeStreamsOf(AVFormatContext& format) const;

  // How the input is named in error messages.
  virtual std::string describe() const = 0;

  // Bytes fetched from the source for `format`, a context open() gave: what
  // its AVIOContext read, unless the source fetches in its own way; and the
  // requests that took (0 for a file or buffer).
  virtual int64_t bytesFetched(const AVFormatContext& format) const;
  virtual int64_t requestsMade() const { return 0; }
  // Throws the error that made a read fail, where the input knows more than
  // the return code it gave FFmpeg (a changed remote object, say).
  virtual void throwIfFailed() const {}
  // The reads that follow are bytes [from, to) for the most part (the
  // packets a decode needs, from the container's index): an input that
  // fetches them can do so in as few requests as it may.
  virtual void expectReads(int64_t /*from*/, int64_t /*to*/) {}

 protected:
  // The URL handed to avformat_open_input and the protocols it may use.
  virtual std::string url() const = 0;
  virtual const char* protocolWhitelist() const = 0;
  // A custom AVIOContext, or nullptr to let FFmpeg open `url()` itself.
  // Blocking I/O it does gives up when `interrupt` says so.
  virtual AVIOContext* customIo(const AVIOInterruptCB& /*interrupt*/) const { return nullptr; }

 private:
  // The name of the container the data looks like, or "".
  std::string detectFormat(const AVIOInterruptCB& interrupt) const;
};

class FileInput : public Input {
 public:
  explicit FileInput(std::string path) : path_(std::move(path)) {}
  std::string describe() const override { return path_; }

 protected:
  // "file:" keeps a path that contains ':' from being read as a protocol.
  std::string url() const override { return "file:" + path_; }
  const char* protocolWhitelist() const override { return "file"; }

 private:
  std::string path_;
};

// Reads a caller-owned buffer, which must stay alive and unchanged for the
// life of this object.
class MemoryInput : public Input {
 public:
  MemoryInput(const uint8_t* data, size_t size);
  std::string describe() const override { return "<buffer>"; }

 protected:
  std::string url() const override { return ""; }
  const char* protocolWhitelist() const override { return ""; }
  AVIOContext* customIo(const AVIOInterruptCB& /*interrupt*/) const override { return io_.get(); }

 private:
  static int read(void* opaque, uint8_t* buf, int size);
  static int64_t seek(void* opaque, int64_t offset, int whence);

  const uint8_t* data_;
  size_t size_;
  size_t position_ = 0;
  AvioContextPtr io_;
};

// An http(s) URL, read by range through a RemoteSource that every reader
// of one extraction shares (RemoteSource.h): each reader keeps its own
// position, and what one fetched the others read from the cache.
class UrlInput : public Input {
 public:
  explicit UrlInput(std::shared_ptr<RemoteSource> source);
  std::string describe() const override { return source_->describe(); }
  int64_t bytesFetched(const AVFormatContext& /*format*/) const override { return counts_.bytes; }
  int64_t requestsMade() const override { return counts_.requests; }
  void throwIfFailed() const override;
  void expectReads(int64_t from, int64_t to) override;

 protected:
  std::string url() const override { return ""; }
  const char* protocolWhitelist() const override { return ""; }
  AVIOContext* customIo(const AVIOInterruptCB& interrupt) const override;

 private:
  static int read(void* opaque, uint8_t* buf, int size);
  static int64_t seek(void* opaque, int64_t offset, int whence);
  // Keeps what a read or seek threw, for throwIfFailed, and gives FFmpeg a
  // return code that stops it.
  int fail(const Error& error);

  std::shared_ptr<RemoteSource> source_;
  // Set by customIo: reads run under the interrupt callback of the opener.
  mutable AVIOInterruptCB interrupt_{};
  AvioContextPtr io_;
  int64_t position_ = 0;
  // Read-ahead: bytes read on without a seek since the last one (readEnd_
  // is where the last read stopped).
  int64_t streak_ = 0;
  int64_t readEnd_ = -1;
  int64_t expectedFrom_ = 0;  // expectReads
  int64_t expectedTo_ = 0;
  FetchCount counts_;
  std::unique_ptr<Error> failure_;
};

}  // namespace vsnap
