/**
 * The thumbnail track a sprite run writes (thumbnails.vtt), read with
 * webvtt-parser (the W3C's parser) and checked against the outputs: one
 * cue per output, in order, from its target time to the next output's (the
 * last one to where the run's times end), its text the output's cell,
 * `sprite_J.EXT#xywh=x,y,w,h`.
 */

import webvtt from 'webvtt-parser';
import { expect } from 'vitest';

export interface TrackCell {
  /** Seconds of the target time the output answers. */
  targetTime: number;
  /** `sprite_J.EXT#xywh=x,y,w,h`, relative to the track. */
  reference: string;
}

/** The cues of a WebVTT file, which must parse without errors, in the file's order. */
export function parseTrack(text: string): { id: string; start: number; end: number; text: string }[] {
  const parsed = new webvtt.WebVTTParser().parse(text, 'metadata');
  expect(parsed.errors.map((e) => `line ${e.line}: ${e.message}`), 'WebVTT parse errors').toEqual([]);
  return parsed.cues
    .map((cue) => ({ id: cue.id, start: cue.startTime, end: cue.endTime, text: cue.text }))
    .sort((a, b) => Number(a.id) - Number(b.id));
}

/** Checks `text`, a thumbnail track, against the outputs it must point at; `end` is where the run's times end. */
export function expectTrack(text: string, cells: readonly TrackCell[], end: number): void {
  const cues = parseTrack(text);
  const ms = (seconds: number) => Math.round(seconds * 1000) / 1000;
  expect(cues).toEqual(
    cells.map((cell, i) => ({
      id: String(i + 1),
      start: ms(cell.targetTime),
      end: ms(i + 1 < cells.length ? cells[i + 1].targetTime : end),
      text: cell.reference,
    })),
  );
}

/** The cell reference of a cell: `name#xywh=x,y,w,h`. */
export function cellReference(name: string, cell: { x: number; y: number; width: number; height: number }): string {
  return `${name}#xywh=${cell.x},${cell.y},${cell.width},${cell.height}`;
}
