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
  // What `probeStreams` does, for a context open() gave without it.
  static void probeStreams(AVFormatContext& format);

  // How the input is named in error messages.
  virtual std::string describe() const = 0;

  // Bytes fetched from the source for `format`, a context open() gave: what
  // its AVIOContext read, unless the source fetches in its own way.
  virtual int64_t bytesFetched(const AVFormatContext& format) const;

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

// An http(s) URL, such as an object store's presigned GET, read by range
// through FFmpeg's http protocol. Every request asks for a bounded range
// (Range: bytes=a-b): after a seek, what the demuxer asks for (an MP4
// sample, one I/O buffer); while it reads on, ranges that double up to
// kMaxRange. An open-ended range (FFmpeg's http seek) lets the server stream
// on into socket buffers until the connection closes: megabytes per seek.
// Every byte requested counts as fetched, read or not, since the server
// sends it. The whitelist (http, https, tcp, tls) keeps redirects on
// http(s): nothing opened can name a local file. FFmpeg sends no credentials
// of its own; a presigned URL carries its signature in the query, which
// describe() leaves out. The server must honour Range, as object stores do.
class UrlInput : public Input {
 public:
  explicit UrlInput(std::string url);
  std::string describe() const override;
  int64_t bytesFetched(const AVFormatContext& /*format*/) const override { return fetched_; }

 protected:
  std::string url() const override { return ""; }
  const char* protocolWhitelist() const override { return ""; }
  AVIOContext* customIo(const AVIOInterruptCB& interrupt) const override;

 private:
  static int read(void* opaque, uint8_t* buf, int size);
  static int64_t seek(void* opaque, int64_t offset, int whence);
  // Makes the open response deliver position_ next, requesting a range of
  // at least `size` bytes when it cannot.
  int prepare(int size);
  // Requests [position_, position_ + length), clipped to the size.
  int request(int64_t length);
  // Closes the response that ended before its range did.
  void dropResponse();

  std::string url_;
  // Set by customIo: reads run under the interrupt callback of the opener.
  mutable AVIOInterruptCB interrupt_{};
  AvioContextPtr io_;
  OpenedIoPtr response_;       // the range being read, or null
  int64_t responseStart_ = 0;  // where its range starts
  int64_t responseAt_ = 0;     // position of its next byte
  int64_t responseEnd_ = 0;    // end of its range
  int64_t lastRange_ = 0;      // length of the last range requested
  int64_t position_ = 0;       // where the demuxer reads next
  int64_t size_ = -1;          // the resource's size, once a response told it
  int64_t fetched_ = 0;
};

}  // namespace vsnap
