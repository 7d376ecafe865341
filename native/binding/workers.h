// The binding's AsyncWorkers. Each copies what it needs from JavaScript on
// the main thread, runs the core in Execute (off the JS thread, touching no
// N-API value) and builds JavaScript values in OnOK.
#pragma once

#include <napi.h>

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "Decoder.h"
#include "JpegEncoder.h"

namespace vsnap::binding {

// What names an input: a path, an http(s) URL, or bytes kept referenced
// (`keep`) for as long as any decoder reads them. A URL's RemoteSource is
// one per spec, so every decoder of an extraction shares what it fetched.
struct InputSpec {
  std::string path;
  std::string url;
  std::shared_ptr<RemoteSource> remote;
  const uint8_t* data = nullptr;
  size_t size = 0;
  std::shared_ptr<Napi::Reference<Napi::Value>> keep;

  static InputSpec from(const Napi::Value& value);
  std::unique_ptr<Input> make() const;
};

// One decoder of an extraction; see "lanes" in Decoder.h. `stats` is
// copied from the decoder whenever an operation settles, so that reading it
// never races the worker thread.
struct Lane {
  std::unique_ptr<Decoder> decoder;
  bool busy = false;
  DecodeStats stats;
  // A turned frame's RGB for NextJpegWorker, kept for the lane's next one.
  std::vector<uint8_t> rgb;
};

// The state one Extractor shares with its workers. Only the main thread
// touches it, except `cancel`, which the decoders read.
struct ExtractorState : std::enable_shared_from_this<ExtractorState> {
  InputSpec input;
  Planning planning = Planning::IndexWhereExact;
  int64_t maxPixels = 0;  // 0: no limit
  int maxLanes = 1;
  std::atomic<bool> cancel{false};
  // open() gives lane 0 its decoder, prepared; plan() plans with it and
  // opens the other lanes.
  std::vector<Lane> lanes;
  bool opening = false;
  bool planned = false;
  bool closed = false;

  bool busy() const;
  DecodeStats stats() const;
  // Once closed and idle, hands the lanes' decoders to a ReleaseWorker.
  void releaseIfClosed(Napi::Env env);
};

// Frees a closed extraction's decoders on the thread pool: a 4K decoder's
// frame pools and tables take milliseconds to unmap, an event loop stall
// for every extraction that closes. The state stays referenced until the
// decoders are gone (they read its `cancel`, and a MemoryInput reads the
// bytes it keeps), and is let go on the main thread, where the worker
// itself is deleted.
class ReleaseWorker : public Napi::AsyncWorker {
 public:
  ReleaseWorker(Napi::Env env, std::vector<std::unique_ptr<Decoder>> decoders,
                std::vector<std::vector<uint8_t>> buffers, std::shared_ptr<const ExtractorState> state)
      : Napi::AsyncWorker(env),
        decoders_(std::move(decoders)),
        buffers_(std::move(buffers)),
        state_(std::move(state)) {}

 protected:
  void Execute() override {
    decoders_.clear();
    buffers_.clear();
  }
  void OnOK() override {}
  void OnError(const Napi::Error&) override {}

 private:
  std::vector<std::unique_ptr<Decoder>> decoders_;
  std::vector<std::vector<uint8_t>> buffers_;
  std::shared_ptr<const ExtractorState> state_;
};

// A worker that settles a promise; errors carry the core's stable code.
class PromiseWorker : public Napi::AsyncWorker {
 public:
  explicit PromiseWorker(Napi::Env env) : Napi::AsyncWorker(env), deferred_(Napi::Promise::Deferred::New(env)) {}
  Napi::Promise promise() { return deferred_.Promise(); }

 protected:
  void Execute() final;
  void OnOK() final;
  void OnError(const Napi::Error& error) final;
  virtual void run() = 0;
  virtual Napi::Value result() = 0;
  // Runs on the main thread once the work settled, whatever the outcome.
  virtual void settled() {}
  // Whether work that succeeded was cancelled meanwhile, and must reject.
  virtual bool cancelled() const { return false; }

  void reject(const std::string& message, const std::string& code);

  Napi::Promise::Deferred deferred_;
  std::string code_;
};

class ProbeWorker : public PromiseWorker {
 public:
  ProbeWorker(Napi::Env env, InputSpec input) : PromiseWorker(env), input_(std::move(input)) {}

 protected:
  void run() override;
  Napi::Value result() override;

 private:
  InputSpec input_;
  VideoInfo info_;
};

// Opens the input and learns its times (Decoder::prepare), on lane 0's decoder.
class OpenWorker : public PromiseWorker {
 public:
  OpenWorker(Napi::Env env, std::shared_ptr<ExtractorState> state) : PromiseWorker(env), state_(std::move(state)) {}

 protected:
  void run() override;
  Napi::Value result() override;
  void settled() override;
  bool cancelled() const override { return state_->closed; }

 private:
  std::shared_ptr<ExtractorState> state_;
  std::vector<Lane> lanes_;
};

// What plan() asks for: the targets (seconds since the first frame, exact),
// the window keyframe mode keeps to, and the image each output becomes.
struct PlanRequest {
  SamplingMode mode = SamplingMode::Exact;
  std::vector<TargetTime> times;
  Window window;
  OutputGeometry geometry;
  bool toneMap = false;  // `tonemap: 'auto'`

  static PlanRequest from(const Napi::Value& value);
};

// Plans the outputs with lane 0's decoder and opens the other lanes: as
// many as asked, but no more than there are segments of work.
class PlanWorker : public PromiseWorker {
 public:
  PlanWorker(Napi::Env env, std::shared_ptr<ExtractorState> state, PlanRequest request)
      : PromiseWorker(env), state_(std::move(state)), request_(std::move(request)) {}

 protected:
  void run() override;
  Napi::Value result() override;
  void settled() override;
  bool cancelled() const override { return state_->closed; }

 private:
  std::shared_ptr<ExtractorState> state_;
  PlanRequest request_;
  std::vector<Lane> lanes_;  // the lanes opened, after lane 0
  bool started_ = false;
  size_t outputCount_ = 0;
};

// One operation on one lane that gives the lane's next output; the lane is
// free again once it settles. `produced` is false when the lane is done.
class LaneWorker : public PromiseWorker {
 public:
  LaneWorker(Napi::Env env, std::shared_ptr<ExtractorState> state, size_t lane)
      : PromiseWorker(env), state_(std::move(state)), lane_(lane) {}

 protected:
  void settled() final;
  Lane& lane() { return state_->lanes[lane_]; }
  // The output's metadata, or null when the lane is done.
  Napi::Value frameOrNull();

  std::shared_ptr<ExtractorState> state_;
  size_t lane_;
  bool produced_ = false;
  OutputFrame frame_;
};

class NextWorker : public LaneWorker {
 public:
  NextWorker(Napi::Env env, std::shared_ptr<ExtractorState> state, size_t lane, Napi::ArrayBuffer dest);

 protected:
  void run() override;
  Napi::Value result() override { return frameOrNull(); }

 private:
  Napi::Reference<Napi::ArrayBuffer> destRef_;
  uint8_t* dest_;
  size_t destSize_;
};

// next() and encodeJpeg in one step on the lane's thread: the decoded frame
// goes to the JPEG encoder band by band (RgbBands), never whole, unless it
// must be turned; the same bytes as encodeJpeg of next()'s frame.
class NextJpegWorker : public LaneWorker {
 public:
  NextJpegWorker(Napi::Env env, std::shared_ptr<ExtractorState> state, size_t lane, int quality)
      : LaneWorker(env, std::move(state), lane), quality_(quality) {}

 protected:
  void run() override;
  Napi::Value result() override;

 private:
  int quality_;
  JpegBytes bytes_;
};

// Encodes one RGB24 frame as JPEG (JpegEncoder.h). The frame stays
// referenced, and must stay unchanged, until the promise settles.
class EncodeJpegWorker : public PromiseWorker {
 public:
  EncodeJpegWorker(Napi::Env env, Napi::ArrayBuffer frame, const JpegRequest& request)
      : PromiseWorker(env), frameRef_(Napi::Persistent(frame)), request_(request) {}

 protected:
  void run() override { bytes_ = encodeJpeg(request_); }
  Napi::Value result() override;

 private:
  Napi::Reference<Napi::ArrayBuffer> frameRef_;
  JpegRequest request_;
  JpegBytes bytes_;
};

Napi::Object videoInfoToJs(Napi::Env env, const VideoInfo& info);
Napi::Object statsToJs(Napi::Env env, const DecodeStats& stats);

}  // namespace vsnap::binding
