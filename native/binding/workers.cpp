#include "workers.h"

#include <algorithm>
#include <new>

#include "Error.h"

namespace vsnap::binding {

// ---- inputs ------------------------------------------------------------------

InputSpec InputSpec::from(const Napi::Value& value) {
  Napi::Env env = value.Env();
  if (!value.IsObject()) {
    throw Napi::TypeError::New(env, "input must be { path }, { url } or { data }");
  }
  Napi::Object object = value.As<Napi::Object>();
  InputSpec spec;
  Napi::Value path = object.Get("path");
  Napi::Value url = object.Get("url");
  Napi::Value data = object.Get("data");
  if (path.IsString()) {
    spec.path = path.As<Napi::String>().Utf8Value();
  } else if (url.IsString()) {
    spec.url = url.As<Napi::String>().Utf8Value();
    if (spec.url.rfind("http://", 0) != 0 && spec.url.rfind("https://", 0) != 0) {
      throw Napi::TypeError::New(env, "input.url must be an http or https URL");
    }
    try {
      spec.remote = std::make_shared<RemoteSource>(spec.url);
    } catch (const Error& error) {
      throw Napi::TypeError::New(env, std::string("input.url: ") + error.what());
    }
  } else if (data.IsTypedArray() && data.As<Napi::TypedArray>().TypedArrayType() == napi_uint8_array) {
    auto bytes = data.As<Napi::Uint8Array>();
    spec.data = bytes.Data();
    spec.size = bytes.ByteLength();
    spec.keep = std::make_shared<Napi::Reference<Napi::Value>>(Napi::Persistent(data));
  } else {
    throw Napi::TypeError::New(env, "input must be { path: string }, { url: string } or { data: Uint8Array }");
  }
  return spec;
}

std::unique_ptr<Input> InputSpec::make() const {
  if (keep != nullptr) {
    return std::make_unique<MemoryInput>(data, size);
  }
  if (remote != nullptr) {
    return std::make_unique<UrlInput>(remote);
  }
  return std::make_unique<FileInput>(path);
}

// ---- PromiseWorker -----------------------------------------------------------

void PromiseWorker::Execute() {
  try {
    run();
  } catch (const Error& error) {
    code_ = errorCodeName(error.code());
    SetError(error.what());
  } catch (const std::bad_alloc&) {
    code_ = errorCodeName(ErrorCode::Internal);
    SetError("out of memory");
  } catch (const std::exception& error) {
    code_ = errorCodeName(ErrorCode::Internal);
    SetError(error.what());
  }
}

void PromiseWorker::OnOK() {
  settled();
  if (cancelled()) {
    reject("aborted", errorCodeName(ErrorCode::Aborted));
    return;
  }
  deferred_.Resolve(result());
}

void PromiseWorker::OnError(const Napi::Error& error) {
  settled();
  reject(error.Message(), code_.empty() ? errorCodeName(ErrorCode::Internal) : code_);
}

void PromiseWorker::reject(const std::string& message, const std::string& code) {
  Napi::Error rejection = Napi::Error::New(Env(), message);
  rejection.Set("code", Napi::String::New(Env(), code));
  deferred_.Reject(rejection.Value());
}

// ---- probe -------------------------------------------------------------------

namespace {

// Decodes the stream's first keyframe with `decoder` (prepared or scanned):
// HDR10's static metadata is often in the bitstream alone (SEI), as x265
// and phones write it, and the decoder takes it from that frame's side data.
void readFirstKeyframeColor(Decoder& decoder) {
  decoder.start(decoder.plan(SamplingMode::Keyframe, {TargetTime{0, 1}}, Window{}), false);
  OutputFrame first;
  decoder.decodeNext(first);
}

}  // namespace

void ProbeWorker::run() {
  Decoder decoder(input_.make(), nullptr);
  decoder.scan();
  if (decoder.lacksHdrMetadata()) {
    readFirstKeyframeColor(decoder);
  }
  info_ = decoder.info();
}

Napi::Value ProbeWorker::result() { return videoInfoToJs(Env(), info_); }

// ---- extractor ---------------------------------------------------------------
// Lanes take segments from one shared queue (Work), so a lane that drew short
// segments takes more of them.

bool ExtractorState::busy() const {
  if (opening) {
    return true;
  }
  for (const Lane& lane : lanes) {
    if (lane.busy) {
      return true;
    }
  }
  return false;
}

DecodeStats ExtractorState::stats() const {
  DecodeStats total;
  for (const Lane& lane : lanes) {
    total.seeks += lane.stats.seeks;
    total.seeksAvoided += lane.stats.seeksAvoided;
    total.packetsRead += lane.stats.packetsRead;
    total.scanPackets += lane.stats.scanPackets;
    total.framesDecoded += lane.stats.framesDecoded;
    total.decodeErrors += lane.stats.decodeErrors;
    total.bytesRead += lane.stats.bytesRead;
    total.requests += lane.stats.requests;
    total.damagedFrames += lane.stats.damagedFrames;
    total.seekRecoveries += lane.stats.seekRecoveries;
  }
  return total;
}

void ExtractorState::releaseIfClosed(Napi::Env env) {
  if (!closed || busy()) {
    return;
  }
  // The lanes stay, with their stats; their decoders and buffers go.
  std::vector<std::unique_ptr<Decoder>> decoders;
  std::vector<std::vector<uint8_t>> buffers;
  for (Lane& lane : lanes) {
    if (lane.decoder != nullptr) {
      decoders.push_back(std::move(lane.decoder));
    }
    if (lane.rgb.capacity() > 0) {
      buffers.push_back(std::move(lane.rgb));
      lane.rgb = {};
    }
  }
  if (decoders.empty() && buffers.empty()) {
    return;
  }
  (new ReleaseWorker(env, std::move(decoders), std::move(buffers), shared_from_this()))->Queue();
}

void OpenWorker::run() {
  auto first = std::make_unique<Decoder>(state_->input.make(), &state_->cancel, StreamProbe::WhereHeaderFallsShort);
  first->prepare(state_->planning);
  lanes_.resize(1);
  lanes_[0].decoder = std::move(first);
}

void OpenWorker::settled() {
  // An open that failed keeps no lane: the extractor stays unopened.
  if (lanes_.empty() || lanes_[0].decoder == nullptr) {
    lanes_.clear();
  }
  for (Lane& lane : lanes_) {
    lane.stats = lane.decoder->stats();
  }
  state_->opening = false;
  state_->lanes = std::move(lanes_);
  state_->releaseIfClosed(Env());
}

Napi::Value OpenWorker::result() {
  Napi::Env env = Env();
  const Decoder& decoder = *state_->lanes.front().decoder;
  Napi::Object out = Napi::Object::New(env);
  out.Set("info", videoInfoToJs(env, decoder.info()));
  // Ticks fit in a double exactly: 2^53 ticks are 285 years at 1 GHz.
  out.Set("durationTicks", Napi::Number::New(env, static_cast<double>(decoder.durationTicks())));
  Napi::Array timeBase = Napi::Array::New(env, 2);
  timeBase.Set(0u, Napi::Number::New(env, decoder.timeBase().num));
  timeBase.Set(1u, Napi::Number::New(env, decoder.timeBase().den));
  out.Set("timeBase", timeBase);
  return out;
}

namespace {

// Two int64 a pair, as BigInt64Array elements.
std::vector<TargetTime> timesFrom(const Napi::Value& value, const char* name) {
  if (!value.IsTypedArray() || value.As<Napi::TypedArray>().TypedArrayType() != napi_bigint64_array) {
    throw Napi::TypeError::New(value.Env(), std::string(name) + " must be a BigInt64Array of numerator, denominator pairs");
  }
  auto pairs = value.As<Napi::BigInt64Array>();
  if (pairs.ElementLength() % 2 != 0) {
    throw Napi::TypeError::New(value.Env(), std::string(name) + " must hold pairs");
  }
  std::vector<TargetTime> times;
  times.reserve(pairs.ElementLength() / 2);
  for (size_t i = 0; i < pairs.ElementLength(); i += 2) {
    if (pairs[i] < 0 || pairs[i + 1] <= 0) {
      throw Napi::TypeError::New(value.Env(), std::string(name) + ": a time below 0 or a denominator not above 0");
    }
    times.push_back(TargetTime{pairs[i], pairs[i + 1]});
  }
  return times;
}

Rect rectFrom(const Napi::Value& value) {
  if (!value.IsArray() || value.As<Napi::Array>().Length() != 4) {
    throw Napi::TypeError::New(value.Env(), "a rectangle must be [x, y, width, height]");
  }
  auto at = [&](uint32_t i) { return value.As<Napi::Array>().Get(i).ToNumber().Int32Value(); };
  return Rect{at(0), at(1), at(2), at(3)};
}

bool within(const Rect& rect, int width, int height) {
  return rect.x >= 0 && rect.y >= 0 && rect.width > 0 && rect.height > 0 && rect.x + rect.width <= width &&
         rect.y + rect.height <= height;
}

}  // namespace

PlanRequest PlanRequest::from(const Napi::Value& value) {
  Napi::Env env = value.Env();
  if (!value.IsObject()) {
    throw Napi::TypeError::New(env, "plan() takes { mode, targets, window?, geometry?, tonemap? }");
  }
  Napi::Object object = value.As<Napi::Object>();
  PlanRequest request;
  const std::string mode = object.Get("mode").ToString().Utf8Value();
  if (mode != "exact" && mode != "keyframe") {
    throw Napi::TypeError::New(env, "mode must be 'exact' or 'keyframe'");
  }
  request.mode = mode == "exact" ? SamplingMode::Exact : SamplingMode::Keyframe;
  request.times = timesFrom(object.Get("targets"), "targets");
  Napi::Value window = object.Get("window");
  if (!window.IsUndefined() && !window.IsNull()) {
    const std::vector<TargetTime> bounds = timesFrom(window, "window");
    if (bounds.size() != 2) {
      throw Napi::TypeError::New(env, "window must be [start, end] as two pairs");
    }
    request.window = Window{bounds[0], bounds[1], true};
  }
  Napi::Value tonemap = object.Get("tonemap");
  if (!tonemap.IsUndefined()) {
    const std::string value = tonemap.ToString().Utf8Value();
    if (value != "auto" && value != "off") {
      throw Napi::TypeError::New(env, "tonemap must be 'auto' or 'off'");
    }
    request.toneMap = value == "auto";
  }
  Napi::Value geometry = object.Get("geometry");
  if (!geometry.IsUndefined() && !geometry.IsNull()) {
    Napi::Object g = geometry.As<Napi::Object>();
    request.geometry.width = g.Get("width").ToNumber().Int32Value();
    request.geometry.height = g.Get("height").ToNumber().Int32Value();
    request.geometry.crop = rectFrom(g.Get("crop"));
    request.geometry.place = rectFrom(g.Get("place"));
    if (request.geometry.width < 1 || request.geometry.height < 1 ||
        !within(request.geometry.place, request.geometry.width, request.geometry.height)) {
      throw Napi::TypeError::New(env, "geometry: a size below 1 or a place outside the image");
    }
  }
  return request;
}

void PlanWorker::run() {
  Decoder& first = *state_->lanes.front().decoder;
  const VideoInfo& info = first.info();
  if (request_.geometry.width > 0 && !within(request_.geometry.crop, info.width, info.height)) {
    throw Error(ErrorCode::Internal, "plan: the crop is outside the coded frame");
  }
  if (request_.toneMap && first.info().color.transfer == "smpte2084" && first.lacksHdrMetadata()) {
    // The PQ peak tone mapping starts from is the whole run's, whichever
    // lane decodes a frame: where the container does not carry HDR10's
    // static metadata, the first keyframe's SEI may. Lanes opened below
    // copy what it learned.
    Decoder reader(state_->input.make(), &state_->cancel, StreamProbe::WhereHeaderFallsShort);
    reader.prepare(Planning::IndexWhereExact);
    readFirstKeyframeColor(reader);
    first.adoptHdrMetadata(reader.info().color);
  }
  std::shared_ptr<Work> work = first.plan(request_.mode, request_.times, request_.window);
  work->maxPixels = state_->maxPixels;
  work->geometry = request_.geometry;
  work->toneMap = request_.toneMap;
  work->pqSourcePeak = pqSourcePeakOf(first.info().color);
  outputCount_ = work->targets.size();
  const size_t count = std::max<size_t>(1, std::min<size_t>(state_->maxLanes, work->segmentCount()));
  lanes_.resize(count - 1);
  for (Lane& lane : lanes_) {
    lane.decoder = first.openLane(state_->input.make());
  }
  first.start(work, count == 1);
  for (Lane& lane : lanes_) {
    lane.decoder->start(work, false);
  }
  started_ = true;
}

void PlanWorker::settled() {
  Lane& first = state_->lanes.front();
  first.busy = false;
  first.stats = first.decoder->stats();
  // A plan that failed part-way opens no lane: the extractor stays unplanned.
  if (started_) {
    for (Lane& lane : lanes_) {
      lane.stats = lane.decoder->stats();
      state_->lanes.push_back(std::move(lane));
    }
    state_->planned = true;
  }
  lanes_.clear();
  state_->releaseIfClosed(Env());
}

Napi::Value PlanWorker::result() {
  Napi::Env env = Env();
  const Decoder& decoder = *state_->lanes.front().decoder;
  Napi::Object out = Napi::Object::New(env);
  // What the plan learned: a plan that fell back from the index to a scan knows the keyframes and the rate.
  out.Set("info", videoInfoToJs(env, decoder.info()));
  out.Set("outputCount", Napi::Number::New(env, static_cast<double>(outputCount_)));
  out.Set("frameBytes", Napi::Number::New(env, static_cast<double>(decoder.frameBytes())));
  out.Set("lanes", Napi::Number::New(env, static_cast<double>(state_->lanes.size())));
  return out;
}

void LaneWorker::settled() {
  Lane& lane = state_->lanes[lane_];
  lane.busy = false;
  lane.stats = lane.decoder->stats();
  state_->releaseIfClosed(Env());
}

Napi::Value LaneWorker::frameOrNull() {
  Napi::Env env = Env();
  if (!produced_) {
    return env.Null();
  }
  Napi::Object out = Napi::Object::New(env);
  out.Set("outputIndex", Napi::Number::New(env, frame_.outputIndex));
  out.Set("targetIndex", Napi::Number::New(env, frame_.targetIndex));
  out.Set("frameIndex", Napi::Number::New(env, frame_.frameIndex));
  out.Set("frameTime", Napi::Number::New(env, frame_.frameTime));
  out.Set("width", Napi::Number::New(env, frame_.width));
  out.Set("height", Napi::Number::New(env, frame_.height));
  return out;
}

NextWorker::NextWorker(Napi::Env env, std::shared_ptr<ExtractorState> state, size_t lane, Napi::ArrayBuffer dest)
    : LaneWorker(env, std::move(state), lane),
      destRef_(Napi::Persistent(dest)),
      dest_(static_cast<uint8_t*>(dest.Data())),
      destSize_(dest.ByteLength()) {}

void NextWorker::run() { produced_ = lane().decoder->next(dest_, destSize_, frame_); }

void NextJpegWorker::run() {
  Decoder& decoder = *lane().decoder;
  produced_ = decoder.decodeNext(frame_);
  if (!produced_) {
    return;
  }
  const int rotation = decoder.info().rotation;
  if (rotation == 0) {
    RgbBands bands = decoder.decodedBands();
    bytes_ = encodeJpegBands(frame_.width, frame_.height, quality_, [&] { return bands.next(); });
    return;
  }
  std::vector<uint8_t>& rgb = lane().rgb;
  rgb.resize(decoder.frameBytes());
  decoder.convertDecoded(rgb.data(), rgb.size());
  bytes_ = encodeJpeg({rgb.data(), frame_.width, frame_.height, rotation, quality_});
}

Napi::Value NextJpegWorker::result() {
  Napi::Value frame = frameOrNull();
  if (produced_) {
    // A copy into memory V8 accounts for; the encoded image is a few percent of the frame.
    frame.As<Napi::Object>().Set("data", Napi::Buffer<uint8_t>::Copy(Env(), bytes_.data.get(), bytes_.size));
  }
  return frame;
}

// ---- JPEG --------------------------------------------------------------------

Napi::Value EncodeJpegWorker::result() {
  // A copy into memory V8 accounts for; the encoded image is a few percent of the frame.
  return Napi::Buffer<uint8_t>::Copy(Env(), bytes_.data.get(), bytes_.size);
}

// ---- conversions -------------------------------------------------------------

namespace {

Napi::Value nameOrNull(Napi::Env env, const std::string& name) {
  return name.empty() ? env.Null() : Napi::String::New(env, name);
}

Napi::Array pair(Napi::Env env, const double (&xy)[2]) {
  Napi::Array out = Napi::Array::New(env, 2);
  out.Set(0u, xy[0]);
  out.Set(1u, xy[1]);
  return out;
}

Napi::Object colorToJs(Napi::Env env, const ColorInfo& color) {
  Napi::Object out = Napi::Object::New(env);
  out.Set("matrix", nameOrNull(env, color.matrix));
  out.Set("primaries", nameOrNull(env, color.primaries));
  out.Set("transfer", nameOrNull(env, color.transfer));
  out.Set("range", nameOrNull(env, color.range));
  if (color.masteringDisplay) {
    const MasteringDisplay& m = *color.masteringDisplay;
    Napi::Object display = Napi::Object::New(env);
    display.Set("red", pair(env, m.red));
    display.Set("green", pair(env, m.green));
    display.Set("blue", pair(env, m.blue));
    display.Set("whitePoint", pair(env, m.whitePoint));
    display.Set("minLuminance", m.minLuminance);
    display.Set("maxLuminance", m.maxLuminance);
    out.Set("masteringDisplay", display);
  } else {
    out.Set("masteringDisplay", env.Null());
  }
  if (color.contentLight) {
    Napi::Object light = Napi::Object::New(env);
    light.Set("maxCll", color.contentLight->maxCll);
    light.Set("maxFall", color.contentLight->maxFall);
    out.Set("contentLight", light);
  } else {
    out.Set("contentLight", env.Null());
  }
  if (color.dolbyVision) {
    Napi::Object record = Napi::Object::New(env);
    record.Set("profile", color.dolbyVision->profile);
    record.Set("level", color.dolbyVision->level);
    record.Set("blSignalCompatibilityId", color.dolbyVision->blSignalCompatibilityId);
    out.Set("dolbyVision", record);
  } else {
    out.Set("dolbyVision", env.Null());
  }
  return out;
}

}  // namespace

Napi::Object videoInfoToJs(Napi::Env env, const VideoInfo& info) {
  Napi::Object out = Napi::Object::New(env);
  out.Set("container", info.container);
  out.Set("codec", info.codec);
  out.Set("pixelFormat", info.pixelFormat ? Napi::String::New(env, *info.pixelFormat) : env.Null());
  out.Set("width", info.width);
  out.Set("height", info.height);
  out.Set("rotation", info.rotation);
  out.Set("duration", info.duration);
  out.Set("startTime", info.startTime);
  Napi::Object frameRate = Napi::Object::New(env);
  frameRate.Set("average", info.averageFrameRate);
  out.Set("frameRate", frameRate);
  out.Set("frameCount", info.frameCount);
  // What only a scan learns is null when the plan came from the index.
  if (info.scanned) {
    frameRate.Set("variable", info.variableFrameRate);
    Napi::Array keyframes = Napi::Array::New(env, info.keyframes.size());
    for (size_t i = 0; i < info.keyframes.size(); ++i) {
      keyframes.Set(static_cast<uint32_t>(i), info.keyframes[i]);
    }
    out.Set("keyframes", keyframes);
  } else {
    frameRate.Set("variable", env.Null());
    out.Set("keyframes", env.Null());
  }
  out.Set("bitRate", static_cast<double>(info.bitRate));
  out.Set("color", colorToJs(env, info.color));
  return out;
}

Napi::Object statsToJs(Napi::Env env, const DecodeStats& stats) {
  Napi::Object out = Napi::Object::New(env);
  out.Set("seeks", static_cast<double>(stats.seeks));
  out.Set("seeksAvoided", static_cast<double>(stats.seeksAvoided));
  out.Set("packetsRead", static_cast<double>(stats.packetsRead));
  out.Set("scanPackets", static_cast<double>(stats.scanPackets));
  out.Set("framesDecoded", static_cast<double>(stats.framesDecoded));
  out.Set("decodeErrors", static_cast<double>(stats.decodeErrors));
  out.Set("damagedFrames", static_cast<double>(stats.damagedFrames));
  out.Set("seekRecoveries", static_cast<double>(stats.seekRecoveries));
  out.Set("bytesRead", static_cast<double>(stats.bytesRead));
  out.Set("requests", static_cast<double>(stats.requests));
  return out;
}

}  // namespace vsnap::binding
