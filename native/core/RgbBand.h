// Rows of a packed RGB24 image, as the decoder gives them (RgbBands in
// Decoder.h) and the JPEG encoder takes them (encodeJpegBands).
#pragma once

#include <cstddef>
#include <cstdint>

namespace vsnap {

// `count` rows from `rows`, `stride` bytes apart: a row's width * 3 bytes,
// then whatever padding the writer needed.
struct RgbBand {
  const uint8_t* rows = nullptr;
  size_t stride = 0;
  int count = 0;
};

}  // namespace vsnap
