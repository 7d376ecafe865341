// Memory for decoded frames: the get_buffer2 of the decoders (Decoder.cpp).
//
// It lays a frame's planes out with the line sizes FFmpeg's default
// (avcodec_default_get_buffer2) gives them, each followed by the 16 + 63
// bytes the decoders may read past it. It differs in where the memory comes
// from. FFmpeg's pools hold a buffer per plane and zero every buffer they
// allocate (av_buffer_allocz): for a 4K frame 12 MB written once before
// the decoder writes it again, faulted in 4 KiB at a time, 3,000 page faults
// in a lane that decodes one 4K keyframe. Here a frame is one buffer, and
// one of 1 MiB or more is a mapping of its own, zeroed by the kernel and
// asked for in huge pages (MADV_HUGEPAGE): the 12 MB fault in six times. A
// smaller one is zeroed memory from av_malloc, as FFmpeg's. Either way a
// frame's memory never holds what an earlier extraction left there.
#pragma once

#include <array>

#include "FFmpeg.h"

namespace vsnap {

class FramePool {
 public:
  FramePool() = default;
  FramePool(const FramePool&) = delete;
  FramePool& operator=(const FramePool&) = delete;
  // Buffers still out (a frame the caller holds) outlive the pools.
  ~FramePool();

  // Fills `frame` (its format, width and height set by the codec) with
  // buffers; 0 or a negative AVERROR, as get_buffer2 returns.
  int get(AVCodecContext* codec, AVFrame* frame);

 private:
  int reset(AVCodecContext* codec, const AVFrame* frame);
  void release();

  AVBufferPool* pool_ = nullptr;  // of whole frames, every plane in one buffer
  std::array<int, 4> linesize_{};
  std::array<size_t, 4> offset_{};  // of each plane in the buffer
  int planes_ = 0;
  int format_ = -1;
  int width_ = 0;
  int height_ = 0;
};

}  // namespace vsnap
