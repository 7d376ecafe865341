#include "CodecHooks.h"

#include <cstring>
#include <unordered_set>

#include "FramePool.h"

extern "C" {
#include <libavutil/pixdesc.h>
}

namespace vsnap {

namespace {

// The live CodecHooks, for the log callback to tell a decoder's context
// from any other codec context in the process.
std::mutex registryMutex;
std::unordered_set<CodecHooks*> registry;
std::once_flag callbackInstalled;

// Errors that change no picture. H.264 logs this when told to unmark a
// reference it never had: after a seek to an open GOP's keyframe, the
// references of the GOP before (h264_refs.c, ff_h264_execute_ref_pic_marking).
// Any frame that needed such a reference logs a missing reference as well.
constexpr const char* kHarmlessErrors[] = {"mmco: unref short failure"};

bool harmless(const char* format) {
  for (const char* message : kHarmlessErrors) {
    if (std::strncmp(format, message, std::strlen(message)) == 0) {
      return true;
    }
  }
  return false;
}

// get_buffer2 of every codec context: refuses a frame over the limit (in
// displayed pixels, as the limit is checked on the declared size) before
// anything is allocated for it, then takes the frame's memory from the
// decoder's FramePool. FFmpeg's own allocator serves what the pool is not
// for: a codec that must use it (no AV_CODEC_CAP_DR1) and paletted or
// hardware frames.
int getGuardedBuffer(AVCodecContext* codec, AVFrame* frame, int flags) {
  auto* hooks = static_cast<CodecHooks*>(codec->opaque);
  if (hooks->maxPixels > 0 && static_cast<int64_t>(codec->width) * codec->height > hooks->maxPixels) {
    hooks->refusedWidth = codec->width;
    hooks->refusedHeight = codec->height;
    return AVERROR(EINVAL);
  }
  const AVPixFmtDescriptor* desc = av_pix_fmt_desc_get(static_cast<AVPixelFormat>(frame->format));
  const bool pooled = hooks->frames != nullptr && codec->codec_type == AVMEDIA_TYPE_VIDEO &&
                      (codec->codec->capabilities & AV_CODEC_CAP_DR1) != 0 && codec->hw_frames_ctx == nullptr &&
                      desc != nullptr && (desc->flags & (AV_PIX_FMT_FLAG_PAL | AV_PIX_FMT_FLAG_HWACCEL)) == 0;
  return pooled ? hooks->frames->get(codec, frame) : avcodec_default_get_buffer2(codec, frame, flags);
}

}  // namespace

CodecHooks::CodecHooks() {
  std::call_once(callbackInstalled, [] { av_log_set_callback(&CodecHooks::logCallback); });
  const std::lock_guard<std::mutex> lock(registryMutex);
  registry.insert(this);
}

CodecHooks::~CodecHooks() {
  const std::lock_guard<std::mutex> lock(registryMutex);
  registry.erase(this);
}

void CodecHooks::attach(AVCodecContext* codec) {
  codec->opaque = this;
  codec->get_buffer2 = getGuardedBuffer;
}

std::vector<int64_t> CodecHooks::takeLoggedPackets() {
  const std::lock_guard<std::mutex> lock(mutex_);
  std::vector<int64_t> packets;
  packets.swap(loggedPackets_);
  return packets;
}

void CodecHooks::logged(int64_t packet) {
  const std::lock_guard<std::mutex> lock(mutex_);
  loggedPackets_.push_back(packet);
}

void CodecHooks::logCallback(void* context, int level, const char* format, va_list args) {
  const AVClass* cls = context != nullptr ? *static_cast<const AVClass* const*>(context) : nullptr;
  if (level <= AV_LOG_ERROR && cls == avcodec_get_class() && !harmless(format)) {
    const auto* codec = static_cast<const AVCodecContext*>(context);
    auto* hooks = static_cast<CodecHooks*>(codec->opaque);
    const std::lock_guard<std::mutex> lock(registryMutex);
    if (registry.count(hooks) != 0) {
      hooks->logged(codec->reordered_opaque);
    }
  }
  av_log_default_callback(context, level, format, args);
}

}  // namespace vsnap
