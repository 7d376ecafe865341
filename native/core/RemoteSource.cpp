#include "RemoteSource.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <thread>

#include "Error.h"

namespace vsnap {

namespace {

constexpr int64_t kBlock = 32 * 1024;
constexpr int64_t kMaxAhead = 8 * 1024 * 1024;
constexpr int kMaxFetches = 4;
constexpr size_t kMaxIdle = 4;
constexpr int kAttempts = 3;
constexpr int kMaxRedirects = 5;
constexpr int kTimeoutMs = 30000;
constexpr size_t kChunk = 64 * 1024;

// A failure worth asking again for: the connection failed or was cut, the
// server answered 5xx.
class Retryable : public Error {
 public:
  using Error::Error;
};

bool interrupted(const AVIOInterruptCB& interrupt) {
  return interrupt.callback != nullptr && interrupt.callback(interrupt.opaque) != 0;
}

void throwIfInterrupted(const AVIOInterruptCB& interrupt) {
  if (interrupted(interrupt)) {
    throw Error(ErrorCode::Aborted, "aborted");
  }
}

// Waits `ms`, giving up at once when interrupted.
void pause(int ms, const AVIOInterruptCB& interrupt) {
  for (int waited = 0; waited < ms; waited += 50) {
    throwIfInterrupted(interrupt);
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

bool weak(const std::string& etag) { return etag.compare(0, 2, "W/") == 0; }

}  // namespace

struct RemoteSource::Fetch {
  int64_t position;  // what the caller wants: [position, position + size)
  uint8_t* buffer;
  size_t size;
  size_t copied = 0;  // bytes of it delivered, from position on
  // Where the bytes this fetch writes begin (a block's start; 0 for a whole
  // body), and the blocks before doneBlocks it has marked present.
  int64_t from = 0;
  int64_t doneBlocks = 0;
};

RemoteSource::RemoteSource(std::string url) : url_(std::move(url)), current_(HttpUrl::parse(url_)) {}

RemoteSource::~RemoteSource() {
  if (cache_ >= 0) {
    close(cache_);
  }
}

std::string RemoteSource::describe() const {
  std::string shown = url_.substr(0, url_.find_first_of("?#"));
  const size_t host = shown.find("://") + 3;
  const size_t at = shown.find('@', host);
  if (at != std::string::npos && at < shown.find('/', host)) {
    shown.erase(host, at + 1 - host);
  }
  return shown;
}

// ============================================================================
// Reading
// ============================================================================

size_t RemoteSource::read(int64_t position, uint8_t* buffer, size_t size, int64_t ahead,
                          const AVIOInterruptCB& interrupt, FetchCount& counts) {
  std::unique_lock<std::mutex> lock(mutex_);
  for (;;) {
    throwIfInterrupted(interrupt);
    if (size_ < 0) {
      if (sizing_) {
        waitForChange(lock, interrupt);
        continue;
      }
      // The first request tells the size; it asks for the blocks asked for.
      sizing_ = true;
      lock.unlock();
      const int64_t start = position / kBlock * kBlock;
      const int64_t end = (position + static_cast<int64_t>(size) + ahead + kBlock - 1) / kBlock * kBlock;
      Fetch target{position, buffer, size};
      target.from = start;
      target.doneBlocks = position / kBlock;
      try {
        fetch(start, end, target, interrupt, counts);
      } catch (...) {
        lock.lock();
        sizing_ = false;
        changed_.notify_all();
        throw;
      }
      lock.lock();
      sizing_ = false;
      changed_.notify_all();
      return target.copied;
    }
    if (position >= size_ || size == 0) {
      return 0;
    }
    size = static_cast<size_t>(std::min<int64_t>(static_cast<int64_t>(size), size_ - position));
    Fetch target{position, buffer, size};
    if (cache_ < 0) {
      // Reading through: exactly what is asked.
      lock.unlock();
      fetch(position, position + static_cast<int64_t>(size), target, interrupt, counts);
      return target.copied;
    }
    const int64_t first = position / kBlock;
    if (blocks_[first] == Block::Present) {
      int64_t end = first + 1;
      while (end * kBlock < position + static_cast<int64_t>(size) && blocks_[end] == Block::Present) {
        ++end;
      }
      lock.unlock();
      return readCached(position, buffer, static_cast<size_t>(std::min(position + static_cast<int64_t>(size), end * kBlock) - position));
    }
    if (blocks_[first] == Block::Fetching || fetches_ >= kMaxFetches) {
      waitForChange(lock, interrupt);
      continue;
    }
    // Claim the missing blocks from `first`: what is asked and the read-ahead.
    const int64_t count = static_cast<int64_t>(blocks_.size());
    const int64_t want = (position + static_cast<int64_t>(size) + std::min(ahead, kMaxAhead) - 1) / kBlock - first + 1;
    int64_t last = first;
    while (last < count && last - first < want && blocks_[last] == Block::Missing) {
      blocks_[last++] = Block::Fetching;
    }
    ++fetches_;
    lock.unlock();
    target.from = first * kBlock;
    target.doneBlocks = first;
    try {
      fetch(first * kBlock, std::min(last * kBlock, size_), target, interrupt, counts);
    } catch (...) {
      lock.lock();
      --fetches_;
      for (int64_t b = first; b < last; ++b) {
        if (blocks_[b] == Block::Fetching) {
          blocks_[b] = Block::Missing;
        }
      }
      changed_.notify_all();
      throw;
    }
    lock.lock();
    --fetches_;
    changed_.notify_all();
    return target.copied;
  }
}

int64_t RemoteSource::size(int64_t position, const AVIOInterruptCB& interrupt, FetchCount& counts) {
  {
    const std::lock_guard<std::mutex> lock(mutex_);
    if (size_ >= 0) {
      return size_;
    }
  }
  std::vector<uint8_t> scratch(kBlock);
  read(position, scratch.data(), scratch.size(), 0, interrupt, counts);
  const std::lock_guard<std::mutex> lock(mutex_);
  return size_;
}

size_t RemoteSource::readCached(int64_t position, uint8_t* buffer, size_t size) {
  size_t done = 0;
  while (done < size) {
    const ssize_t n = pread(cache_, buffer + done, size - done, position + static_cast<int64_t>(done));
    if (n <= 0) {
      if (n < 0 && errno == EINTR) {
        continue;
      }
      throw Error(ErrorCode::Internal, "reading the URL's cache failed: " + std::string(std::strerror(errno)));
    }
    done += static_cast<size_t>(n);
  }
  return done;
}

void RemoteSource::waitForChange(std::unique_lock<std::mutex>& lock, const AVIOInterruptCB& interrupt) {
  // Another reader's fetch ends by itself (its own timeout); the slices let
  // a cancelled extraction go at once.
  changed_.wait_for(lock, std::chrono::milliseconds(100));
  if (interrupted(interrupt)) {
    throw Error(ErrorCode::Aborted, "aborted");
  }
}

// ============================================================================
// Fetching
// ============================================================================

void RemoteSource::fetch(int64_t start, int64_t end, Fetch& target, const AVIOInterruptCB& interrupt,
                         FetchCount& counts) {
  // A response that brings part of its range (a server that caps ranges or
  // drops the connection) is followed at once by a request for the rest;
  // three in a row that bring nothing, or fail, end it.
  int64_t at = start;
  for (int failures = 0;;) {
    std::string failure = "the server sent less than it was asked for";
    int64_t reached = at;
    try {
      reached = fetchOnce(at, end, target, interrupt, counts);
    } catch (const Retryable& error) {
      failure = error.what();
    }
    if (reached >= end) {
      return;
    }
    {
      const std::lock_guard<std::mutex> lock(mutex_);
      if (size_ >= 0 && reached >= size_) {
        return;  // the object ends before the range did
      }
    }
    if (reached > at) {
      at = reached;
      failures = 0;
      continue;
    }
    if (++failures >= kAttempts) {
      throw Error(ErrorCode::InputNotFound, describe() + " could not be read: " + failure);
    }
    pause(100 << failures, interrupt);
  }
}

int64_t RemoteSource::fetchOnce(int64_t start, int64_t end, Fetch& target, const AVIOInterruptCB& interrupt,
                                FetchCount& counts) {
  HttpUrl url;
  {
    const std::lock_guard<std::mutex> lock(mutex_);
    url = current_;
  }
  for (int redirects = 0;; ++redirects) {
    std::unique_ptr<HttpConnection> connection;
    HttpResponse response;
    std::vector<std::string> headers = validatorHeaders();
    headers.push_back("Range: bytes=" + std::to_string(start) + "-" + std::to_string(end - 1));
    // A kept-alive connection the server has since closed fails at once:
    // then a fresh one, and only its failure counts.
    for (int fresh = 0;; ++fresh) {
      try {
        connection = takeConnection(url, interrupt);
        ++counts.requests;
        response = connection->get(url, headers);
        break;
      } catch (const Error& error) {
        if (error.code() != ErrorCode::InputNotFound) {
          throw;
        }
        if (fresh > 0) {
          throw Retryable(ErrorCode::InputNotFound, error.what());
        }
      }
    }
    const int status = response.status;
    if (status >= 300 && status < 400 && !response.location.empty()) {
      if (redirects >= kMaxRedirects) {
        throw Error(ErrorCode::InputNotFound, describe() + " could not be read: too many redirects");
      }
      url = url.resolve(response.location);
      const std::lock_guard<std::mutex> lock(mutex_);
      current_ = url;
      continue;
    }
    if (status == 412) {
      throw Error(ErrorCode::InputChanged, describe() + " changed while it was read (HTTP 412: its validator no longer matches)");
    }
    if (status == 416) {
      const std::lock_guard<std::mutex> lock(mutex_);
      if (size_ >= 0 && start < size_) {
        throw Error(ErrorCode::InputChanged, describe() + " changed while it was read (HTTP 416: it is shorter than before)");
      }
      return end;  // past the end: nothing there
    }
    if (status >= 500) {
      throw Retryable(ErrorCode::InputNotFound, "HTTP " + std::to_string(status));
    }
    if (status != 200 && status != 206) {
      throw Error(ErrorCode::InputNotFound, describe() + " could not be read: HTTP " + std::to_string(status));
    }
    // 206 carries our range; 200 is the whole object from its first byte,
    // whatever was asked (a server that ignores Range).
    int64_t offset = 0;
    if (status == 206) {
      if (response.rangeStart != start || response.rangeEnd <= start) {
        throw Retryable(ErrorCode::InputNotFound, "the server answered another range than the one asked for");
      }
      learnObject(response, response.totalSize);
      offset = start;
    } else {
      learnObject(response, response.chunked ? -1 : response.contentLength);
      target.from = 0;
      target.doneBlocks = 0;
    }
    const int64_t wanted = status == 206 ? response.rangeEnd : INT64_MAX;
    std::vector<uint8_t> chunk(kChunk);
    for (;;) {
      size_t n = 0;
      try {
        n = connection->readBody(chunk.data(), chunk.size());
      } catch (const Error& error) {
        if (error.code() != ErrorCode::InputNotFound) {
          throw;
        }
        // Cut mid-body: what came is kept; the rest is asked again.
        return std::max(start, std::min(offset, end));
      }
      if (n == 0) {
        break;
      }
      counts.bytes += static_cast<int64_t>(n);
      deliver(offset, chunk.data(), n, target);
      offset += static_cast<int64_t>(n);
      if (status == 200 && cache_ < 0 && target.copied == target.size) {
        return end;  // reading through: the rest of a whole body is not needed
      }
    }
    if (status == 200) {
      const std::lock_guard<std::mutex> lock(mutex_);
      if (size_ < 0) {
        // A body of no stated length ends the object.
        size_ = offset;
        blocks_.assign(static_cast<size_t>((size_ + kBlock - 1) / kBlock), cache_ >= 0 ? Block::Present : Block::Missing);
      }
    }
    if (connection->reusable()) {
      keepConnection(std::move(connection));
    }
    return status == 206 ? std::min(wanted, end) : std::max(end, offset);
  }
}

void RemoteSource::deliver(int64_t offset, const uint8_t* data, size_t size, Fetch& target) {
  if (cache_ >= 0) {
    size_t done = 0;
    while (done < size) {
      const ssize_t n = pwrite(cache_, data + done, size - done, offset + static_cast<int64_t>(done));
      if (n < 0 && errno == EINTR) {
        continue;
      }
      if (n <= 0) {
        throw Error(ErrorCode::Internal, "writing the URL's cache failed: " + std::string(std::strerror(errno)));
      }
      done += static_cast<size_t>(n);
    }
  }
  // The caller's bytes, in order from its position.
  const int64_t from = target.position + static_cast<int64_t>(target.copied);
  const int64_t to = target.position + static_cast<int64_t>(target.size);
  const int64_t end = offset + static_cast<int64_t>(size);
  if (from >= offset && from < end && from < to) {
    const size_t n = static_cast<size_t>(std::min(end, to) - from);
    std::memcpy(target.buffer + target.copied, data + (from - offset), n);
    target.copied += n;
  }
  if (cache_ < 0) {
    return;
  }
  const std::lock_guard<std::mutex> lock(mutex_);
  if (size_ < 0) {
    return;  // a body of unknown length: its blocks are marked when it ends
  }
  // Written from `from` to `end` without a gap (a retry resumes where the
  // last response stopped): the blocks wholly inside are present.
  const int64_t whole = end >= size_ ? static_cast<int64_t>(blocks_.size()) : end / kBlock;
  bool marked = false;
  for (int64_t b = std::max(target.doneBlocks, target.from / kBlock); b < whole; ++b) {
    if (blocks_[b] != Block::Present) {
      blocks_[b] = Block::Present;
      marked = true;
    }
  }
  target.doneBlocks = std::max(target.doneBlocks, whole);
  if (marked) {
    changed_.notify_all();
  }
}

void RemoteSource::learnObject(const HttpResponse& response, int64_t total) {
  const std::lock_guard<std::mutex> lock(mutex_);
  if (size_ < 0) {
    etag_ = response.etag;
    lastModified_ = response.lastModified;
    if (total >= 0) {
      size_ = total;
      openCache();
      blocks_.assign(static_cast<size_t>((size_ + kBlock - 1) / kBlock), Block::Missing);
    }
    return;
  }
  const bool resized = total >= 0 && total != size_;
  const bool retagged = !etag_.empty() && !response.etag.empty() && response.etag != etag_;
  const bool redated = etag_.empty() && !lastModified_.empty() && !response.lastModified.empty() &&
                       response.lastModified != lastModified_;
  if (resized || retagged || redated) {
    throw Error(ErrorCode::InputChanged, describe() + " changed while it was read (" +
                                             (resized ? "its size" : retagged ? "its ETag" : "its Last-Modified") +
                                             " is not the one of its first response)");
  }
}

std::vector<std::string> RemoteSource::validatorHeaders() const {
  const std::lock_guard<std::mutex> lock(mutex_);
  // If-Match compares strongly: a weak ETag would never match.
  if (!etag_.empty() && !weak(etag_)) {
    return {"If-Match: " + etag_};
  }
  if (!lastModified_.empty()) {
    return {"If-Unmodified-Since: " + lastModified_};
  }
  return {};
}

std::unique_ptr<HttpConnection> RemoteSource::takeConnection(const HttpUrl& url, const AVIOInterruptCB& interrupt) {
  {
    const std::lock_guard<std::mutex> lock(mutex_);
    for (auto it = idle_.begin(); it != idle_.end(); ++it) {
      if ((*it)->serves(url)) {
        std::unique_ptr<HttpConnection> connection = std::move(*it);
        idle_.erase(it);
        return connection;
      }
    }
  }
  return std::make_unique<HttpConnection>(url, interrupt, kTimeoutMs);
}

void RemoteSource::keepConnection(std::unique_ptr<HttpConnection> connection) {
  const std::lock_guard<std::mutex> lock(mutex_);
  if (idle_.size() < kMaxIdle) {
    idle_.push_back(std::move(connection));
  }
}

void RemoteSource::openCache() {
  if (cacheTried_) {
    return;
  }
  cacheTried_ = true;
  const char* dir = std::getenv("TMPDIR");
  std::string pattern = std::string(dir != nullptr && *dir != '\0' ? dir : "/tmp") + "/vsnap-url-XXXXXX";
  const int fd = mkostemp(pattern.data(), O_CLOEXEC);
  if (fd < 0) {
    return;  // no temporary directory: read through
  }
  // Unlinked at once: it goes with the descriptor, however the process ends.
  unlink(pattern.c_str());
  cache_ = fd;
}

}  // namespace vsnap
