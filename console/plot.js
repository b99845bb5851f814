// Each treatment's relative lift against the control, with its fixed-horizon 95% CI (thick bar)
// and its always-valid confidence sequence (thin dashed bar), against a zero line. The two
// intervals differ by thickness and dash and every number is printed, so colour is never needed.

const SVG = 'http://www.w3.org/2000/svg';

function s(tag, attributes = {}, text) {
  const element = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attributes)) element.setAttribute(name, value);
  if (text !== undefined) element.textContent = text;
  return element;
}

const pct = (value) => `${value >= 0 ? '+' : ''}${(value * 100).toFixed(1)}%`;

/// `metric` is the engine's full result for one metric (comparisons[].lift, .sequential);
/// `names` the variants' names by index. Returns a <figure>, or null when nothing is comparable.
export function liftPlot(metric, names) {
  const rows = (metric.comparisons || []).filter((c) => c.lift && Array.isArray(c.lift.ci));
  if (!rows.length) return null;
  const values = rows.flatMap((c) => [...c.lift.ci, ...((c.sequential && c.sequential.ci) || []), 0]);
  let low = Math.min(...values);
  let high = Math.max(...values);
  const pad = (high - low) * 0.08 || 0.01;
  low -= pad;
  high += pad;
  const width = 560;
  const left = 110;
  const right = 20;
  const rowHeight = 46;
  const top = 26;
  const height = top + rows.length * rowHeight + 30;
  const x = (value) => left + ((value - low) / (high - low)) * (width - left - right);

  const svg = s('svg', { viewBox: `0 0 ${width} ${height}`, class: 'lift-plot', role: 'img',
    'aria-labelledby': 'lift-plot-title lift-plot-desc' });
  const description = rows.map((c) => `${names[c.variant] || `variant ${c.variant}`}: lift ` +
    `${pct(c.lift.estimate)}, 95% CI ${pct(c.lift.ci[0])} to ${pct(c.lift.ci[1])}` +
    (c.sequential && c.sequential.ci
      ? `, always-valid ${pct(c.sequential.ci[0])} to ${pct(c.sequential.ci[1])}` : '')).join('; ');
  svg.append(s('title', { id: 'lift-plot-title' }, 'Relative lift against the control'),
    s('desc', { id: 'lift-plot-desc' }, description));
  svg.append(s('line', { x1: x(0), x2: x(0), y1: top - 8, y2: height - 26, class: 'zero' }),
    s('text', { x: x(0), y: top - 12, 'text-anchor': 'middle', class: 'axis' }, '0 (no change)'));
  for (const tick of [low + pad, high - pad])
    svg.append(s('text', { x: x(tick), y: height - 8, 'text-anchor': 'middle', class: 'axis' }, pct(tick)));
  rows.forEach((c, index) => {
    const y = top + index * rowHeight + 16;
    svg.append(s('text', { x: 8, y: y + 4, class: 'label' }, names[c.variant] || `variant ${c.variant}`));
    if (c.sequential && Array.isArray(c.sequential.ci))
      svg.append(s('line', { x1: x(c.sequential.ci[0]), x2: x(c.sequential.ci[1]), y1: y + 12,
        y2: y + 12, class: 'always-valid' }));
    svg.append(s('line', { x1: x(c.lift.ci[0]), x2: x(c.lift.ci[1]), y1: y, y2: y, class: 'fixed' }),
      s('circle', { cx: x(c.lift.estimate), cy: y, r: 5, class: 'estimate' }),
      s('text', { x: x(c.lift.estimate), y: y - 9, 'text-anchor': 'middle', class: 'value' },
        pct(c.lift.estimate)));
  });
  const figure = document.createElement('figure');
  figure.className = 'plot';
  const caption = document.createElement('figcaption');
  caption.textContent = 'Lift vs control: thick bar = 95% CI (fixed horizon), ' +
    'dashed bar = always-valid interval (mSPRT), dot = estimate.';
  figure.append(svg, caption);
  return figure;
}

// Told apart by dash and marker shape (and each line's name at its end), never by colour alone.
const DASHES = ['', '8 4', '2 3', '12 3 2 3'];
const MARKERS = ['circle', 'square', 'triangle', 'diamond'];
function marker(shape, x, y) {
  const r = 4.5;
  if (shape === 'circle') return s('circle', { cx: x, cy: y, r, class: 'marker' });
  if (shape === 'square')
    return s('rect', { x: x - r, y: y - r, width: 2 * r, height: 2 * r, class: 'marker' });
  const points = shape === 'triangle'
    ? [[x, y - r - 1], [x + r + 1, y + r], [x - r - 1, y + r]]
    : [[x, y - r - 1], [x + r + 1, y], [x, y + r + 1], [x - r - 1, y]];
  return s('polygon', { points: points.map((p) => p.join(',')).join(' '), class: 'marker' });
}

/// A bandit's traffic weights after each recomputation (`Experiment.Reweighted` events, oldest
/// first: [{at, weights}]), one line per variant in `names` order. Null before the first one.
export function weightsPlot(points, names) {
  if (!points.length) return null;
  const width = 560;
  const left = 44;
  const right = 130;
  const top = 14;
  const height = 220;
  const bottom = height - 34;
  const x = (index) => left + (points.length === 1 ? 0.5 : index / (points.length - 1)) *
    (width - left - right);
  const y = (weight) => bottom - weight * (bottom - top);
  const label = (index) => names[index] || `variant ${index}`;
  const svg = s('svg', { viewBox: `0 0 ${width} ${height}`, class: 'weights-plot', role: 'img',
    'aria-labelledby': 'weights-plot-title weights-plot-desc' });
  const description = points.map((point, step) => `${step === 0 ? 'first' : `recomputation ${step + 1}`}` +
    ` (${point.at}): ` + point.weights.map((w, i) => `${label(i)} ${(w * 100).toFixed(1)}%`).join(', '))
    .join('; ');
  svg.append(s('title', { id: 'weights-plot-title' }, 'Bandit traffic weights over time'),
    s('desc', { id: 'weights-plot-desc' }, description));
  for (const tick of [0, 0.5, 1])
    svg.append(s('line', { x1: left, x2: width - right, y1: y(tick), y2: y(tick), class: 'grid' }),
      s('text', { x: left - 6, y: y(tick) + 4, 'text-anchor': 'end', class: 'axis' },
        `${tick * 100}%`));
  svg.append(s('text', { x: left, y: height - 8, class: 'axis' }, 'first'),
    s('text', { x: width - right, y: height - 8, 'text-anchor': 'end', class: 'axis' },
      `recomputation ${points.length}`));
  names.forEach((_, variant) => {
    const series = points.map((point, step) => [x(step), y(point.weights[variant] ?? 0)]);
    const shape = MARKERS[variant % MARKERS.length];
    svg.append(s('polyline', { points: series.map((p) => p.join(',')).join(' '),
      class: 'series', 'stroke-dasharray': DASHES[variant % DASHES.length] || 'none',
      'data-variant': variant }));
    series.forEach(([px, py]) => svg.append(marker(shape, px, py)));
    const [lastX, lastY] = series.at(-1);
    svg.append(s('text', { x: lastX + 10, y: lastY + 4 + variant * 2, class: 'label' },
      `${label(variant)} ${((points.at(-1).weights[variant] ?? 0) * 100).toFixed(1)}%`));
  });
  const figure = document.createElement('figure');
  figure.className = 'plot';
  const caption = document.createElement('figcaption');
  caption.textContent = 'Traffic weight after each recomputation: ' + names.map((name, i) =>
    `${name} = ${['solid', 'dashed', 'dotted', 'dash-dot'][i % DASHES.length]} line, ` +
    `${MARKERS[i % MARKERS.length]}s`).join('; ') + '.';
  figure.append(svg, caption);
  return figure;
}
