// CodecHooks: what a decoder's codec context reaches through its `opaque`
// from inside FFmpeg, on the codec's own threads:
//   get_buffer2  refuses a frame over the pixel limit before anything is
//                allocated for it, and takes frames from the Decoder's
//                FramePool (Decoder.cpp);
//   the log      an error FFmpeg logs while decoding is kept as damage of
//                the packet it came from (below).
//
// Tying a logged error to its packet. Before each packet it sends, the
// Decoder numbers it in the codec context's `reordered_opaque` (FFmpeg 5.1;
// later versions call the same mechanism AV_CODEC_FLAG_COPY_OPAQUE).
// Decoding that packet logs with the context it runs on: the Decoder's own,
// or with frame threads the copy that FFmpeg made for that packet, which
// carries the packet's number (pthread_frame.c, update_context_from_user).
// One process-wide log callback reads the number back from the logging
// context when the context is a live decoder's (a registry of CodecHooks),
// so lanes and concurrent extractions each see their own errors only.
// Every message still reaches FFmpeg's default callback, which prints it
// at the level the addon set (VSNAP_FFMPEG_LOGLEVEL).
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <vector>

#include "FFmpeg.h"

namespace vsnap {

class FramePool;

class CodecHooks {
 public:
  CodecHooks();
  ~CodecHooks();
  CodecHooks(const CodecHooks&) = delete;
  CodecHooks& operator=(const CodecHooks&) = delete;

  // Makes `codec` call these hooks: its opaque, get_buffer2, and the log.
  void attach(AVCodecContext* codec);

  // ---- frame size and memory (get_buffer2) ----------------------------------
  int64_t maxPixels = 0;  // 0: no limit
  std::atomic<int> refusedWidth{0};
  std::atomic<int> refusedHeight{0};
  FramePool* frames = nullptr;  // where the frames it lets through get their memory

  // ---- errors logged while decoding ----------------------------------------
  // The numbers of the packets whose decoding logged an error since the
  // last call, each once per message.
  std::vector<int64_t> takeLoggedPackets();

 private:
  static void logCallback(void* context, int level, const char* format, va_list args);
  void logged(int64_t packet);

  std::mutex mutex_;
  std::vector<int64_t> loggedPackets_;
};

}  // namespace vsnap
