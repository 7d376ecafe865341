/** The parts of webvtt-parser (w3c/webvtt.js, which ships no types) the tests use; a CommonJS module, imported as its default. */
declare module 'webvtt-parser' {
  interface WebVTTCue {
    id: string;
    /** Seconds. */
    startTime: number;
    endTime: number;
    text: string;
  }

  interface WebVTTParseError {
    message: string;
    line: number;
    col?: number;
  }

  interface WebVTTParseResult {
    /** In order of start time. */
    cues: WebVTTCue[];
    errors: WebVTTParseError[];
  }

  class WebVTTParser {
    parse(input: string, mode?: 'metadata' | 'chapters'): WebVTTParseResult;
  }

  const webvtt: { WebVTTParser: typeof WebVTTParser };
  export default webvtt;
  export type { WebVTTCue, WebVTTParseError, WebVTTParseResult };
}
