#include "FFmpeg.h"

#include "Error.h"

namespace vsnap {

PacketPtr makePacket() {
  PacketPtr packet(av_packet_alloc());
  if (packet == nullptr) {
    throw Error(ErrorCode::Internal, "av_packet_alloc: out of memory");
  }
  return packet;
}

FramePtr makeFrame() {
  FramePtr frame(av_frame_alloc());
  if (frame == nullptr) {
    throw Error(ErrorCode::Internal, "av_frame_alloc: out of memory");
  }
  return frame;
}

}  // namespace vsnap
