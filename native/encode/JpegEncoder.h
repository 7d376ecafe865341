// JPEG encoding of a decoded frame with libjpeg-turbo, on the thread that
// calls it (the binding runs it on the decode lane that made the frame, or
// on Node's thread pool for a frame held in JavaScript). What it writes is what sharp writes with `optimiseCoding: false`,
// the encoder it replaces for JPEG: baseline, 4:2:0 chroma, the standard
// (Annex K) quantisation tables scaled by the quality and the standard
// Huffman tables, the slow-but-accurate integer DCT. It differs from sharp
// only in not loading libvips: no module to load, no threads to start, no
// copy of the frame.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <functional>
#include <memory>

#include "RgbBand.h"

namespace vsnap {

struct FreeDeleter {
  void operator()(unsigned char* bytes) const { std::free(bytes); }
};

// An encoded image, in memory allocated with malloc.
struct JpegBytes {
  std::unique_ptr<unsigned char, FreeDeleter> data;
  size_t size = 0;
};

// What to encode: packed RGB24, width * height * 3 bytes, rows top to
// bottom, and the clockwise quarter turn (0, 90, 180, 270) that shows it
// upright, applied while the rows are written (a 90 or 270 turn swaps the
// image's width and height).
struct JpegRequest {
  const uint8_t* rgb = nullptr;
  int width = 0;
  int height = 0;
  int rotation = 0;
  int quality = 80;  // 1..100
};

// Throws vsnap::Error (Internal) when the request is out of range or
// libjpeg fails; never exits the process, never prints.
JpegBytes encodeJpeg(const JpegRequest& request);

// The rows of an upright image, top to bottom, a band at a time: the next
// band, or a band of 0 rows once all were given. It may throw;
// encodeJpegBands then frees what it holds and lets the exception through.
using RgbBandSource = std::function<RgbBand()>;

// encodeJpeg for an image given band by band (RgbBands in Decoder.h): the
// same bytes as for the whole image at once.
JpegBytes encodeJpegBands(int width, int height, int quality, const RgbBandSource& bands);

}  // namespace vsnap
