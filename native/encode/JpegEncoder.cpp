#include "JpegEncoder.h"

#include <algorithm>
#include <csetjmp>
#include <cstdio>
#include <string>
#include <vector>

// jpeglib.h needs size_t and FILE declared first.
#include <jpeglib.h>
#include <jerror.h>

#include "Error.h"

namespace vsnap {

namespace {

// The largest side a baseline JPEG can describe.
constexpr int kMaxSide = JPEG_MAX_DIMENSION;

// libjpeg reports a fatal error by calling error_exit, which by default
// prints and exits the process. This one keeps the message and jumps back
// to encodeJpeg's setjmp; warnings (emit_message) are dropped.
struct ErrorManager {
  jpeg_error_mgr pub;
  std::jmp_buf jump;
  char message[JMSG_LENGTH_MAX];
};

void onError(j_common_ptr cinfo) {
  auto* errors = reinterpret_cast<ErrorManager*>(cinfo->err);
  (*cinfo->err->format_message)(cinfo, errors->message);
  std::longjmp(errors->jump, 1);
}

void onMessage(j_common_ptr, int) {}

// Where the encoded bytes go: one malloc'd buffer that grows by doubling,
// owned by encodeJpeg whatever happens (jpeg_mem_dest frees and replaces
// its buffer as it grows, and the pointer it hands back is stale until the
// compression finishes, so an error part-way could not free it).
struct Destination {
  jpeg_destination_mgr pub;
  unsigned char* data;
  size_t capacity;
};

void startDestination(j_compress_ptr cinfo) {
  auto* destination = reinterpret_cast<Destination*>(cinfo->dest);
  destination->pub.next_output_byte = destination->data;
  destination->pub.free_in_buffer = destination->capacity;
}

boolean growDestination(j_compress_ptr cinfo) {
  auto* destination = reinterpret_cast<Destination*>(cinfo->dest);
  const size_t grown = destination->capacity * 2;
  auto* data = static_cast<unsigned char*>(std::realloc(destination->data, grown));
  if (data == nullptr) {
    ERREXIT1(cinfo, JERR_OUT_OF_MEMORY, 0);
  }
  // The whole buffer was full: libjpeg calls this only then.
  destination->pub.next_output_byte = data + destination->capacity;
  destination->pub.free_in_buffer = grown - destination->capacity;
  destination->data = data;
  destination->capacity = grown;
  return TRUE;
}

void finishDestination(j_compress_ptr) {}

// Fills `row` with output row `y` of the image turned `rotation` (90, 180
// or 270) degrees clockwise; width and height are the source's.
void rotatedRow(const JpegRequest& in, int y, uint8_t* row) {
  const size_t stride = static_cast<size_t>(in.width) * 3;
  const uint8_t* rgb = in.rgb;
  switch (in.rotation) {
    case 90:  // out(x, y) = in(y, height - 1 - x)
      for (int x = 0; x < in.height; ++x) {
        const uint8_t* pixel = rgb + static_cast<size_t>(in.height - 1 - x) * stride + static_cast<size_t>(y) * 3;
        row[x * 3] = pixel[0];
        row[x * 3 + 1] = pixel[1];
        row[x * 3 + 2] = pixel[2];
      }
      return;
    case 180:  // out(x, y) = in(width - 1 - x, height - 1 - y)
    {
      const uint8_t* source = rgb + static_cast<size_t>(in.height - 1 - y) * stride;
      for (int x = 0; x < in.width; ++x) {
        const uint8_t* pixel = source + static_cast<size_t>(in.width - 1 - x) * 3;
        row[x * 3] = pixel[0];
        row[x * 3 + 1] = pixel[1];
        row[x * 3 + 2] = pixel[2];
      }
      return;
    }
    default:  // 270 (encodeJpeg checked it); out(x, y) = in(width - 1 - y, x)
      for (int x = 0; x < in.height; ++x) {
        const uint8_t* pixel = rgb + static_cast<size_t>(x) * stride + static_cast<size_t>(in.width - 1 - y) * 3;
        row[x * 3] = pixel[0];
        row[x * 3 + 1] = pixel[1];
        row[x * 3 + 2] = pixel[2];
      }
      return;
  }
}

// The libjpeg calls, between setjmp and the last possible longjmp. Nothing
// here owns memory that a longjmp would leak: the caller owns `pointers`
// and the destination's buffer, and jpeg_destroy_compress runs on every way
// out (an exception from `bands` included).
bool compress(int width, int height, int quality, const RgbBandSource& bands, jpeg_compress_struct& cinfo,
              ErrorManager& errors, Destination& destination, std::vector<JSAMPROW>& pointers) {
  if (setjmp(errors.jump) != 0) {
    return false;
  }
  jpeg_create_compress(&cinfo);
  cinfo.dest = &destination.pub;
  cinfo.image_width = static_cast<JDIMENSION>(width);
  cinfo.image_height = static_cast<JDIMENSION>(height);
  cinfo.input_components = 3;
  cinfo.in_color_space = JCS_RGB;
  jpeg_set_defaults(&cinfo);  // 4:2:0 chroma, standard Huffman tables, integer DCT
  jpeg_set_quality(&cinfo, quality, TRUE);
  cinfo.optimize_coding = FALSE;
  jpeg_start_compress(&cinfo, TRUE);
  while (cinfo.next_scanline < cinfo.image_height) {
    const RgbBand band = bands();
    if (band.count <= 0 || static_cast<JDIMENSION>(band.count) > cinfo.image_height - cinfo.next_scanline) {
      throw Error(ErrorCode::Internal, "encodeJpeg: the image's rows ran short or over");
    }
    if (band.stride < static_cast<size_t>(width) * 3) {
      throw Error(ErrorCode::Internal, "encodeJpeg: rows overlap (stride shorter than a row)");
    }
    pointers.resize(static_cast<size_t>(band.count));
    for (int i = 0; i < band.count; ++i) {
      pointers[static_cast<size_t>(i)] = const_cast<JSAMPROW>(band.rows + static_cast<size_t>(i) * band.stride);
    }
    // A memory destination never suspends: every row given is taken.
    jpeg_write_scanlines(&cinfo, pointers.data(), static_cast<JDIMENSION>(band.count));
  }
  jpeg_finish_compress(&cinfo);
  return true;
}

void checkSize(int width, int height) {
  if (width <= 0 || height <= 0 || width > kMaxSide || height > kMaxSide) {
    throw Error(ErrorCode::Internal, "encodeJpeg: a JPEG is 1 to " + std::to_string(kMaxSide) +
                                         " pixels a side, not " + std::to_string(width) + "x" +
                                         std::to_string(height));
  }
}

}  // namespace

JpegBytes encodeJpeg(const JpegRequest& in) {
  if (in.rgb == nullptr) {
    throw Error(ErrorCode::Internal, "encodeJpeg: no frame");
  }
  checkSize(in.width, in.height);
  if (in.rotation != 0 && in.rotation != 90 && in.rotation != 180 && in.rotation != 270) {
    throw Error(ErrorCode::Internal, "encodeJpeg: rotation must be 0, 90, 180 or 270");
  }
  const bool turned = in.rotation == 90 || in.rotation == 270;
  const int width = turned ? in.height : in.width;
  const int height = turned ? in.width : in.height;
  if (in.rotation == 0) {
    // Every row at once, in place.
    bool given = false;
    return encodeJpegBands(width, height, in.quality, [&] {
      if (given) {
        return RgbBand{};
      }
      given = true;
      return RgbBand{in.rgb, static_cast<size_t>(width) * 3, in.height};
    });
  }
  // One turned row at a time.
  std::vector<uint8_t> row(static_cast<size_t>(width) * 3);
  int next = 0;
  return encodeJpegBands(width, height, in.quality, [&] {
    if (next >= height) {
      return RgbBand{};
    }
    rotatedRow(in, next++, row.data());
    return RgbBand{row.data(), row.size(), 1};
  });
}

JpegBytes encodeJpegBands(int width, int height, int quality, const RgbBandSource& bands) {
  checkSize(width, height);
  if (quality < 1 || quality > 100) {
    throw Error(ErrorCode::Internal, "encodeJpeg: quality must be 1 to 100");
  }
  jpeg_compress_struct cinfo{};
  ErrorManager errors{};
  cinfo.err = jpeg_std_error(&errors.pub);
  errors.pub.error_exit = onError;
  errors.pub.emit_message = onMessage;
  // A first guess at the size: an eighth of a byte a pixel holds most
  // frames at the default quality (a 4K frame of noise: 0.73 MB).
  Destination destination{};
  destination.capacity = std::max<size_t>(16 * 1024, static_cast<size_t>(width) * height / 8);
  destination.data = static_cast<unsigned char*>(std::malloc(destination.capacity));
  if (destination.data == nullptr) {
    throw Error(ErrorCode::Internal, "encodeJpeg: out of memory");
  }
  destination.pub.init_destination = startDestination;
  destination.pub.empty_output_buffer = growDestination;
  destination.pub.term_destination = finishDestination;
  std::vector<JSAMPROW> pointers;
  bool done = false;
  try {
    done = compress(width, height, quality, bands, cinfo, errors, destination, pointers);
  } catch (...) {
    jpeg_destroy_compress(&cinfo);
    std::free(destination.data);
    throw;
  }
  jpeg_destroy_compress(&cinfo);
  JpegBytes bytes;
  bytes.data.reset(destination.data);
  if (!done) {
    throw Error(ErrorCode::Internal, std::string("libjpeg: ") + errors.message);
  }
  bytes.size = destination.capacity - destination.pub.free_in_buffer;
  return bytes;
}

}  // namespace vsnap
