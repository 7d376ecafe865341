#include "FramePool.h"

#include <sys/mman.h>
#include <unistd.h>

#include <climits>
#include <cstdint>

extern "C" {
#include <libavutil/imgutils.h>
}

namespace vsnap {

namespace {

// FFmpeg's margin after each plane (16 + STRIDE_ALIGN - 1), at the widest
// SIMD alignment it is built with (64 bytes, AVX-512); planes start on
// that alignment.
constexpr size_t kPlanePadding = 16 + 64 - 1;
constexpr size_t kPlaneAlign = 64;

// Frames from this size on get a mapping of their own.
constexpr size_t kMappedFrom = size_t{1} << 20;

constexpr uintptr_t kHugePage = uintptr_t{2} << 20;

void unmapFrame(void* opaque, uint8_t* data) { munmap(data, reinterpret_cast<uintptr_t>(opaque)); }

// A mapping of at least `size` bytes that starts on a huge page boundary.
// It ends on one too where that adds at most an eighth to the size (a 4K
// frame: 11.9 MiB in 12), so that all of it is huge pages; otherwise its
// tail is 4 KiB pages (a 1080p frame: 2 MiB and 1 MiB of small pages,
// rather than 4 MiB for 3).
AVBufferRef* mapFrame(size_t size) {
  const auto page = static_cast<uintptr_t>(sysconf(_SC_PAGESIZE));
  const uintptr_t huge = (size + kHugePage - 1) / kHugePage * kHugePage;
  const uintptr_t length = huge - size <= size / 8 ? huge : (size + page - 1) / page * page;
  void* raw = mmap(nullptr, length + kHugePage, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (raw == MAP_FAILED) {
    return nullptr;
  }
  // Keep [start, start + length) of what was mapped; give back the rest.
  const auto first = reinterpret_cast<uintptr_t>(raw);
  const uintptr_t start = (first + kHugePage - 1) & ~(kHugePage - 1);
  const uintptr_t last = first + length + kHugePage;
  if (start > first) {
    munmap(raw, start - first);
  }
  if (last > start + length) {
    munmap(reinterpret_cast<void*>(start + length), last - (start + length));
  }
  auto* data = reinterpret_cast<uint8_t*>(start);
  // Advice only: where huge pages are off, the pages are 4 KiB.
  madvise(data, length, MADV_HUGEPAGE);
  AVBufferRef* buffer = av_buffer_create(data, size, unmapFrame, reinterpret_cast<void*>(length), 0);
  if (buffer == nullptr) {
    munmap(data, length);
  }
  return buffer;
}

AVBufferRef* allocateFrame(void*, size_t size) { return size >= kMappedFrom ? mapFrame(size) : av_buffer_allocz(size); }

}  // namespace

FramePool::~FramePool() { release(); }

void FramePool::release() {
  av_buffer_pool_uninit(&pool_);
  linesize_ = {};
  offset_ = {};
  planes_ = 0;
  format_ = -1;
  width_ = 0;
  height_ = 0;
}

// The line sizes as FFmpeg's update_frame_pool (libavcodec/get_buffer.c)
// chooses them; the planes one after the other in one buffer, each with
// FFmpeg's margin after it.
int FramePool::reset(AVCodecContext* codec, const AVFrame* frame) {
  release();
  const auto format = static_cast<AVPixelFormat>(frame->format);
  int width = frame->width;
  int height = frame->height;
  int align[AV_NUM_DATA_POINTERS] = {};
  avcodec_align_dimensions2(codec, &width, &height, align);
  int linesize[4] = {};
  for (;;) {
    const int ret = av_image_fill_linesizes(linesize, format, width);
    if (ret < 0) {
      return ret;
    }
    bool aligned = true;
    for (int i = 0; i < 4; ++i) {
      aligned = aligned && (align[i] <= 0 || linesize[i] % align[i] == 0);
    }
    if (aligned) {
      break;
    }
    // Widen by the lowest bit set in the width: the next try is aligned to
    // twice the power of two it was.
    width += width & ~(width - 1);
  }
  const ptrdiff_t linesizes[4] = {linesize[0], linesize[1], linesize[2], linesize[3]};
  size_t sizes[4] = {};
  const int ret = av_image_fill_plane_sizes(sizes, format, height, linesizes);
  if (ret < 0) {
    return ret;
  }
  size_t total = 0;
  for (int i = 0; i < 4; ++i) {
    linesize_[i] = linesize[i];
    if (sizes[i] == 0) {
      continue;
    }
    if (sizes[i] > INT_MAX - kPlanePadding - kPlaneAlign || total > INT_MAX - sizes[i] - kPlanePadding - kPlaneAlign) {
      release();
      return AVERROR(EINVAL);
    }
    offset_[i] = total;
    total = (total + sizes[i] + kPlanePadding + kPlaneAlign - 1) / kPlaneAlign * kPlaneAlign;
    planes_ = i + 1;
  }
  pool_ = av_buffer_pool_init2(total, nullptr, allocateFrame, nullptr);
  if (pool_ == nullptr) {
    release();
    return AVERROR(ENOMEM);
  }
  format_ = frame->format;
  width_ = frame->width;
  height_ = frame->height;
  return 0;
}

int FramePool::get(AVCodecContext* codec, AVFrame* frame) {
  if (pool_ == nullptr || frame->format != format_ || frame->width != width_ || frame->height != height_) {
    const int ret = reset(codec, frame);
    if (ret < 0) {
      return ret;
    }
  }
  AVBufferRef* buffer = av_buffer_pool_get(pool_);
  if (buffer == nullptr) {
    return AVERROR(ENOMEM);
  }
  for (int i = 0; i < AV_NUM_DATA_POINTERS; ++i) {
    frame->data[i] = nullptr;
    frame->linesize[i] = 0;
  }
  frame->extended_data = frame->data;
  frame->buf[0] = buffer;
  for (int i = 0; i < planes_; ++i) {
    frame->data[i] = buffer->data + offset_[i];
    frame->linesize[i] = linesize_[i];
  }
  return 0;
}

}  // namespace vsnap
