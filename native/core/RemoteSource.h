// RemoteSource: one http(s) URL, such as an object store's presigned GET,
// read by range for every reader of one extraction (its planning pass and
// its decode lanes), so that each byte is fetched at most once.
//
// Fetched bytes go into a block cache of 32 KiB blocks in an unlinked
// temporary file (the page cache holds it, not the heap): a reader takes
// what is there, waits for blocks another reader is fetching, and fetches
// the rest itself, never a block that is present or on its way. Ranges are
// whole blocks: what is asked, plus the read-ahead its reader asks for (a
// reader that reads on asks for as much again as it read since its last
// seek, up to 8 MiB: UrlInput), stopping at the first block present or on
// its way. So a dense plan costs about one request per few MiB, a sparse
// one a block or a few per target. At most four requests run at once;
// connections are kept alive between them.
//
// Every request after the first carries the object's validator (If-Match
// with its ETag, else If-Unmodified-Since with its Last-Modified), and every
// response is checked against the object's size and validator: an object
// that changes between requests fails with ErrorCode::InputChanged rather
// than give a picture made of two objects. A response cut short or a
// connection dropped mid-body is asked again for the rest, as is a 5xx
// (three times, with back-off); a server that ignores Range (200 and the
// whole body) has its whole body cached as it comes, once. Without a
// temporary directory the source reads through: each read fetches exactly
// its bytes (no sharing, no read-ahead).
#pragma once

#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "FFmpeg.h"
#include "HttpClient.h"

namespace vsnap {

// What one reader fetched: body bytes received and requests sent.
struct FetchCount {
  int64_t bytes = 0;
  int64_t requests = 0;
};

class RemoteSource {
 public:
  explicit RemoteSource(std::string url);
  ~RemoteSource();
  RemoteSource(const RemoteSource&) = delete;
  RemoteSource& operator=(const RemoteSource&) = delete;

  // Scheme, host and path: never the query (a presigned URL's signature) or
  // user:password@.
  std::string describe() const;
  // Copies up to `size` bytes from `position` into `buffer`; 0 at the end.
  // Where it must fetch, it fetches `ahead` bytes more (read-ahead). What
  // it fetched is added to `counts`. Throws vsnap::Error.
  size_t read(int64_t position, uint8_t* buffer, size_t size, int64_t ahead, const AVIOInterruptCB& interrupt,
              FetchCount& counts);
  // The object's size: the first response tells it, so when none has come
  // yet this reads (and keeps) the block at `position`, which is read next.
  int64_t size(int64_t position, const AVIOInterruptCB& interrupt, FetchCount& counts);

 private:
  enum class Block : uint8_t { Missing, Fetching, Present };
  struct Fetch;

  size_t readCached(int64_t position, uint8_t* buffer, size_t size);
  // Fetches [start, end) into the cache (where there is one) and `target`.
  void fetch(int64_t start, int64_t end, Fetch& target, const AVIOInterruptCB& interrupt, FetchCount& counts);
  // One request and its body, from `start`: how far it got.
  int64_t fetchOnce(int64_t start, int64_t end, Fetch& target, const AVIOInterruptCB& interrupt, FetchCount& counts);
  // Data of the object from `offset`: into the cache, the caller's buffer,
  // and the blocks it completes marked present.
  void deliver(int64_t offset, const uint8_t* data, size_t size, Fetch& target);
  void learnObject(const HttpResponse& response, int64_t total);
  std::vector<std::string> validatorHeaders() const;
  std::unique_ptr<HttpConnection> takeConnection(const HttpUrl& url, const AVIOInterruptCB& interrupt);
  void keepConnection(std::unique_ptr<HttpConnection> connection);
  void openCache();
  void waitForChange(std::unique_lock<std::mutex>& lock, const AVIOInterruptCB& interrupt);

  const std::string url_;
  mutable std::mutex mutex_;
  std::condition_variable changed_;  // a block's state, the size, or a fetch slot
  HttpUrl current_;                  // after redirects
  int64_t size_ = -1;
  std::string etag_;
  std::string lastModified_;
  bool sizing_ = false;  // the first request is on its way
  std::vector<Block> blocks_;
  int cache_ = -1;       // the temporary file's descriptor; -1: reading through
  bool cacheTried_ = false;
  int fetches_ = 0;      // requests in flight
  std::vector<std::unique_ptr<HttpConnection>> idle_;
};

}  // namespace vsnap
