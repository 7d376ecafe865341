// The report's picture, drawn as SVG text (no plotting library), in panels
// stacked top to bottom:
//   one per matrix input   images per second of each contender at each
//                          interval, horizontal bars on a log scale
//   cost of length         wall time against video length for a fixed number
//                          of images, one line per contender, log-log
//   service latency        task-status and async-create latency percentiles
// Every number drawn is also in the Markdown report beside it.

const WIDTH = 900;
const LEFT = 230; // room for contender names
const RIGHT = 70;
const BAR = 11;
const COLORS = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd'];
const FONT = 'font-family="DejaVu Sans, Arial, sans-serif"';

/** `results`: run.mjs's results ({ engine: { inputs, lengths }, http? }); returns the SVG text. */
export function drawChart(results) {
  const panels = [
    ...results.engine.inputs.map((input) => speedPanel(input)),
    ...(results.engine.lengths.series.length >= 2 ? [lengthPanel(results.engine.lengths)] : []),
    ...(results.http ? [latencyPanel(results.http)] : []),
  ];
  let y = 0;
  const parts = [];
  for (const panel of panels) {
    parts.push(`<g transform="translate(0,${y})">${panel.body}</g>`);
    y += panel.height + 20;
  }
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${y}" viewBox="0 0 ${WIDTH} ${y}" ${FONT} font-size="12">`,
    `<rect width="${WIDTH}" height="${y}" fill="white"/>`,
    ...parts,
    '</svg>',
    '',
  ].join('\n');
}

function speedPanel(input) {
  const intervals = [...new Set(input.cases.map((s) => s.interval))].filter((i) => i !== null).sort((a, b) => a - b);
  const contenders = [...new Set(input.cases.map((s) => s.contender))];
  const values = input.cases.map((s) => s.outputsPerSecond);
  const scale = logScale(Math.min(...values), Math.max(...values), LEFT, WIDTH - RIGHT);
  const top = 44;
  const rowHeight = Math.max(1, intervals.length) * (BAR + 2) + 8;
  const height = top + contenders.length * rowHeight + 40;
  const body = [title(`Images per second (log scale): ${input.video.label}`, `${medianOf(input.runs)}; longer is faster`)];
  body.push(legend(intervals.map((i, n) => ({ label: `interval ${i} s`, color: COLORS[n] })), 12));
  contenders.forEach((contender, row) => {
    const y0 = top + row * rowHeight;
    body.push(text(LEFT - 8, y0 + rowHeight / 2, contender, 'end'));
    const cases = input.cases.filter((s) => s.contender === contender);
    cases.forEach((s) => {
      const slot = s.interval === null ? 0 : intervals.indexOf(s.interval);
      const y = y0 + slot * (BAR + 2);
      const x1 = scale(s.outputsPerSecond);
      const color = s.interval === null ? '#7f7f7f' : COLORS[slot];
      body.push(`<rect x="${LEFT}" y="${y}" width="${Math.max(1, x1 - LEFT).toFixed(1)}" height="${BAR}" fill="${color}"/>`);
      const label = `${formatValue(s.outputsPerSecond)}${s.interval === null ? ' (all keyframes)' : ''}`;
      body.push(text(x1 + 4, y + BAR - 2, label, 'start', 10));
    });
  });
  body.push(axis(scale, top + contenders.length * rowHeight, 'images per second'));
  return { height, body: body.join('\n') };
}

function lengthPanel(lengths) {
  const series = lengths.series;
  const contenders = [...new Set(series.flatMap((input) => input.cases.map((s) => s.contender)))];
  const xs = series.map((input) => input.video.seconds);
  const times = series.flatMap((input) => input.cases.map((s) => s.wallMs.median / 1000));
  const x = logScale(Math.min(...xs), Math.max(...xs), LEFT, WIDTH - RIGHT - 140);
  const plotTop = 44;
  const plotHeight = 200;
  const y = logScale(Math.min(...times), Math.max(...times), plotTop + plotHeight, plotTop);
  const body = [title(`Cost of video length: ${lengths.images} images from each video (log-log)`,
    `${series[0].video.label.replace(/, [^,]*$/, '')}; wall time, ${medianOf(lengths.runs)}`)];
  for (const tick of y.ticks) {
    const ty = y(tick);
    body.push(`<line x1="${LEFT}" y1="${ty.toFixed(1)}" x2="${WIDTH - RIGHT - 140}" y2="${ty.toFixed(1)}" stroke="#ddd"/>`);
    body.push(text(LEFT - 6, ty + 4, `${formatValue(tick)} s`, 'end', 10));
  }
  contenders.forEach((contender, n) => {
    const points = series.map((input) => {
      const s = input.cases.find((c) => c.contender === contender);
      return s ? [x(input.video.seconds), y(s.wallMs.median / 1000), s.wallMs.median / 1000] : undefined;
    }).filter(Boolean);
    const color = COLORS[n % COLORS.length];
    body.push(`<polyline fill="none" stroke="${color}" stroke-width="2" points="${points.map(([px, py]) => `${px.toFixed(1)},${py.toFixed(1)}`).join(' ')}"/>`);
    for (const [px, py] of points) body.push(`<circle cx="${px.toFixed(1)}" cy="${py.toFixed(1)}" r="3" fill="${color}"/>`);
    const [lx, ly, last] = points[points.length - 1];
    body.push(text(lx + 8, ly + 4, `${contender}: ${formatValue(last)} s`, 'start', 11, color));
  });
  for (const seconds of xs) {
    body.push(text(x(seconds), plotTop + plotHeight + 16, `${seconds} s`, 'middle', 10));
  }
  body.push(text((LEFT + WIDTH - RIGHT - 140) / 2, plotTop + plotHeight + 32, 'video length', 'middle', 11));
  return { height: plotTop + plotHeight + 40, body: body.join('\n') };
}

function latencyPanel(http) {
  const loads = [
    { name: 'task-status', data: http.taskStatus },
    { name: 'async create', data: http.asyncCreate },
  ].filter((l) => l.data?.percentilesMs);
  const keys = ['p50', 'p90', 'p97_5', 'p99', 'p99_9'];
  const values = loads.flatMap((l) => keys.map((k) => l.data.percentilesMs[k]).filter((v) => v > 0));
  if (values.length === 0) return { height: 0, body: '' };
  const scale = logScale(Math.min(...values), Math.max(...values), LEFT, WIDTH - RIGHT);
  const top = 44;
  const rowHeight = keys.length * (BAR + 2) + 10;
  const body = [title('Service latency percentiles (log scale)', `autocannon against vsnap serve; ${loads.map((l) => `${l.name} ${Math.round(l.data.rps)} requests/s`).join(', ')}`)];
  body.push(legend(keys.map((k, n) => ({ label: k.replace('_', '.'), color: COLORS[n] })), 12));
  loads.forEach((load, row) => {
    const y0 = top + row * rowHeight;
    body.push(text(LEFT - 8, y0 + rowHeight / 2, load.name, 'end'));
    keys.forEach((key, slot) => {
      const value = load.data.percentilesMs[key];
      const yy = y0 + slot * (BAR + 2);
      const x1 = scale(Math.max(value, scale.min));
      body.push(`<rect x="${LEFT}" y="${yy}" width="${Math.max(1, x1 - LEFT).toFixed(1)}" height="${BAR}" fill="${COLORS[slot]}"/>`);
      body.push(text(x1 + 4, yy + BAR - 2, `${value} ms`, 'start', 10));
    });
  });
  body.push(axis(scale, top + loads.length * rowHeight, 'milliseconds'));
  return { height: top + loads.length * rowHeight + 40, body: body.join('\n') };
}

/** A log scale from [min, max] (widened to whole decades) onto [from, to]; `.ticks` are the decades. */
function logScale(min, max, from, to) {
  const low = Math.floor(Math.log10(Math.max(min, 1e-6)));
  const high = Math.max(low + 1, Math.ceil(Math.log10(Math.max(max, 1e-6))));
  const scale = (value) => from + ((Math.log10(value) - low) / (high - low)) * (to - from);
  scale.min = 10 ** low;
  scale.ticks = Array.from({ length: high - low + 1 }, (_, i) => 10 ** (low + i));
  return scale;
}

function axis(scale, y, label) {
  const parts = [`<line x1="${LEFT}" y1="${y}" x2="${WIDTH - RIGHT}" y2="${y}" stroke="#444"/>`];
  for (const tick of scale.ticks) {
    const x = scale(tick);
    parts.push(`<line x1="${x.toFixed(1)}" y1="${y}" x2="${x.toFixed(1)}" y2="${y + 4}" stroke="#444"/>`);
    parts.push(text(x, y + 15, formatValue(tick), 'middle', 10));
  }
  parts.push(text((LEFT + WIDTH - RIGHT) / 2, y + 28, label, 'middle', 10, '#444'));
  return parts.join('\n');
}

function title(main, sub) {
  return `${text(10, 18, main, 'start', 14, '#000', 'bold')}\n${text(10, 34, sub, 'start', 11, '#555')}`;
}

/** Items side by side, ending at the right margin; about 6 px a character at size 10. */
function legend(items, y) {
  const widths = items.map((item) => 14 + item.label.length * 6 + 12);
  let x = WIDTH - RIGHT - widths.reduce((a, b) => a + b, 0);
  return items.map((item, i) => {
    const part = `<rect x="${x}" y="${y - 9}" width="10" height="10" fill="${item.color}"/>${text(x + 14, y, item.label, 'start', 10)}`;
    x += widths[i];
    return part;
  }).join('\n');
}

function medianOf(runs) {
  return runs === 1 ? 'one run' : `median of ${runs} runs`;
}

function text(x, y, content, anchor = 'start', size = 12, fill = '#222', weight = 'normal') {
  return `<text x="${Number(x).toFixed(1)}" y="${Number(y).toFixed(1)}" text-anchor="${anchor}" font-size="${size}" fill="${fill}" font-weight="${weight}">${escape(content)}</text>`;
}

function escape(value) {
  return String(value).replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');
}

function formatValue(value) {
  if (value >= 100) return value.toFixed(0);
  if (value >= 10) return value.toFixed(1);
  if (value >= 1) return value.toFixed(2);
  return value.toPrecision(2);
}
