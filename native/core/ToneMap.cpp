#include "ToneMap.h"

#include <algorithm>
#include <cmath>
#include <cstring>

extern "C" {
#include <libavutil/csp.h>
#include <libavutil/rational.h>
}

#include "Error.h"

namespace vsnap {

namespace {

// ---- transfers -------------------------------------------------------------

// SMPTE ST 2084.
constexpr double kPqM1 = 2610.0 / 16384;
constexpr double kPqM2 = 2523.0 / 4096 * 128;
constexpr double kPqC1 = 3424.0 / 4096;
constexpr double kPqC2 = 2413.0 / 4096 * 32;
constexpr double kPqC3 = 2392.0 / 4096 * 32;
constexpr double kPqPeak = 10000;  // cd/m² at code value 1

double pqToNits(double code) {
  const double p = std::pow(std::clamp(code, 0.0, 1.0), 1 / kPqM2);
  return kPqPeak * std::pow(std::max(p - kPqC1, 0.0) / (kPqC2 - kPqC3 * p), 1 / kPqM1);
}

double nitsToPq(double nits) {
  const double y = std::pow(std::clamp(nits / kPqPeak, 0.0, 1.0), kPqM1);
  return std::pow((kPqC1 + kPqC2 * y) / (1 + kPqC3 * y), kPqM2);
}

// ARIB STD-B67 (BT.2100 HLG).
constexpr double kHlgA = 0.17883277;
constexpr double kHlgB = 1 - 4 * kHlgA;
const double kHlgC = 0.5 - kHlgA * std::log(4 * kHlgA);
constexpr double kHlgDisplayPeak = 1000;  // cd/m², the nominal display BT.2100 describes
constexpr double kHlgSystemGamma = 1.2;   // BT.2100's gamma for a 1000 cd/m² display

double hlgToScene(double code) {
  code = std::clamp(code, 0.0, 1.0);
  return code <= 0.5 ? code * code / 3 : (std::exp((code - kHlgC) / kHlgA) + kHlgB) / 12;
}

constexpr double kSdrWhite = 100;  // cd/m²: SDR white, the EETF's target peak
constexpr double kBt1886Gamma = 2.4;

// ITU-R BT.2390 EETF (black levels 0): PQ code `e` of a source whose peak
// is `sourcePeak` to the PQ code shown on a display whose peak is kSdrWhite.
double eetf(double e, double sourcePeak) {
  const double sourceMax = nitsToPq(sourcePeak);
  const double maxLum = nitsToPq(kSdrWhite) / sourceMax;
  if (maxLum >= 1) {
    return e;
  }
  const double e1 = std::min(e / sourceMax, 1.0);
  const double ks = 1.5 * maxLum - 0.5;
  if (e1 < ks) {
    return e;
  }
  const double t = (e1 - ks) / (1 - ks);
  const double t2 = t * t;
  const double t3 = t2 * t;
  const double e2 = (2 * t3 - 3 * t2 + 1) * ks + (t3 - 2 * t2 + t) * (1 - ks) + (-2 * t3 + 3 * t2) * maxLum;
  return e2 * sourceMax;
}

// ---- primaries -------------------------------------------------------------

using Matrix = std::array<double, 9>;

Matrix multiply(const Matrix& a, const Matrix& b) {
  Matrix m{};
  for (int i = 0; i < 3; ++i) {
    for (int j = 0; j < 3; ++j) {
      m[i * 3 + j] = a[i * 3] * b[j] + a[i * 3 + 1] * b[3 + j] + a[i * 3 + 2] * b[6 + j];
    }
  }
  return m;
}

Matrix inverse(const Matrix& m) {
  const double det = m[0] * (m[4] * m[8] - m[5] * m[7]) - m[1] * (m[3] * m[8] - m[5] * m[6]) +
                     m[2] * (m[3] * m[7] - m[4] * m[6]);
  if (std::fabs(det) < 1e-12) {
    throw Error(ErrorCode::Internal, "ToneMap: the primaries make a singular matrix");
  }
  return Matrix{(m[4] * m[8] - m[5] * m[7]) / det, (m[2] * m[7] - m[1] * m[8]) / det, (m[1] * m[5] - m[2] * m[4]) / det,
                (m[5] * m[6] - m[3] * m[8]) / det, (m[0] * m[8] - m[2] * m[6]) / det, (m[2] * m[3] - m[0] * m[5]) / det,
                (m[3] * m[7] - m[4] * m[6]) / det, (m[1] * m[6] - m[0] * m[7]) / det, (m[0] * m[4] - m[1] * m[3]) / det};
}

std::array<double, 3> xyzOf(const AVCIExy& c) {
  const double x = av_q2d(c.x);
  const double y = av_q2d(c.y);
  return {x / y, 1.0, (1 - x - y) / y};
}

// Linear RGB of `desc`'s primaries -> CIE XYZ.
Matrix rgbToXyz(const AVColorPrimariesDesc& desc) {
  const auto r = xyzOf(desc.prim.r);
  const auto g = xyzOf(desc.prim.g);
  const auto b = xyzOf(desc.prim.b);
  const Matrix primaries{r[0], g[0], b[0], r[1], g[1], b[1], r[2], g[2], b[2]};
  const auto w = xyzOf(desc.wp);
  const Matrix inv = inverse(primaries);
  Matrix m = primaries;
  for (int column = 0; column < 3; ++column) {
    const double s = inv[column * 3] * w[0] + inv[column * 3 + 1] * w[1] + inv[column * 3 + 2] * w[2];
    for (int row = 0; row < 3; ++row) {
      m[row * 3 + column] *= s;
    }
  }
  return m;
}

// Bradford chromatic adaptation from white `from` to white `to` (XYZ).
Matrix adaptation(const AVCIExy& from, const AVCIExy& to) {
  const Matrix bradford{0.8951, 0.2664, -0.1614, -0.7502, 1.7135, 0.0367, 0.0389, -0.0685, 1.0296};
  const auto source = xyzOf(from);
  const auto target = xyzOf(to);
  Matrix scale{};
  for (int i = 0; i < 3; ++i) {
    const double s = bradford[i * 3] * source[0] + bradford[i * 3 + 1] * source[1] + bradford[i * 3 + 2] * source[2];
    const double t = bradford[i * 3] * target[0] + bradford[i * 3 + 1] * target[1] + bradford[i * 3 + 2] * target[2];
    scale[i * 4] = t / s;
  }
  return multiply(inverse(bradford), multiply(scale, bradford));
}

const AVColorPrimariesDesc& primariesOf(AVColorPrimaries id) {
  const AVColorPrimariesDesc* desc = av_csp_primaries_desc_from_id(id);
  if (desc == nullptr) {
    desc = av_csp_primaries_desc_from_id(AVCOL_PRI_BT2020);
  }
  return *desc;
}

}  // namespace

bool hdrTransferOf(AVColorTransferCharacteristic trc, HdrTransfer& transfer) {
  if (trc == AVCOL_TRC_SMPTE2084) {
    transfer = HdrTransfer::PQ;
    return true;
  }
  if (trc == AVCOL_TRC_ARIB_STD_B67) {
    transfer = HdrTransfer::HLG;
    return true;
  }
  return false;
}

double pqSourcePeak(double maxCll, double masteringPeak) {
  if (maxCll > 0 && masteringPeak > 0) {
    return std::min(maxCll, masteringPeak);
  }
  if (maxCll > 0) {
    return maxCll;
  }
  return masteringPeak > 0 ? masteringPeak : 1000;
}

ToneMapper::ToneMapper(const ToneMapSettings& settings)
    : settings_(settings), linear_(65536), gain_(kGainSteps + 1), encode_(kEncodeSteps + 1) {
  const bool pq = settings.transfer == HdrTransfer::PQ;
  for (int code = 0; code < 65536; ++code) {
    const double e = code / 65535.0;
    linear_[code] = static_cast<float>(pq ? pqToNits(e) / kSdrWhite : hlgToScene(e));
  }
  // HLG's reference white: 75% grey on the nominal display.
  const double hlgWhite = kHlgDisplayPeak * std::pow(hlgToScene(0.75), kHlgSystemGamma);
  for (int step = 0; step <= kGainSteps; ++step) {
    const double x = static_cast<double>(step) / kGainSteps;
    double gain = 1;
    if (pq) {
      const double nits = pqToNits(x);
      gain = nits > 0 ? pqToNits(eetf(x, settings.sourcePeak)) / nits : 1;
    } else {
      // x is the square root of scene luminance Ys: Fd = Lw * Ys^(gamma - 1) * E.
      gain = kHlgDisplayPeak / hlgWhite * std::pow(x * x, kHlgSystemGamma - 1);
    }
    gain_[step] = static_cast<float>(gain);
  }
  const AVColorPrimariesDesc& source = primariesOf(settings.primaries);
  const AVColorPrimariesDesc& bt709 = primariesOf(AVCOL_PRI_BT709);
  const Matrix sourceToXyz = rgbToXyz(source);
  for (int i = 0; i < 3; ++i) {
    sourceLuma_[i] = static_cast<float>(sourceToXyz[3 + i]);
  }
  const Matrix toBt709 = multiply(inverse(rgbToXyz(bt709)), multiply(adaptation(source.wp, bt709.wp), sourceToXyz));
  sameGamut_ = true;
  for (int i = 0; i < 9; ++i) {
    toBt709_[i] = static_cast<float>(toBt709[i]);
    sameGamut_ = sameGamut_ && std::fabs(toBt709[i] - (i % 4 == 0 ? 1 : 0)) < 1e-6;
  }
  for (int step = 0; step <= kEncodeSteps; ++step) {
    // The light in the middle of the step's range of floats.
    const int32_t low = (step + kEncodeBase) << (23 - kEncodeMantissaBits);
    const int32_t high = low + (1 << (23 - kEncodeMantissaBits));
    float from;
    float to;
    std::memcpy(&from, &low, sizeof from);
    std::memcpy(&to, &high, sizeof to);
    const double light = std::min((static_cast<double>(from) + to) / 2, 1.0);
    encode_[step] = static_cast<uint8_t>(std::lround(255 * std::pow(step == 0 ? 0.0 : light, 1 / kBt1886Gamma)));
  }
}

namespace {

// Rows go through in chunks: the table look-ups one pixel at a time, the
// arithmetic between them in loops the compiler vectorises (this file is
// built with -fno-math-errno -fno-trapping-math, so that the square roots
// and the selects below need no branch).
constexpr int kChunk = 64;

// The encode table's index of linear light c in [0, 1]: its float's
// exponent and first kEncodeMantissaBits of mantissa, a piecewise-linear
// log2 (steps of 2^-9, 0.2%, of the light: under 0.2 of a code value),
// from 2^-kEncodeOctaves (code value 0.25 at gamma 2.4) up. No square root
// or division: an integer shift and subtraction.
#define VSNAP_INLINE inline __attribute__((always_inline))

VSNAP_INLINE int32_t encodeIndex(float c) {
  int32_t bits;
  std::memcpy(&bits, &c, sizeof bits);
  const int32_t index = (bits >> (23 - kEncodeMantissaBits)) - kEncodeBase;
  return std::min(std::max(index, 0), kEncodeSteps);
}

// Linear source RGB times its gain -> BT.709, in gamut, as encode-table
// indices (see the header comment).
template <bool kConvert>
VSNAP_INLINE void toBt709Indices(const float* red, const float* green, const float* blue, const float* gain, const float* m,
                    int n, int32_t* outR, int32_t* outG, int32_t* outB) {
  constexpr float kLumaR = 0.2126f;
  constexpr float kLumaG = 0.7152f;
  constexpr float kLumaB = 0.0722f;
  for (int i = 0; i < n; ++i) {
    float cr = red[i] * gain[i];
    float cg = green[i] * gain[i];
    float cb = blue[i] * gain[i];
    // Light above SDR white (HLG highlights, PQ above its stated peak):
    // scaled down whole, its hue kept.
    const float fit = 1.0f / std::max(std::max(cr, std::max(cg, cb)), 1.0f);
    cr *= fit;
    cg *= fit;
    cb *= fit;
    if (kConvert) {
      const float nr = m[0] * cr + m[1] * cg + m[2] * cb;
      const float ng = m[3] * cr + m[4] * cg + m[5] * cb;
      const float nb = m[6] * cr + m[7] * cg + m[8] * cb;
      cr = nr;
      cg = ng;
      cb = nb;
    }
    // Toward the grey of the same luminance, just far enough to fit.
    const float y = std::min(std::max(kLumaR * cr + kLumaG * cg + kLumaB * cb, 0.0f), 1.0f);
    const float low = std::min(cr, std::min(cg, cb));
    const float high = std::max(cr, std::max(cg, cb));
    const float towardLow = low < 0.0f ? y / (y - low) : 1.0f;
    const float towardHigh = high > 1.0f ? (1.0f - y) / (high - y) : 1.0f;
    const float t = std::min(towardLow, towardHigh);
    cr = std::min(std::max(y + t * (cr - y), 0.0f), 1.0f);
    cg = std::min(std::max(y + t * (cg - y), 0.0f), 1.0f);
    cb = std::min(std::max(y + t * (cb - y), 0.0f), 1.0f);
    outR[i] = encodeIndex(cr);
    outG[i] = encodeIndex(cg);
    outB[i] = encodeIndex(cb);
  }
}

}  // namespace

// Built twice, for AVX2 (8 lanes, gathers) and for any x86-64 (SSE2), the
// one the CPU has picked at load time. Without contracted multiply-adds
// (-ffp-contract=off) both round every operation alike: the same bytes on
// every CPU.
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
__attribute__((target_clones("avx2", "default")))
#endif
void ToneMapper::mapRow(const uint16_t* g, const uint16_t* b, const uint16_t* r, uint8_t* rgb, int width) const {
  alignas(32) float red[kChunk];
  alignas(32) float green[kChunk];
  alignas(32) float blue[kChunk];
  alignas(32) float gain[kChunk];
  alignas(32) int32_t indexR[kChunk];
  alignas(32) int32_t indexG[kChunk];
  alignas(32) int32_t indexB[kChunk];
  const bool pq = settings_.transfer == HdrTransfer::PQ;
  const float* linear = linear_.data();
  const float* gains = gain_.data();
  const uint8_t* encode = encode_.data();
  for (int x0 = 0; x0 < width; x0 += kChunk) {
    const int n = std::min(kChunk, width - x0);
    const uint16_t* cr = r + x0;
    const uint16_t* cg = g + x0;
    const uint16_t* cb = b + x0;
    for (int i = 0; i < n; ++i) {
      red[i] = linear[cr[i]];
      green[i] = linear[cg[i]];
      blue[i] = linear[cb[i]];
    }
    if (pq) {
      // The EETF's gain for the brightest channel: PQ is monotonic, so the
      // largest code value is the largest light.
      for (int i = 0; i < n; ++i) {
        gain[i] = gains[(std::max(cr[i], std::max(cg[i], cb[i])) + 8) >> 4];
      }
    } else {
      // The OOTF's gain from the scene luminance, by its square root.
      for (int i = 0; i < n; ++i) {
        const float ys = sourceLuma_[0] * red[i] + sourceLuma_[1] * green[i] + sourceLuma_[2] * blue[i];
        indexR[i] = std::min(static_cast<int32_t>(std::sqrt(std::max(ys, 0.0f)) * kGainSteps + 0.5f), kGainSteps);
      }
      for (int i = 0; i < n; ++i) {
        gain[i] = gains[indexR[i]];
      }
    }
    if (sameGamut_) {
      toBt709Indices<false>(red, green, blue, gain, toBt709_.data(), n, indexR, indexG, indexB);
    } else {
      toBt709Indices<true>(red, green, blue, gain, toBt709_.data(), n, indexR, indexG, indexB);
    }
    uint8_t* out = rgb + static_cast<size_t>(x0) * 3;
    for (int i = 0; i < n; ++i) {
      out[3 * i] = encode[indexR[i]];
      out[3 * i + 1] = encode[indexG[i]];
      out[3 * i + 2] = encode[indexB[i]];
    }
  }
}

}  // namespace vsnap
