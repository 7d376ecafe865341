#include "Error.h"

extern "C" {
#include <libavutil/error.h>
}

#include <cerrno>

namespace vsnap {

const char* errorCodeName(ErrorCode code) {
  switch (code) {
    case ErrorCode::InputNotFound:
      return "VSNAP_INPUT_NOT_FOUND";
    case ErrorCode::InputChanged:
      return "VSNAP_INPUT_CHANGED";
    case ErrorCode::UnsupportedInput:
      return "VSNAP_UNSUPPORTED_INPUT";
    case ErrorCode::NoVideoStream:
      return "VSNAP_NO_VIDEO_STREAM";
    case ErrorCode::CorruptInput:
      return "VSNAP_CORRUPT_INPUT";
    case ErrorCode::LimitExceeded:
      return "VSNAP_LIMIT_EXCEEDED";
    case ErrorCode::Aborted:
      return "VSNAP_ABORTED";
    case ErrorCode::Internal:
      return "VSNAP_INTERNAL";
  }
  return "VSNAP_INTERNAL";
}

std::string avErrorText(int ret) {
  char text[AV_ERROR_MAX_STRING_SIZE] = {0};
  av_strerror(ret, text, sizeof(text));
  return text;
}

bool isUnreadable(int ret) {
  switch (ret) {
    case AVERROR(ENOENT):
    case AVERROR(EACCES):
    case AVERROR(EISDIR):
    case AVERROR(EIO):
    case AVERROR(ECONNREFUSED):
    case AVERROR(ECONNRESET):
    case AVERROR(ETIMEDOUT):
    case AVERROR(EHOSTUNREACH):
    case AVERROR(ENETUNREACH):
    case AVERROR_HTTP_BAD_REQUEST:
    case AVERROR_HTTP_UNAUTHORIZED:
    case AVERROR_HTTP_FORBIDDEN:
    case AVERROR_HTTP_NOT_FOUND:
    case AVERROR_HTTP_OTHER_4XX:
    case AVERROR_HTTP_SERVER_ERROR:
      return true;
    default:
      return false;
  }
}

static ErrorCode classify(int ret) {
  switch (ret) {
    case AVERROR(ENOENT):
    case AVERROR(EACCES):
    case AVERROR(EISDIR):
      return ErrorCode::InputNotFound;
    case AVERROR_INVALIDDATA:
    case AVERROR_EOF:
    case AVERROR_PATCHWELCOME:
      return ErrorCode::CorruptInput;
    case AVERROR_DECODER_NOT_FOUND:
    case AVERROR_DEMUXER_NOT_FOUND:
      return ErrorCode::UnsupportedInput;
    case AVERROR_EXIT:
      return ErrorCode::Aborted;
    default:
      return ErrorCode::Internal;
  }
}

void checkAv(int ret, const char* operation) {
  if (ret < 0) {
    throw Error(classify(ret), std::string(operation) + ": " + avErrorText(ret));
  }
}

void checkAv(int ret, const char* operation, ErrorCode code) {
  if (ret < 0) {
    throw Error(code, std::string(operation) + ": " + avErrorText(ret));
  }
}

}  // namespace vsnap
