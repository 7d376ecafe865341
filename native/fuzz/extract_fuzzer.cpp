// libFuzzer target: arbitrary bytes through the in-memory input path, in
// both sampling modes, as the addon runs them (scripts/fuzz.sh builds it
// with AddressSanitizer and UndefinedBehaviorSanitizer).
//
// Each input is planned and decoded three times: exact mode from a scan, on
// two lanes (the second reopens the input as the addon's lane threads do,
// taking turns here), keyframe mode planned from the index where the
// container has one, and
// exact mode from the index too, at an interval sparse enough for the index
// to be used on the seeds (a dense exact plan scans). The first two make
// JPEGs as the addon's nextJpeg does (decodeNext, then the frame to
// libjpeg-turbo band by band, or whole when turned), the third RGB frames
// as next() does, all tone-mapping HDR frames (tonemap 'auto'), and sized: a crop of the frame that starts off a chroma
// sample, scaled into a place with a black border (the size options' crop,
// scale and pad, in one geometry). A
// vsnap::Error is the expected end of damaged data; anything else (a crash,
// a sanitizer report, a leak, a hang, runaway memory) is a finding. The
// decoding of each mode stops after a few outputs, so that time goes to more
// inputs rather than to long valid ones; $VSNAP_FUZZ_OUTPUTS raises that
// (scripts/leaks.sh decodes whole fixtures through this harness).
//
// $VSNAP_FUZZ_CPUFLAGS forces FFmpeg's CPU flags (av_force_cpu_flags, the
// syntax of ffmpeg's -cpuflags): "0" makes it use its C functions instead of
// its assembly, so that AddressSanitizer sees their accesses too when FFmpeg
// is instrumented (npm run fuzz -- --asan-ffmpeg).
#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <vector>

#include "Decoder.h"
#include "Error.h"
#include "Input.h"
#include "JpegEncoder.h"

extern "C" {
#include <libavutil/cpu.h>
#include <libavutil/log.h>
}

namespace {

int maxOutputs = 6;
constexpr double kInterval = 0.5;
constexpr double kSparseInterval = 2;
// The library's default limits (src/limits.ts): a plan of more targets is
// refused, and a frame of more pixels is never allocated.
constexpr size_t kMaxTargets = 100000;
constexpr int64_t kMaxPixels = 8192 * 8192;

enum class Output { Rgb, Jpeg };

// One output of `decoder` as the addon makes it: false once it has none.
bool nextOutput(vsnap::Decoder& decoder, Output output, std::vector<uint8_t>& rgb, vsnap::OutputFrame& out) {
  if (output == Output::Rgb) {
    return decoder.next(rgb.data(), rgb.size(), out);
  }
  if (!decoder.decodeNext(out)) {
    return false;
  }
  const int rotation = decoder.info().rotation;
  if (rotation == 0) {
    vsnap::RgbBands bands = decoder.decodedBands();
    vsnap::encodeJpegBands(out.width, out.height, 80, [&] { return bands.next(); });
  } else {
    decoder.convertDecoded(rgb.data(), rgb.size());
    vsnap::encodeJpeg({rgb.data(), out.width, out.height, rotation, 80});
  }
  return true;
}

// Targets every `interval` seconds, as src/engine/sampling.ts makes them,
// kMaxTargets at most: t_k = k * interval (milliseconds) while t_k < the end.
std::vector<vsnap::TargetTime> intervalTargets(const vsnap::Decoder& decoder, double interval) {
  const AVRational timeBase = decoder.timeBase();
  const __int128 end = static_cast<__int128>(decoder.durationTicks()) * timeBase.num * 1000;  // ms * timeBase.den
  const auto step = static_cast<int64_t>(interval * 1000);
  std::vector<vsnap::TargetTime> times;
  for (int64_t ms = 0; static_cast<__int128>(ms) * timeBase.den < end && times.size() < kMaxTargets; ms += step) {
    times.push_back(vsnap::TargetTime{ms, 1000});
  }
  return times;
}

// What the size options make of a `width` x `height` frame (src/engine/geometry.ts
// computes it from width, height and fit): its middle, from an odd row and
// column, into 71 x 41 pixels at (3, 2) of a 77 x 45 image.
vsnap::OutputGeometry sizedGeometry(int width, int height) {
  vsnap::OutputGeometry geometry;
  if (width < 2 || height < 2) {
    return geometry;  // the coded size
  }
  geometry.width = 77;
  geometry.height = 45;
  geometry.crop = vsnap::Rect{(width / 4) | 1, (height / 4) | 1, std::max(1, width / 2), std::max(1, height / 2)};
  geometry.place = vsnap::Rect{3, 2, 71, 41};
  return geometry;
}

void extract(const uint8_t* data, size_t size, vsnap::SamplingMode mode, vsnap::Planning planning, Output output,
             double interval = kInterval, int lanes = 1, bool sized = false) {
  const std::atomic<bool> cancel{false};
  try {
    vsnap::Decoder first(std::make_unique<vsnap::MemoryInput>(data, size), &cancel,
                         vsnap::StreamProbe::WhereHeaderFallsShort);
    first.prepare(planning);
    std::shared_ptr<vsnap::Work> work = first.plan(mode, intervalTargets(first, interval), vsnap::Window{});
    work->maxPixels = kMaxPixels;
    // As `tonemap: 'auto'`: frames tagged PQ or HLG (the mp4-hdr seeds, or
    // any stream whose damaged VUI says so) go through ToneMap.
    work->toneMap = true;
    work->pqSourcePeak = vsnap::pqSourcePeakOf(first.info().color);
    if (sized) {
      work->geometry = sizedGeometry(first.info().width, first.info().height);
    }
    std::vector<vsnap::Decoder*> decoders{&first};
    std::vector<std::unique_ptr<vsnap::Decoder>> others;
    for (int lane = 1; lane < lanes; ++lane) {
      others.push_back(first.openLane(std::make_unique<vsnap::MemoryInput>(data, size)));
      decoders.push_back(others.back().get());
    }
    for (vsnap::Decoder* decoder : decoders) {
      decoder->start(work, false);
    }
    std::vector<uint8_t> rgb(first.frameBytes());
    vsnap::OutputFrame out;
    // The lanes take turns until each has no segment left.
    int outputs = 0;
    while (outputs < maxOutputs && !decoders.empty()) {
      for (auto it = decoders.begin(); it != decoders.end() && outputs < maxOutputs;) {
        if (nextOutput(**it, output, rgb, out)) {
          ++outputs;
          ++it;
        } else {
          it = decoders.erase(it);
        }
      }
    }
  } catch (const vsnap::Error&) {
    // A documented refusal of bad data.
  }
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int* /*argc*/, char*** /*argv*/) {
  av_log_set_level(AV_LOG_QUIET);
  if (const char* outputs = std::getenv("VSNAP_FUZZ_OUTPUTS")) {
    maxOutputs = std::atoi(outputs);
  }
  const char* cpuFlags = std::getenv("VSNAP_FUZZ_CPUFLAGS");
  if (cpuFlags != nullptr && *cpuFlags != '\0') {
    unsigned flags = 0;
    if (av_parse_cpu_caps(&flags, cpuFlags) < 0) {
      std::fprintf(stderr, "extract_fuzzer: VSNAP_FUZZ_CPUFLAGS=%s is not a CPU flag list\n", cpuFlags);
      std::exit(2);
    }
    av_force_cpu_flags(static_cast<int>(flags));
  }
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) {
    return 0;
  }
  extract(data, size, vsnap::SamplingMode::Exact, vsnap::Planning::Scan, Output::Jpeg, kInterval, 2);
  extract(data, size, vsnap::SamplingMode::Keyframe, vsnap::Planning::IndexWhereExact, Output::Jpeg);
  extract(data, size, vsnap::SamplingMode::Exact, vsnap::Planning::IndexWhereExact, Output::Rgb, kSparseInterval, 1, true);
  return 0;
}
