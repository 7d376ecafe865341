// Errors raised by the core. Each carries a stable code that the binding
// passes to JavaScript unchanged; the message names the operation that failed
// and, for libav failures, FFmpeg's own error text.
#pragma once

#include <stdexcept>
#include <string>

namespace vsnap {

enum class ErrorCode {
  InputNotFound,     // the file does not exist or cannot be read
  InputChanged,      // a remote object changed between two reads of it
  UnsupportedInput,  // not a container we accept, or not a video at all
  NoVideoStream,     // a container without a decodable video stream
  CorruptInput,      // truncated or damaged data
  LimitExceeded,     // the work asked for is over a limit the caller set
  Aborted,           // the caller cancelled the operation
  Internal,          // a libav call failed for a reason that is not the input's
};

const char* errorCodeName(ErrorCode code);

class Error : public std::runtime_error {
 public:
  Error(ErrorCode code, const std::string& message)
      : std::runtime_error(message), code_(code) {}
  ErrorCode code() const { return code_; }

 private:
  ErrorCode code_;
};

// FFmpeg's text for a libav return code.
std::string avErrorText(int ret);

// Whether a libav return code says that the source cannot be reached or
// read (a missing file, a refused or dropped connection, an HTTP error
// status), rather than that what it holds is damaged.
bool isUnreadable(int ret);

// Throws when `ret` is a libav error: "<operation>: <FFmpeg's text>". The
// code is chosen from the return value (AVERROR_INVALIDDATA is the input's
// fault, ENOMEM and the like are ours) unless the caller names one.
void checkAv(int ret, const char* operation);
void checkAv(int ret, const char* operation, ErrorCode code);

}  // namespace vsnap
