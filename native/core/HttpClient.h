// HttpClient: the part of HTTP/1.1 that reading a video by range needs, on
// a socket of our own and OpenSSL: a GET with a Range and a validator, the
// status line and the headers that matter (Content-Length, Content-Range,
// Transfer-Encoding, ETag, Last-Modified, Location, Connection), bodies by
// length, chunked or to the close, and connections kept alive between
// requests. Not a general client: no proxies, no compression (it asks for
// identity), no authentication beyond what a presigned URL carries in its
// query.
//
// Why not FFmpeg's http protocol, which read URLs before: it hides the
// response's ETag and Last-Modified and its status, so a reader cannot tell
// that the object changed between two requests or that a server ignored the
// Range, and it opens a connection for every range. Why not libcurl: it
// would bring some twenty shared libraries into every process that loads
// the addon, URL or not. Why OpenSSL: the addon carries its TLS library
// inside it (a prebuilt addon must load without one installed), and
// Debian ships OpenSSL's static libraries built position-independent, as a
// shared object needs; GnuTLS's need p11-kit's, which has none.
//
// Every blocking step waits in poll() for at most the read timeout, checking
// the caller's interrupt every 100 ms, so neither a stalled server nor a
// cancelled extraction holds a thread. Errors throw vsnap::Error:
// InputNotFound for a source that cannot be reached or read, Aborted when
// interrupted.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "FFmpeg.h"

namespace vsnap {

struct HttpUrl {
  bool tls = false;
  std::string host;        // without brackets
  int port = 0;
  std::string target;      // path and query, "/" at least
  std::string hostHeader;  // the Host header: host, [v6], with :port unless the scheme's own

  // Throws Error(InputNotFound) for what is not an http(s) URL with a host.
  static HttpUrl parse(const std::string& url);
  // Where a Location header points, relative to this URL.
  HttpUrl resolve(const std::string& location) const;
  bool sameOrigin(const HttpUrl& other) const { return tls == other.tls && host == other.host && port == other.port; }
};

struct HttpResponse {
  int status = 0;
  int64_t contentLength = -1;  // -1: not given
  bool chunked = false;
  bool keepAlive = true;
  // Content-Range "bytes a-b/total", as [rangeStart, rangeEnd) and total; -1 where absent or "*".
  int64_t rangeStart = -1;
  int64_t rangeEnd = -1;
  int64_t totalSize = -1;
  std::string etag;
  std::string lastModified;
  std::string location;
};

class HttpConnection {
 public:
  // Connects to the URL's origin (and shakes hands for https, checking the
  // certificate against the system's trust store and the host name: see
  // clientContext() in HttpClient.cpp for where the trust store is read).
  HttpConnection(const HttpUrl& origin, const AVIOInterruptCB& interrupt, int timeoutMs);
  ~HttpConnection();
  HttpConnection(const HttpConnection&) = delete;
  HttpConnection& operator=(const HttpConnection&) = delete;

  // Sends a GET of `url` (this connection's origin) with `headers` (each
  // "Name: value") and reads the response's status and headers.
  HttpResponse get(const HttpUrl& url, const std::vector<std::string>& headers);
  // Reads up to `size` bytes of the body of the last response; 0 at its
  // end. Throws when the connection ends or stalls before the body does.
  size_t readBody(uint8_t* buffer, size_t size);
  // Whether the last response's body was read to its end and the server
  // keeps the connection open: another request can use it.
  bool reusable() const;
  bool serves(const HttpUrl& url) const { return origin_.sameOrigin(url); }

 private:
  class Transport;
  // The next bytes from the connection: up to `size`, at least one; throws
  // at the end of the stream when `endOk` is false, else gives 0.
  size_t receive(uint8_t* buffer, size_t size, bool endOk);
  std::string readLine();
  void readChunkHeader();

  HttpUrl origin_;
  std::unique_ptr<Transport> transport_;
  std::vector<uint8_t> inbox_;  // bytes received and not yet consumed
  size_t inboxAt_ = 0;
  HttpResponse response_;
  int64_t bodyLeft_ = 0;    // bytes of the body (or of the current chunk) still to read
  bool bodyDone_ = true;    // the last response's body is read
  bool toClose_ = false;    // the body runs to the connection's end
  bool closed_ = false;     // the peer closed or the connection failed
};

}  // namespace vsnap
