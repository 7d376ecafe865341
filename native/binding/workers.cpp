#include "workers.h"

#include <new>

#include "Error.h"

namespace vsnap::binding {

// ---- inputs ------------------------------------------------------------------

InputSpec InputSpec::from(const Napi::Value& value) {
  Napi::Env env = value.Env();
  if (!value.IsObject()) {
    throw Napi::TypeError::New(env, "input must be { path } or { data }");
  }
  Napi::Object object = value.As<Napi::Object>();
  InputSpec spec;
  Napi::Value path = object.Get("path");
  Napi::Value data = object.Get("data");
  if (path.IsString()) {
    spec.path = path.As<Napi::String>().Utf8Value();
  } else if (data.IsTypedArray() && data.As<Napi::TypedArray>().TypedArrayType() == napi_uint8_array) {
    auto bytes = data.As<Napi::Uint8Array>();
    spec.data = bytes.Data();
    spec.size = bytes.ByteLength();
    spec.keep = std::make_shared<Napi::Reference<Napi::Value>>(Napi::Persistent(data));
  } else {
    throw Napi::TypeError::New(env, "input must be { path: string } or { data: Uint8Array }");
  }
  return spec;
}

std::unique_ptr<Input> InputSpec::make() const {
  if (keep != nullptr) {
    return std::make_unique<MemoryInput>(data, size);
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

void ProbeWorker::run() {
  Decoder decoder(input_.make(), nullptr);
  info_ = decoder.info();
}

Napi::Value ProbeWorker::result() { return videoInfoToJs(Env(), info_); }

// ---- extractor ---------------------------------------------------------------

void OpenWorker::run() {
  decoder_ = std::make_unique<Decoder>(state_->input.make(), &state_->cancel);
  decoder_->plan(state_->mode, state_->interval);
}

void OpenWorker::settled() {
  state_->busy = false;
  if (decoder_ != nullptr) {
    state_->stats = decoder_->stats();
  }
  if (!state_->closed) {
    state_->decoder = std::move(decoder_);
  }
}

Napi::Value OpenWorker::result() {
  Napi::Env env = Env();
  Napi::Object out = Napi::Object::New(env);
  out.Set("info", videoInfoToJs(env, state_->decoder->info()));
  out.Set("outputCount", Napi::Number::New(env, static_cast<double>(state_->decoder->outputCount())));
  out.Set("frameBytes", Napi::Number::New(env, static_cast<double>(state_->decoder->frameBytes())));
  return out;
}

NextWorker::NextWorker(Napi::Env env, std::shared_ptr<ExtractorState> state, Napi::ArrayBuffer dest)
    : PromiseWorker(env),
      state_(std::move(state)),
      destRef_(Napi::Persistent(dest)),
      dest_(static_cast<uint8_t*>(dest.Data())),
      destSize_(dest.ByteLength()) {}

void NextWorker::run() { produced_ = state_->decoder->next(dest_, destSize_, frame_); }

void NextWorker::settled() {
  state_->busy = false;
  state_->stats = state_->decoder->stats();
  if (state_->closed) {
    state_->decoder.reset();
  }
}

Napi::Value NextWorker::result() {
  Napi::Env env = Env();
  if (!produced_) {
    return env.Null();
  }
  Napi::Object out = Napi::Object::New(env);
  out.Set("outputIndex", Napi::Number::New(env, frame_.outputIndex));
  out.Set("frameIndex", Napi::Number::New(env, frame_.frameIndex));
  out.Set("frameTime", Napi::Number::New(env, frame_.frameTime));
  out.Set("width", Napi::Number::New(env, frame_.width));
  out.Set("height", Napi::Number::New(env, frame_.height));
  return out;
}

// ---- conversions -------------------------------------------------------------

Napi::Object videoInfoToJs(Napi::Env env, const VideoInfo& info) {
  Napi::Object out = Napi::Object::New(env);
  out.Set("container", info.container);
  out.Set("codec", info.codec);
  out.Set("pixelFormat", info.pixelFormat);
  out.Set("width", info.width);
  out.Set("height", info.height);
  out.Set("rotation", info.rotation);
  out.Set("duration", info.duration);
  out.Set("startTime", info.startTime);
  Napi::Object frameRate = Napi::Object::New(env);
  frameRate.Set("average", info.averageFrameRate);
  frameRate.Set("variable", info.variableFrameRate);
  out.Set("frameRate", frameRate);
  out.Set("frameCount", info.frameCount);
  Napi::Array keyframes = Napi::Array::New(env, info.keyframes.size());
  for (size_t i = 0; i < info.keyframes.size(); ++i) {
    keyframes.Set(static_cast<uint32_t>(i), info.keyframes[i]);
  }
  out.Set("keyframes", keyframes);
  out.Set("bitRate", static_cast<double>(info.bitRate));
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
  out.Set("bytesRead", static_cast<double>(stats.bytesRead));
  return out;
}

}  // namespace vsnap::binding
