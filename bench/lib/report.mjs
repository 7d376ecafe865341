// Turns timed runs into the summary, the ratios, the target checks and the
// Markdown table of each video in the report (docs.mjs).

/** Median, min and max of the runs' wall times, median CPU time, and the decode figures. */
export function summarize(timedCase) {
  const walls = timedCase.runs.map((r) => r.wallMs);
  const medianMs = median(walls);
  const outputs = timedCase.runs[0].outputs.length;
  const framesDecoded = timedCase.runs.map((r) => r.framesDecoded);
  const decodedKnown = framesDecoded.every(Number.isFinite);
  return {
    contender: timedCase.contender.name,
    interval: timedCase.interval,
    outputs,
    wallMs: { median: medianMs, min: Math.min(...walls), max: Math.max(...walls), runs: walls },
    cpuMs: { median: median(timedCase.runs.map((r) => r.cpuMs)), runs: timedCase.runs.map((r) => r.cpuMs) },
    outputsPerSecond: outputs / (medianMs / 1000),
    framesDecoded: decodedKnown ? Math.max(...framesDecoded) : null,
    framesDecodedSource: timedCase.runs[0].framesDecodedSource,
    framesDecodedPerOutput: decodedKnown ? Math.max(...framesDecoded) / outputs : null,
    peakRssKiB: Math.max(...timedCase.runs.map((r) => r.peakRssKiB)),
    stats: timedCase.runs[timedCase.runs.length - 1].stats ?? null,
  };
}

/** How many times faster `subject` is than `baseline` (baseline time ÷ subject time). */
export function speedup(baseline, subject) {
  return baseline.wallMs.median / subject.wallMs.median;
}

export function findSummary(summaries, contender, interval) {
  const found = summaries.find((s) => s.contender === contender && s.interval === interval);
  if (!found) throw new Error(`no timed case "${contender}" at interval ${interval}`);
  return found;
}

/** Each target: { name, required, measured, pass }. A miss is reported, not fatal. */
export function checkTargets(summaries, names) {
  const at = (contender, interval) => findSummary(summaries, contender, interval);
  const target = (name, required, baseline, subject) => {
    const measured = speedup(baseline, subject);
    return { name, required, measured, pass: measured >= required };
  };
  return [
    target('keyframe at 10 s vs fps filter', 15, at(names.fps, 10), at(names.keyframe, 10)),
    target('exact at 10 s vs fps filter', 8, at(names.fps, 10), at(names.exact, 10)),
    target('exact at 10 s vs PyAV', 1.5, at(names.pyav, 10), at(names.exact, 10)),
    target('exact at 1 s vs fps filter', 1.2, at(names.fps, 1), at(names.exact, 1)),
    // At most 4x slower: native time / wasm time >= 1/4.
    target('wasm keyframe at 10 s vs native keyframe (≥ 0.25 = within 4×)', 0.25, at(names.keyframe, 10), at(names.wasmKeyframe, 10)),
  ];
}

export function markdownTable(summaries, fpsName, runs) {
  const rows = summaries.map((s) => {
    const fps = s.interval === null ? null : findSummary(summaries, fpsName, s.interval);
    const decoded = s.framesDecodedPerOutput === null
      ? '—'
      : `${formatNumber(s.framesDecodedPerOutput)}${s.framesDecodedSource === 'oracle' ? '¹' : ''}`;
    return [
      s.contender,
      s.interval === null ? 'all keyframes' : `${s.interval} s`,
      String(s.outputs),
      `${seconds(s.wallMs.median)} (${seconds(s.wallMs.min)}–${seconds(s.wallMs.max)})`,
      seconds(s.cpuMs.median),
      formatNumber(s.outputsPerSecond),
      decoded,
      `${Math.round(s.peakRssKiB / 1024)} MiB`,
      fps ? `${speedup(fps, s).toFixed(2)}×` : '—',
    ];
  });
  const header = ['Contender', 'Interval', 'Images', `Wall, median of ${runs} (min–max)`, 'CPU, median', 'Images/s',
    'Frames decoded per image', 'Peak RSS', 'fps filter time ÷ this'];
  return [header, header.map(() => '---'), ...rows].map((cells) => `| ${cells.join(' | ')} |`).join('\n');
}

export function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

export function seconds(ms) {
  return `${(ms / 1000).toFixed(2)} s`;
}

export function formatNumber(value) {
  return value >= 100 ? value.toFixed(0) : value >= 10 ? value.toFixed(1) : value.toFixed(2);
}
