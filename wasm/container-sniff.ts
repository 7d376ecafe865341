/**
 * Which of the containers vsnap reads a file's first bytes look like, by
 * their signatures. When FFmpeg cannot open an input, this tells damaged data
 * of a container vsnap reads (VSNAP_CORRUPT_INPUT) from data that is no such
 * container at all (VSNAP_UNSUPPORTED_INPUT), as the native engine does with
 * FFmpeg's own format probe.
 */

/** The demuxers vsnap opens (native/core/Input.cpp, kFormatWhitelist). */
export const formatWhitelist = 'mov,matroska,avi,flv,mpegts,mpeg,asf,ogg,mp3,wav,flac,aac';

const ascii = (bytes: Uint8Array, at: number, text: string): boolean =>
  bytes.length >= at + text.length && [...text].every((c, i) => bytes[at + i] === c.charCodeAt(0));

const signatures: readonly { format: string; matches(bytes: Uint8Array): boolean }[] = [
  // An ISO BMFF box type at offset 4: ftyp first, or a file that starts with its index or data.
  { format: 'mov', matches: (b) => ['ftyp', 'moov', 'mdat', 'free', 'wide', 'skip'].some((box) => ascii(b, 4, box)) },
  { format: 'matroska', matches: (b) => b[0] === 0x1a && b[1] === 0x45 && b[2] === 0xdf && b[3] === 0xa3 },
  { format: 'avi', matches: (b) => ascii(b, 0, 'RIFF') && ascii(b, 8, 'AVI ') },
  { format: 'wav', matches: (b) => ascii(b, 0, 'RIFF') && ascii(b, 8, 'WAVE') },
  { format: 'flv', matches: (b) => ascii(b, 0, 'FLV') },
  { format: 'mpegts', matches: (b) => b[0] === 0x47 && b.length > 188 && b[188] === 0x47 },
  { format: 'mpeg', matches: (b) => b[0] === 0 && b[1] === 0 && b[2] === 1 && b[3] === 0xba },
  { format: 'asf', matches: (b) => b[0] === 0x30 && b[1] === 0x26 && b[2] === 0xb2 && b[3] === 0x75 },
  { format: 'ogg', matches: (b) => ascii(b, 0, 'OggS') },
  { format: 'flac', matches: (b) => ascii(b, 0, 'fLaC') },
  { format: 'mp3', matches: (b) => ascii(b, 0, 'ID3') },
];

/** The container the bytes begin as, or undefined when none of those vsnap reads. */
export function sniffContainer(bytes: Uint8Array): string | undefined {
  return signatures.find((signature) => signature.matches(bytes))?.format;
}
