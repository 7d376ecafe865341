// The N-API face of the core: probe(input), class Extractor,
// encodeJpeg(frame, ...), versions(), trimMemory().
// Arguments are checked only for the invariants the core relies on; option
// validation with user-facing messages happens in TypeScript before this.
#include <napi.h>

#include <cstdlib>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include "workers.h"

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/log.h>
#include <libswscale/swscale.h>
}

namespace vsnap::binding {

namespace {

Napi::Promise rejected(Napi::Env env, const std::string& message, const char* code) {
  auto deferred = Napi::Promise::Deferred::New(env);
  Napi::Error error = Napi::Error::New(env, message);
  error.Set("code", Napi::String::New(env, code));
  deferred.Reject(error.Value());
  return deferred.Promise();
}

Napi::Value Probe(const Napi::CallbackInfo& info) {
  auto* worker = new ProbeWorker(info.Env(), InputSpec::from(info[0]));
  Napi::Promise promise = worker->promise();
  worker->Queue();
  return promise;
}

// encodeJpeg(frame, width, height, rotation, quality): the checks here are
// the worker's invariants; TypeScript validated the options before.
Napi::Value EncodeJpeg(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsArrayBuffer() || !info[1].IsNumber() || !info[2].IsNumber() || !info[3].IsNumber() ||
      !info[4].IsNumber()) {
    return rejected(env, "encodeJpeg: expected (ArrayBuffer, width, height, rotation, quality)", "VSNAP_INTERNAL");
  }
  Napi::ArrayBuffer frame = info[0].As<Napi::ArrayBuffer>();
  JpegRequest request;
  request.width = info[1].As<Napi::Number>().Int32Value();
  request.height = info[2].As<Napi::Number>().Int32Value();
  request.rotation = info[3].As<Napi::Number>().Int32Value();
  request.quality = info[4].As<Napi::Number>().Int32Value();
  if (request.width <= 0 || request.height <= 0 ||
      frame.ByteLength() / 3 / static_cast<size_t>(request.width) < static_cast<size_t>(request.height)) {
    return rejected(env, "encodeJpeg: the frame holds fewer than width * height * 3 bytes", "VSNAP_INTERNAL");
  }
  request.rgb = static_cast<const uint8_t*>(frame.Data());
  auto* worker = new EncodeJpegWorker(env, frame, request);
  Napi::Promise promise = worker->promise();
  worker->Queue();
  return promise;
}

std::string versionText(unsigned version) {
  return std::to_string(AV_VERSION_MAJOR(version)) + "." + std::to_string(AV_VERSION_MINOR(version)) + "." +
         std::to_string(AV_VERSION_MICRO(version));
}

// The version of the contract in src/engine/binding.ts. Raise it with every
// change of that contract, so that a stale build is refused by the loader
// instead of failing later in the middle of a run.
constexpr int kBindingVersion = 15;

// Hands the memory the C allocator holds free back to the system: glibc
// keeps what decoders, encoders and worker threads freed in its arenas, up
// to hundreds of MiB after a burst of work. True when any was returned.
Napi::Value TrimMemory(const Napi::CallbackInfo& info) {
#if defined(__GLIBC__)
  return Napi::Boolean::New(info.Env(), malloc_trim(0) != 0);
#else
  return Napi::Boolean::New(info.Env(), false);
#endif
}

Napi::Value Versions(const Napi::CallbackInfo& info) {
  Napi::Object out = Napi::Object::New(info.Env());
  out.Set("binding", kBindingVersion);
  out.Set("avformat", versionText(avformat_version()));
  out.Set("avcodec", versionText(avcodec_version()));
  out.Set("swscale", versionText(swscale_version()));
  return out;
}

}  // namespace

// One extraction, decoded by one or more lanes (see Decoder.h). Each lane
// runs one operation at a time; a second one is refused. close() cancels
// what is in flight and is idempotent.
class Extractor : public Napi::ObjectWrap<Extractor> {
 public:
  static Napi::Function define(Napi::Env env) {
    return DefineClass(env, "Extractor",
                       {InstanceMethod<&Extractor::Open>("open"), InstanceMethod<&Extractor::Plan>("plan"),
                        InstanceMethod<&Extractor::Next>("next"),
                        InstanceMethod<&Extractor::NextJpeg>("nextJpeg"), InstanceMethod<&Extractor::Stats>("stats"),
                        InstanceMethod<&Extractor::Close>("close")});
  }

  explicit Extractor(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Extractor>(info) {
    Napi::Env env = info.Env();
    state_->input = InputSpec::from(info[0]);
    if (!info[1].IsObject()) {
      throw Napi::TypeError::New(env, "options must be { lanes?, scan?, maxPixels? }");
    }
    Napi::Object options = info[1].As<Napi::Object>();
    // Tests compare the two ways of planning; nothing else sets `scan`.
    state_->planning = options.Get("scan").ToBoolean().Value() ? Planning::Scan : Planning::IndexWhereExact;
    Napi::Value maxPixels = options.Get("maxPixels");
    state_->maxPixels = maxPixels.IsUndefined() ? 0 : maxPixels.ToNumber().Int64Value();
    if (state_->maxPixels < 0) {
      throw Napi::TypeError::New(env, "maxPixels must be a non-negative integer");
    }
    Napi::Value lanes = options.Get("lanes");
    state_->maxLanes = lanes.IsUndefined() ? 1 : lanes.ToNumber().Int32Value();
    if (state_->maxLanes < 1 || state_->maxLanes > 64) {
      throw Napi::TypeError::New(env, "lanes must be an integer from 1 to 64");
    }
  }

 private:
  Napi::Value Open(const Napi::CallbackInfo& info) {
    if (const char* refusal = refuse()) {
      return rejected(info.Env(), refusal, "VSNAP_INTERNAL");
    }
    opened_ = true;
    state_->opening = true;
    auto* worker = new OpenWorker(info.Env(), state_);
    Napi::Promise promise = worker->promise();
    worker->Queue();
    return promise;
  }

  Napi::Value Plan(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (state_->closed || state_->opening || state_->lanes.empty() || state_->planned || state_->lanes[0].busy) {
      return rejected(env, state_->closed ? "aborted: the extractor is closed" : "plan: open() first, and plan once",
                      state_->closed ? "VSNAP_ABORTED" : "VSNAP_INTERNAL");
    }
    PlanRequest request = PlanRequest::from(info[0]);
    state_->lanes[0].busy = true;
    auto* worker = new PlanWorker(env, state_, std::move(request));
    Napi::Promise promise = worker->promise();
    worker->Queue();
    return promise;
  }

  Napi::Value Next(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    const uint32_t lane = laneOf(info[0]);
    if (const char* refusal = refuseNext(lane)) {
      return rejected(env, refusal, state_->closed ? "VSNAP_ABORTED" : "VSNAP_INTERNAL");
    }
    Napi::Value dest = info[1];
    if (!dest.IsArrayBuffer() ||
        dest.As<Napi::ArrayBuffer>().ByteLength() < state_->lanes[lane].decoder->frameBytes()) {
      return rejected(env, "next: dest must be an ArrayBuffer of at least frameBytes", "VSNAP_INTERNAL");
    }
    state_->lanes[lane].busy = true;
    auto* worker = new NextWorker(env, state_, lane, dest.As<Napi::ArrayBuffer>());
    Napi::Promise promise = worker->promise();
    worker->Queue();
    return promise;
  }

  Napi::Value NextJpeg(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    const uint32_t lane = laneOf(info[0]);
    if (const char* refusal = refuseNext(lane)) {
      return rejected(env, refusal, state_->closed ? "VSNAP_ABORTED" : "VSNAP_INTERNAL");
    }
    const int quality = info[1].IsNumber() ? info[1].As<Napi::Number>().Int32Value() : 0;
    if (quality < 1 || quality > 100) {
      return rejected(env, "nextJpeg: quality must be an integer from 1 to 100", "VSNAP_INTERNAL");
    }
    state_->lanes[lane].busy = true;
    auto* worker = new NextJpegWorker(env, state_, lane, quality);
    Napi::Promise promise = worker->promise();
    worker->Queue();
    return promise;
  }

  static uint32_t laneOf(const Napi::Value& value) {
    return value.IsNumber() ? value.As<Napi::Number>().Uint32Value() : UINT32_MAX;
  }

  // Why next() or nextJpeg() on `lane` cannot start now, or nullptr.
  const char* refuseNext(uint32_t lane) const {
    if (state_->closed) {
      return "aborted: the extractor is closed";
    }
    if (state_->opening || !state_->planned) {
      return "next: the extractor is not open and planned";
    }
    if (lane >= state_->lanes.size()) {
      return "next: no such lane";
    }
    if (state_->lanes[lane].busy) {
      return "next: this lane has an operation in flight";
    }
    return nullptr;
  }

  Napi::Value Stats(const Napi::CallbackInfo& info) { return statsToJs(info.Env(), state_->stats()); }

  Napi::Value Close(const Napi::CallbackInfo& info) {
    state_->closed = true;
    state_->cancel = true;
    state_->releaseIfClosed(info.Env());
    return info.Env().Undefined();
  }

  // Why open() cannot start now, or nullptr.
  const char* refuse() const {
    if (state_->closed) {
      return "the extractor is closed";
    }
    if (opened_) {
      return "open() was already called";
    }
    return nullptr;
  }

  std::shared_ptr<ExtractorState> state_ = std::make_shared<ExtractorState>();
  bool opened_ = false;
};

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  // FFmpeg writes to stderr by default; a library stays quiet unless asked.
  const char* level = std::getenv("VSNAP_FFMPEG_LOG_LEVEL");
  av_log_set_level(level != nullptr ? std::atoi(level) : AV_LOG_QUIET);
  exports.Set("probe", Napi::Function::New(env, Probe, "probe"));
  exports.Set("versions", Napi::Function::New(env, Versions, "versions"));
  exports.Set("encodeJpeg", Napi::Function::New(env, EncodeJpeg, "encodeJpeg"));
  exports.Set("trimMemory", Napi::Function::New(env, TrimMemory, "trimMemory"));
  exports.Set("Extractor", Extractor::define(env));
  return exports;
}

}  // namespace vsnap::binding

static Napi::Object InitVsnap(Napi::Env env, Napi::Object exports) { return vsnap::binding::Init(env, exports); }

NODE_API_MODULE(vsnap, InitVsnap)
