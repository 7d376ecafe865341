#include "HttpClient.h"

#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <mutex>

#include "Error.h"

namespace vsnap {

namespace {

constexpr int kPollSliceMs = 100;
constexpr size_t kMaxHeadBytes = 64 * 1024;
constexpr size_t kReceiveChunk = 64 * 1024;

std::string lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return text;
}

std::string trim(const std::string& text) {
  const size_t begin = text.find_first_not_of(" \t");
  const size_t end = text.find_last_not_of(" \t\r");
  return begin == std::string::npos ? std::string() : text.substr(begin, end - begin + 1);
}

bool parseInt(const std::string& text, int64_t& value) {
  if (text.empty() || text.size() > 18 || text.find_first_not_of("0123456789") != std::string::npos) {
    return false;
  }
  value = std::stoll(text);
  return true;
}

[[noreturn]] void unreachable(const std::string& what) { throw Error(ErrorCode::InputNotFound, what); }

bool interrupted(const AVIOInterruptCB& interrupt) {
  return interrupt.callback != nullptr && interrupt.callback(interrupt.opaque) != 0;
}

// The certificate authorities' bundle of the usual distributions, as Go
// looks for it: Debian and Ubuntu, Fedora and RHEL 6, openSUSE, OpenELEC,
// CentOS and RHEL 7, Alpine. The addon links its own OpenSSL, whose
// compiled-in default (Debian's /usr/lib/ssl) other distributions lack.
constexpr const char* kTrustFiles[] = {
    "/etc/ssl/certs/ca-certificates.crt",
    "/etc/pki/tls/certs/ca-bundle.crt",
    "/etc/ssl/ca-bundle.pem",
    "/etc/pki/tls/cacert.pem",
    "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem",
    "/etc/ssl/cert.pem",
};

std::string orEmpty(const char* value) { return value == nullptr ? std::string() : std::string(value); }

// OpenSSL's queued errors of this thread, as one line (and the queue emptied).
std::string tlsErrors() {
  std::string text;
  char line[256];
  for (unsigned long code = ERR_get_error(); code != 0; code = ERR_get_error()) {
    ERR_error_string_n(code, line, sizeof(line));
    text += (text.empty() ? "" : "; ") + std::string(line);
  }
  return text.empty() ? "no detail from OpenSSL" : text;
}

struct ContextDeleter {
  void operator()(SSL_CTX* context) const { SSL_CTX_free(context); }
};

// The context every https connection is made from, made once: TLS 1.2 or
// later, the peer's certificate verified against the trust store. The
// trust store is $SSL_CERT_FILE and $SSL_CERT_DIR where either is set (as
// OpenSSL's own tools read them), else the first bundle of kTrustFiles that
// exists; $NODE_EXTRA_CA_CERTS adds to it, as it adds to Node's. When it
// cannot be made, every https connection fails with the reason.
SSL_CTX* clientContext() {
  static std::unique_ptr<SSL_CTX, ContextDeleter> context;
  static std::string failure;
  static std::once_flag once;
  std::call_once(once, [] {
    // No openssl.cnf: the system's may name modules or settings of another
    // OpenSSL version. No clean-up at exit: decode lanes may still be
    // reading while the process exits.
    OPENSSL_init_ssl(OPENSSL_INIT_NO_LOAD_CONFIG | OPENSSL_INIT_NO_ATEXIT, nullptr);
    std::unique_ptr<SSL_CTX, ContextDeleter> made(SSL_CTX_new(TLS_client_method()));
    if (made == nullptr || SSL_CTX_set_min_proto_version(made.get(), TLS1_2_VERSION) != 1) {
      failure = "cannot make a TLS context: " + tlsErrors();
      return;
    }
    SSL_CTX_set_verify(made.get(), SSL_VERIFY_PEER, nullptr);
#ifdef SSL_OP_IGNORE_UNEXPECTED_EOF
    // A close without close_notify ends the stream, as many servers close;
    // the HTTP layer checks that a body is whole.
    SSL_CTX_set_options(made.get(), SSL_OP_IGNORE_UNEXPECTED_EOF);
#endif
    std::string file = orEmpty(std::getenv("SSL_CERT_FILE"));
    const std::string dir = orEmpty(std::getenv("SSL_CERT_DIR"));
    if (file.empty() && dir.empty()) {
      for (const char* candidate : kTrustFiles) {
        if (access(candidate, R_OK) == 0) {
          file = candidate;
          break;
        }
      }
      if (file.empty()) {
        failure = "no trusted certificate authorities: no bundle at /etc/ssl/certs/ca-certificates.crt or the other "
                  "usual places; name one with SSL_CERT_FILE";
        return;
      }
    }
    if (SSL_CTX_load_verify_locations(made.get(), file.empty() ? nullptr : file.c_str(),
                                      dir.empty() ? nullptr : dir.c_str()) != 1) {
      failure = "cannot read the trusted certificate authorities from " + (file.empty() ? dir : file) + ": " + tlsErrors();
      return;
    }
    const std::string extra = orEmpty(std::getenv("NODE_EXTRA_CA_CERTS"));
    if (!extra.empty() && SSL_CTX_load_verify_locations(made.get(), extra.c_str(), nullptr) != 1) {
      failure = "cannot read NODE_EXTRA_CA_CERTS (" + extra + "): " + tlsErrors();
      return;
    }
    context = std::move(made);
  });
  if (context == nullptr) {
    unreachable("https: " + failure);
  }
  return context.get();
}

}  // namespace

// ============================================================================
// URLs
// ============================================================================

HttpUrl HttpUrl::parse(const std::string& url) {
  HttpUrl parsed;
  size_t at = 0;
  if (url.compare(0, 7, "http://") == 0) {
    at = 7;
  } else if (url.compare(0, 8, "https://") == 0) {
    parsed.tls = true;
    at = 8;
  } else {
    unreachable(url + " is not an http or https URL");
  }
  const std::string rest = url.substr(0, url.find('#')).substr(at);
  const size_t pathAt = rest.find_first_of("/?");
  std::string authority = rest.substr(0, pathAt);
  parsed.target = pathAt == std::string::npos ? "/" : rest.substr(pathAt);
  if (parsed.target[0] == '?') {
    parsed.target = "/" + parsed.target;
  }
  const size_t userEnd = authority.rfind('@');
  if (userEnd != std::string::npos) {
    authority.erase(0, userEnd + 1);
  }
  std::string port;
  if (!authority.empty() && authority[0] == '[') {
    const size_t close = authority.find(']');
    if (close == std::string::npos) {
      unreachable("the URL's host is not a valid IPv6 address");
    }
    parsed.host = authority.substr(1, close - 1);
    if (close + 1 < authority.size() && authority[close + 1] == ':') {
      port = authority.substr(close + 2);
    }
  } else {
    const size_t colon = authority.find(':');
    parsed.host = authority.substr(0, colon);
    if (colon != std::string::npos) {
      port = authority.substr(colon + 1);
    }
  }
  int64_t number = parsed.tls ? 443 : 80;
  if (parsed.host.empty() || (!port.empty() && (!parseInt(port, number) || number < 1 || number > 65535))) {
    unreachable("the URL has no valid host and port");
  }
  parsed.port = static_cast<int>(number);
  const bool v6 = parsed.host.find(':') != std::string::npos;
  parsed.hostHeader = v6 ? "[" + parsed.host + "]" : parsed.host;
  if (parsed.port != (parsed.tls ? 443 : 80)) {
    parsed.hostHeader += ":" + std::to_string(parsed.port);
  }
  return parsed;
}

HttpUrl HttpUrl::resolve(const std::string& location) const {
  if (location.compare(0, 7, "http://") == 0 || location.compare(0, 8, "https://") == 0) {
    return parse(location);
  }
  const std::string scheme = tls ? "https:" : "http:";
  if (location.compare(0, 2, "//") == 0) {
    return parse(scheme + location);
  }
  std::string path = location;
  if (path.empty() || path[0] != '/') {
    const std::string base = target.substr(0, target.find('?'));
    path = base.substr(0, base.rfind('/') + 1) + path;
  }
  return parse(scheme + "//" + hostHeader + path);
}

// ============================================================================
// Transport: a socket, with TLS on it for https
// ============================================================================

namespace {

// The owners of a socket and a TLS session: members, so that a constructor
// that throws half-way (a failed handshake) still closes what it opened.
class Socket {
 public:
  Socket() = default;
  ~Socket() { reset(); }
  Socket(const Socket&) = delete;
  Socket& operator=(const Socket&) = delete;
  void reset(int fd = -1) {
    if (fd_ >= 0) {
      close(fd_);
    }
    fd_ = fd;
  }
  operator int() const { return fd_; }

 private:
  int fd_ = -1;
};

struct SessionDeleter {
  void operator()(SSL* session) const { SSL_free(session); }
};

}  // namespace

class HttpConnection::Transport {
 public:
  Transport(const HttpUrl& url, const AVIOInterruptCB& interrupt, int timeoutMs)
      : interrupt_(interrupt), timeoutMs_(timeoutMs), name_(url.hostHeader) {
    connectSocket(url);
    if (url.tls) {
      startTls(url);
    }
  }

  void send(const std::string& data) {
    size_t sent = 0;
    while (sent < data.size()) {
      ssize_t n;
      if (session_ != nullptr) {
        // A retry after SSL_ERROR_WANT_* passes the same bytes, as OpenSSL requires.
        ERR_clear_error();
        const int ret = SSL_write(session_.get(), data.data() + sent, static_cast<int>(data.size() - sent));
        if (ret <= 0) {
          waitForTls(ret, "sending to", "TLS send failed");
          continue;
        }
        n = ret;
      } else {
        n = ::send(fd_, data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
          wait(POLLOUT, "sending to");
          continue;
        }
        if (n < 0) {
          unreachable(name_ + ": send failed: " + std::strerror(errno));
        }
      }
      sent += static_cast<size_t>(n);
    }
  }

  // Up to `size` bytes; 0 when the peer closed the connection.
  size_t receive(uint8_t* buffer, size_t size) {
    for (;;) {
      if (session_ != nullptr) {
        ERR_clear_error();
        const int n = SSL_read(session_.get(), buffer, static_cast<int>(std::min<size_t>(size, INT_MAX)));
        if (n > 0) {
          return static_cast<size_t>(n);
        }
        const int error = SSL_get_error(session_.get(), n);
        if (error == SSL_ERROR_ZERO_RETURN || (error == SSL_ERROR_SYSCALL && n == 0 && ERR_peek_error() == 0)) {
          return 0;  // closed, with close_notify or (OpenSSL 1.1) without, as many servers close
        }
        waitForTls(n, "waiting for", "TLS receive failed");
        continue;
      }
      const ssize_t n = ::recv(fd_, buffer, size, 0);
      if (n >= 0) {
        return static_cast<size_t>(n);
      }
      if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
        unreachable(name_ + ": receive failed: " + std::strerror(errno));
      }
      wait(POLLIN, "waiting for");
    }
  }

 private:
  // Waits until the socket is ready for `events`, in slices that check the
  // interrupt; throws when the timeout passes first.
  void wait(short events, const char* doing) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeoutMs_);
    for (;;) {
      if (interrupted(interrupt_)) {
        throw Error(ErrorCode::Aborted, "aborted");
      }
      pollfd entry{fd_, events, 0};
      const int ready = poll(&entry, 1, kPollSliceMs);
      if (ready > 0) {
        return;
      }
      if (ready < 0 && errno != EINTR) {
        unreachable(name_ + ": poll failed: " + std::strerror(errno));
      }
      if (std::chrono::steady_clock::now() >= deadline) {
        unreachable(std::string(doing) + " " + name_ + " timed out after " + std::to_string(timeoutMs_ / 1000) + " s");
      }
    }
  }

  void connectSocket(const HttpUrl& url) {
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* found = nullptr;
    const int ret = getaddrinfo(url.host.c_str(), std::to_string(url.port).c_str(), &hints, &found);
    if (ret != 0) {
      unreachable(name_ + ": cannot resolve the host: " + gai_strerror(ret));
    }
    std::unique_ptr<addrinfo, decltype(&freeaddrinfo)> addresses(found, freeaddrinfo);
    std::string failure = "no address";
    for (addrinfo* address = found; address != nullptr; address = address->ai_next) {
      fd_.reset(socket(address->ai_family, address->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, address->ai_protocol));
      if (fd_ < 0) {
        failure = std::strerror(errno);
        continue;
      }
      const int one = 1;
      setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
      if (::connect(fd_, address->ai_addr, address->ai_addrlen) == 0 || connected()) {
        return;
      }
      failure = std::strerror(errno);
      fd_.reset();
    }
    unreachable(name_ + ": cannot connect: " + failure);
  }

  // After a non-blocking connect() that did not complete at once.
  bool connected() {
    if (errno != EINPROGRESS) {
      return false;
    }
    wait(POLLOUT, "connecting to");
    int error = 0;
    socklen_t length = sizeof(error);
    getsockopt(fd_, SOL_SOCKET, SO_ERROR, &error, &length);
    errno = error;
    return error == 0;
  }

  void startTls(const HttpUrl& url) {
    session_.reset(SSL_new(clientContext()));
    if (session_ == nullptr) {
      throw Error(ErrorCode::Internal, "SSL_new: " + tlsErrors());
    }
    SSL* session = session_.get();
    // The certificate must chain to the trust store and name the host (or
    // the address, for a URL that names one).
    const bool literal = url.host.find_first_not_of("0123456789.") == std::string::npos || url.host.find(':') != std::string::npos;
    if (literal) {
      check(X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(session), url.host.c_str()), "X509_VERIFY_PARAM_set1_ip_asc");
    } else {
      check(SSL_set_tlsext_host_name(session, url.host.c_str()), "SSL_set_tlsext_host_name");
      SSL_set_hostflags(session, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
      check(SSL_set1_host(session, url.host.c_str()), "SSL_set1_host");
    }
    // The socket is non-blocking; SIGPIPE, which a write to a closed socket
    // raises, is ignored by Node, the only host of this code.
    check(SSL_set_fd(session, fd_), "SSL_set_fd");
    for (;;) {
      ERR_clear_error();
      const int ret = SSL_connect(session);
      if (ret == 1) {
        return;
      }
      waitForTls(ret, "shaking hands with", "TLS handshake failed");
    }
  }

  // After an SSL call on the session returned `ret` (not success): waits
  // for the socket when OpenSSL asks to, else throws with OpenSSL's reason
  // (for a refused certificate, the verification's).
  void waitForTls(int ret, const char* doing, const char* failed) {
    const int error = SSL_get_error(session_.get(), ret);
    if (error == SSL_ERROR_WANT_READ) {
      wait(POLLIN, doing);
      return;
    }
    if (error == SSL_ERROR_WANT_WRITE) {
      wait(POLLOUT, doing);
      return;
    }
    const long verified = SSL_get_verify_result(session_.get());
    if (verified != X509_V_OK) {
      ERR_clear_error();
      unreachable(name_ + ": " + failed + ": the certificate is not trusted: " + X509_verify_cert_error_string(verified));
    }
    if (error == SSL_ERROR_SYSCALL && ERR_peek_error() == 0) {
      unreachable(name_ + ": " + failed + ": " + (errno == 0 ? "the connection was closed" : std::strerror(errno)));
    }
    unreachable(name_ + ": " + failed + ": " + tlsErrors());
  }

  void check(int ret, const char* operation) {
    if (ret != 1) {
      throw Error(ErrorCode::Internal, std::string(operation) + ": " + tlsErrors());
    }
  }

  AVIOInterruptCB interrupt_;
  int timeoutMs_;
  std::string name_;
  Socket fd_;
  std::unique_ptr<SSL, SessionDeleter> session_;
};

// ============================================================================
// Connection: requests and responses
// ============================================================================

HttpConnection::HttpConnection(const HttpUrl& origin, const AVIOInterruptCB& interrupt, int timeoutMs)
    : origin_(origin), transport_(std::make_unique<Transport>(origin, interrupt, timeoutMs)) {}

HttpConnection::~HttpConnection() = default;

HttpResponse HttpConnection::get(const HttpUrl& url, const std::vector<std::string>& headers) {
  if (!bodyDone_ || closed_) {
    throw Error(ErrorCode::Internal, "HttpConnection::get: the connection is busy or closed");
  }
  std::string request = "GET " + url.target + " HTTP/1.1\r\nHost: " + url.hostHeader +
                        "\r\nUser-Agent: vsnap\r\nAccept-Encoding: identity\r\nConnection: keep-alive\r\n";
  for (const std::string& header : headers) {
    request += header + "\r\n";
  }
  request += "\r\n";
  transport_->send(request);

  HttpResponse response;
  const std::string status = readLine();
  if (status.compare(0, 5, "HTTP/") != 0 || status.size() < 12) {
    unreachable(origin_.hostHeader + ": not an HTTP response");
  }
  response.status = std::atoi(status.c_str() + 9);
  response.keepAlive = status.compare(0, 8, "HTTP/1.0") != 0;
  size_t headBytes = status.size();
  for (std::string line = readLine(); !line.empty(); line = readLine()) {
    headBytes += line.size();
    if (headBytes > kMaxHeadBytes) {
      unreachable(origin_.hostHeader + ": the response's headers are too large");
    }
    const size_t colon = line.find(':');
    if (colon == std::string::npos) {
      continue;
    }
    const std::string name = lower(trim(line.substr(0, colon)));
    const std::string value = trim(line.substr(colon + 1));
    if (name == "content-length") {
      parseInt(value, response.contentLength);
    } else if (name == "transfer-encoding") {
      response.chunked = lower(value).find("chunked") != std::string::npos;
    } else if (name == "connection") {
      const std::string token = lower(value);
      response.keepAlive = token.find("close") == std::string::npos &&
                           (response.keepAlive || token.find("keep-alive") != std::string::npos);
    } else if (name == "etag") {
      response.etag = value;
    } else if (name == "last-modified") {
      response.lastModified = value;
    } else if (name == "location") {
      response.location = value;
    } else if (name == "content-range") {
      // "bytes a-b/total", "bytes a-b/*" or "bytes */total"
      const std::string spec = lower(value).compare(0, 6, "bytes ") == 0 ? value.substr(6) : std::string();
      const size_t dash = spec.find('-');
      const size_t slash = spec.find('/');
      int64_t first = -1;
      int64_t last = -1;
      if (dash != std::string::npos && slash != std::string::npos && dash < slash &&
          parseInt(spec.substr(0, dash), first) && parseInt(spec.substr(dash + 1, slash - dash - 1), last) && last >= first) {
        response.rangeStart = first;
        response.rangeEnd = last + 1;
      }
      if (slash != std::string::npos) {
        parseInt(spec.substr(slash + 1), response.totalSize);
      }
    }
  }
  response_ = response;
  toClose_ = false;
  if (response.chunked) {
    bodyLeft_ = 0;
    bodyDone_ = false;
    readChunkHeader();
  } else if (response.contentLength >= 0) {
    bodyLeft_ = response.contentLength;
    bodyDone_ = bodyLeft_ == 0;
  } else if (response.status == 204 || response.status == 304 || (response.status >= 300 && response.status < 400)) {
    bodyLeft_ = 0;
    bodyDone_ = true;
  } else {
    // No length: the body runs to the end of the connection.
    toClose_ = true;
    bodyLeft_ = INT64_MAX;
    bodyDone_ = false;
    response_.keepAlive = false;
  }
  return response;
}

size_t HttpConnection::readBody(uint8_t* buffer, size_t size) {
  if (bodyDone_ || size == 0) {
    return 0;
  }
  const size_t wanted = static_cast<size_t>(std::min<int64_t>(static_cast<int64_t>(size), bodyLeft_));
  const size_t n = receive(buffer, wanted, toClose_);
  if (n == 0) {
    bodyDone_ = true;  // the close ended a body of unknown length
    return 0;
  }
  bodyLeft_ -= static_cast<int64_t>(n);
  if (bodyLeft_ == 0) {
    if (response_.chunked) {
      readLine();  // the CRLF after the chunk's data
      readChunkHeader();
    } else {
      bodyDone_ = true;
    }
  }
  return n;
}

bool HttpConnection::reusable() const { return bodyDone_ && !closed_ && !toClose_ && response_.keepAlive; }

void HttpConnection::readChunkHeader() {
  const std::string line = readLine();
  const std::string size = trim(line.substr(0, line.find(';')));
  if (size.empty() || size.size() > 15 || size.find_first_not_of("0123456789abcdefABCDEF") != std::string::npos) {
    unreachable(origin_.hostHeader + ": a chunked body with a bad chunk size");
  }
  bodyLeft_ = std::stoll(size, nullptr, 16);
  if (bodyLeft_ == 0) {
    // The last chunk: skip any trailers up to the empty line.
    while (!readLine().empty()) {
    }
    bodyDone_ = true;
  }
}

size_t HttpConnection::receive(uint8_t* buffer, size_t size, bool endOk) {
  if (inboxAt_ == inbox_.size()) {
    inbox_.resize(kReceiveChunk);
    inboxAt_ = 0;
    const size_t n = closed_ ? 0 : transport_->receive(inbox_.data(), inbox_.size());
    inbox_.resize(n);
    if (n == 0) {
      closed_ = true;
      if (endOk) {
        return 0;
      }
      unreachable(origin_.hostHeader + ": the server closed the connection before the response ended");
    }
  }
  const size_t n = std::min(size, inbox_.size() - inboxAt_);
  std::memcpy(buffer, inbox_.data() + inboxAt_, n);
  inboxAt_ += n;
  return n;
}

std::string HttpConnection::readLine() {
  std::string line;
  for (;;) {
    uint8_t byte = 0;
    receive(&byte, 1, false);
    if (byte == '\n') {
      if (!line.empty() && line.back() == '\r') {
        line.pop_back();
      }
      return line;
    }
    line.push_back(static_cast<char>(byte));
    if (line.size() > kMaxHeadBytes) {
      unreachable(origin_.hostHeader + ": a line of the response is too long");
    }
  }
}

}  // namespace vsnap
