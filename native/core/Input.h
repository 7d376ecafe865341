// Where the bytes of a video come from. An Input opens an AVFormatContext
// that reads through it; the Input must outlive that context.
//
// Each kind of source is one subclass: a file path, an in-memory buffer read
// through a custom AVIOContext (no temp file). An http(s) source with range
// reads through FFmpeg's own protocol is one more subclass (a URL and a
// protocol whitelist) and changes nothing else in the core.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string>

#include "FFmpeg.h"

namespace vsnap {

class Input {
 public:
  virtual ~Input() = default;

  // Opens the container and, with `probeStreams`, reads ahead to learn its
  // streams' parameters. `cancel`, when set, makes blocking I/O give up
  // (through the context's interrupt callback).
  FormatContextPtr open(const std::atomic<bool>* cancel, bool probeStreams) const;

  // How the input is named in error messages.
  virtual std::string describe() const = 0;

 protected:
  // The URL handed to avformat_open_input and the protocols it may use.
  virtual std::string url() const = 0;
  virtual const char* protocolWhitelist() const = 0;
  // A custom AVIOContext, or nullptr to let FFmpeg open `url()` itself.
  virtual AVIOContext* customIo() const { return nullptr; }

 private:
  // The name of the container the data looks like, or "".
  std::string detectFormat() const;
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
  AVIOContext* customIo() const override { return io_.get(); }

 private:
  static int read(void* opaque, uint8_t* buf, int size);
  static int64_t seek(void* opaque, int64_t offset, int whence);

  const uint8_t* data_;
  size_t size_;
  size_t position_ = 0;
  AvioContextPtr io_;
};

}  // namespace vsnap
