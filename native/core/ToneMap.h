// ToneMap: HDR pictures (the PQ or HLG transfer) as a player shows them on
// an ordinary SDR screen: BT.709 primaries, the BT.1886 display (gamma 2.4,
// black 0) that BT.709 video is graded for, 8 bits, SDR white = 255.
//
// It takes rows of 16-bit R'G'B' in the video's own primaries and transfer,
// full range (what swscale gives as GBRP16 from the frame's YUV with its
// matrix and range), and gives packed RGB24:
//
//   PQ (SMPTE ST 2084)  code values -> absolute light (cd/m²). The ITU-R
//       BT.2390 EETF, in the PQ domain, maps [0, source peak] onto [0, 100
//       cd/m²] (SDR white), applied to max(R, G, B) with the same gain on
//       the three channels, so hue and saturation ratios stay as graded.
//       The source peak is the smaller of MaxCLL and the mastering display's
//       peak, where the stream gives them, else 1000 cd/m² (settings). At or
//       below 100 cd/m² the EETF is the identity: PQ footage graded within
//       SDR's range comes out as its SDR grade.
//   HLG (ARIB STD-B67)  inverse OETF -> scene light; the BT.2100 OOTF of a
//       1000 cd/m² display (system gamma 1.2) -> display light, scaled so
//       that BT.2408's reference white (HLG 75%, 203 cd/m²) is SDR white.
//       Brighter highlights keep their hue and are scaled down to fit, as an
//       SDR screen showing HLG clips them.
//   Gamut  the primaries' RGB -> XYZ -> BT.709 RGB in linear light (both
//       white points D65 for BT.2020 and Display P3). A colour BT.709 cannot
//       show is moved toward the grey of its own luminance, just far enough
//       to fit (luminance and hue kept, saturation reduced), never clipped
//       channel by channel (which shifts hue and bands saturated gradients).
//   8 bits  linear -> BT.1886 through a table indexed by the light's float
//       bits (a piecewise-linear log2, steps of 0.2% of the light, under 0.2
//       of a code value), rounded to the nearest code value: no banding
//       beyond 8 bits' own.
//
// Tables make the per-pixel work loads, multiplies and selects:
// building a ToneMapper takes about a millisecond, so a Decoder keeps one
// for as long as the settings stay the same.
#pragma once

#include <array>
#include <cstdint>
#include <vector>

extern "C" {
#include <libavutil/pixfmt.h>
}

namespace vsnap {

constexpr int kGainSteps = 4096;  // PQ gain and HLG OOTF tables
// The encode table: linear light by its float's exponent and first 9 bits
// of mantissa, over 24 octaves below 1.0 (ToneMap.cpp, encodeIndex).
constexpr int kEncodeMantissaBits = 9;
constexpr int kEncodeOctaves = 24;
constexpr int kEncodeSteps = kEncodeOctaves << kEncodeMantissaBits;  // index of 1.0
constexpr int kEncodeBase = (127 - kEncodeOctaves) << kEncodeMantissaBits;  // float bits >> 14 of 2^-24

enum class HdrTransfer { PQ, HLG };

struct ToneMapSettings {
  HdrTransfer transfer = HdrTransfer::PQ;
  AVColorPrimaries primaries = AVCOL_PRI_BT2020;
  double sourcePeak = 1000;  // cd/m², PQ only

  bool operator==(const ToneMapSettings& other) const {
    return transfer == other.transfer && primaries == other.primaries && sourcePeak == other.sourcePeak;
  }
};

// The transfer a frame tagged `trc` is tone-mapped with, or false for SDR.
bool hdrTransferOf(AVColorTransferCharacteristic trc, HdrTransfer& transfer);

// The PQ source peak the static metadata gives (0 where absent), as ToneMap
// uses it: the smaller of the two that are given, else 1000 cd/m².
double pqSourcePeak(double maxCll, double masteringPeak);

class ToneMapper {
 public:
  explicit ToneMapper(const ToneMapSettings& settings);
  const ToneMapSettings& settings() const { return settings_; }
  // `width` pixels of 16-bit planar rows, swscale's GBRP16 order (G, B, R),
  // into packed RGB24.
  void mapRow(const uint16_t* g, const uint16_t* b, const uint16_t* r, uint8_t* rgb, int width) const;

 private:

  ToneMapSettings settings_;
  std::vector<float> linear_;  // 16-bit code -> PQ: light / 100 cd/m²; HLG: scene light
  std::vector<float> gain_;    // PQ: max code >> 4 -> EETF gain; HLG: sqrt(scene luminance) -> OOTF gain
  std::array<float, 3> sourceLuma_{};  // luminance of the source primaries' R, G, B
  std::array<float, 9> toBt709_{};     // linear source RGB -> linear BT.709 RGB, rows
  bool sameGamut_ = false;
  std::vector<uint8_t> encode_;  // encodeIndex(linear BT.709) -> BT.1886 code value
};

}  // namespace vsnap
