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
  // A comparison with an `error` (an empty arm, no variance) has placeholder zeros, not an
  // estimate: drawing them would read as a certain "no change".
  const rows = (metric.comparisons || []).filter((c) => c.lift && Array.isArray(c.lift.ci) && !c.error);
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

/// A p-value as the console prints it: four decimals, or three significant digits when tiny.
export const formatP = (p) => (p >= 0.001 ? p.toFixed(4) : p.toExponential(2));

const interval = (c) => (c.error ? 'not enough data'
  : `${pct(c.alwaysValidCI[0])} to ${pct(c.alwaysValidCI[1])}`);

/// The always-valid evidence at every look so far (the `Experiment.Analyzed` events, oldest
/// first: [{at, units, alpha, comparisons: [{variant, relativeLift, alwaysValidCI,
/// alwaysValidPValueRunningMin, alwaysValidPValueCurrentLook}]}]): above, each treatment's
/// running-minimum p-value on a log scale against the alpha line; below, its always-valid
/// interval of the lift against zero. `names` maps a variant key to its name, `order` lists the
/// treatments' keys so each keeps its dash and marker. Null before the first look.
export function looksPlot(looks, names, order) {
  if (!looks.length) return null;
  const label = (key) => names[key] || key;
  const alpha = looks.at(-1).alpha ?? 0.05;
  const width = 480;
  const left = 72;
  const right = 126;
  const pTop = 22;
  const pBottom = 170;
  const ciTop = 222;
  const ciBottom = 360;
  const height = 392;
  const x = (index) => left + (looks.length === 1 ? 0.5 : index / (looks.length - 1)) *
    (width - left - right);
  // p: log scale from 1 down to the decade below the smallest p (and below alpha).
  const smallest = Math.min(alpha / 10, ...looks.flatMap((look) =>
    look.comparisons.map((c) => c.alwaysValidPValueRunningMin)).filter((p) => p > 0));
  const decades = Math.min(12, Math.max(2, Math.ceil(-Math.log10(Math.max(smallest, 1e-12)))));
  const py = (p) => pTop + (Math.min(decades, -Math.log10(Math.max(p, 10 ** -decades))) / decades) *
    (pBottom - pTop);
  // interval: linear, padded, always showing zero.
  const bounds = looks.flatMap((look) => look.comparisons.filter((c) => !c.error)
    .flatMap((c) => c.alwaysValidCI));
  let low = Math.min(0, ...bounds);
  let high = Math.max(0, ...bounds);
  const pad = (high - low) * 0.08 || 0.01;
  low -= pad;
  high += pad;
  const cy = (value) => ciBottom - ((value - low) / (high - low)) * (ciBottom - ciTop);

  const svg = s('svg', { viewBox: `0 0 ${width} ${height}`, class: 'looks-plot', role: 'img',
    'aria-labelledby': 'looks-plot-title looks-plot-desc' });
  const description = looks.map((look, index) => `look ${index + 1} (${look.at}, ${look.units} units): ` +
    look.comparisons.map((c) => `${label(c.variant)} always-valid p ${formatP(c.alwaysValidPValueRunningMin)}, ` +
      `interval ${interval(c)}`).join(', ')).join('; ');
  svg.append(s('title', { id: 'looks-plot-title' },
    `Always-valid p-value and interval at each look, against alpha ${alpha} and zero`),
  s('desc', { id: 'looks-plot-desc' }, description));

  // The p-value panel.
  svg.append(s('text', { x: 4, y: 12, class: 'heading' }, 'Always-valid p-value (running minimum)'));
  const step = Math.ceil(decades / 4);
  for (let decade = 0; decade <= decades; decade += step)
    svg.append(s('line', { x1: left, x2: width - right, y1: py(10 ** -decade), y2: py(10 ** -decade),
      class: 'grid' }),
    s('text', { x: left - 6, y: py(10 ** -decade) + 4, 'text-anchor': 'end', class: 'axis' },
      decade === 0 ? '1' : decade < 4 ? String(10 ** -decade) : `1e-${decade}`));
  svg.append(s('line', { x1: left, x2: width - right, y1: py(alpha), y2: py(alpha), class: 'alpha' }),
    s('text', { x: width - right + 6, y: py(alpha) + 4, class: 'label' }, `α = ${alpha}`));

  // The interval panel.
  svg.append(s('text', { x: 4, y: ciTop - 14, class: 'heading' }, 'Always-valid interval of the lift'));
  svg.append(s('line', { x1: left, x2: width - right, y1: cy(0), y2: cy(0), class: 'zero' }),
    s('text', { x: width - right + 6, y: cy(0) + 4, class: 'label' }, '0 (no change)'));
  for (const tick of [low + pad, high - pad])
    svg.append(s('text', { x: left - 6, y: cy(tick) + 4, 'text-anchor': 'end', class: 'axis' }, pct(tick)));

  const treatments = order.length ? order : looks.at(-1).comparisons.map((c) => c.variant);
  const spread = Math.min(10, (width - left - right) / Math.max(1, looks.length) / 3);
  treatments.forEach((key, t) => {
    const at = (index) => looks[index].comparisons.find((c) => c.variant === key);
    const seen = looks.map((_, index) => index).filter((index) => at(index));
    if (!seen.length) return;
    const shape = MARKERS[t % MARKERS.length];
    const series = seen.map((index) => [x(index), py(at(index).alwaysValidPValueRunningMin)]);
    svg.append(s('polyline', { points: series.map((p) => p.join(',')).join(' '), class: 'series',
      'stroke-dasharray': DASHES[t % DASHES.length] || 'none', 'data-variant': key }));
    seen.forEach((index, n) => {
      const point = marker(shape, ...series[n]);
      point.classList.add('p-marker');
      point.setAttribute('data-variant', key);
      point.setAttribute('data-look', index + 1);
      svg.append(point);
    });
    const lastP = at(seen.at(-1)).alwaysValidPValueRunningMin;
    svg.append(s('text', { x: width - right + 6, y: series.at(-1)[1] + 4 + t * 13, class: 'label' },
      `${label(key)} ${formatP(lastP)}`));
    const offset = (t - (treatments.length - 1) / 2) * spread;
    seen.filter((index) => !at(index).error).forEach((index) => {
      const c = at(index);
      const bx = x(index) + offset;
      svg.append(s('line', { x1: bx, x2: bx, y1: cy(c.alwaysValidCI[0]), y2: cy(c.alwaysValidCI[1]),
        class: 'interval', 'stroke-dasharray': DASHES[t % DASHES.length] || 'none',
        'data-variant': key, 'data-look': index + 1 }));
      const point = marker(shape, bx, cy(c.relativeLift));
      point.classList.add('lift-marker');
      svg.append(point);
    });
  });
  const labels = looks.length <= 10 ? looks.map((_, index) => index)
    : [0, Math.floor((looks.length - 1) / 2), looks.length - 1];
  for (const index of labels)
    svg.append(s('text', { x: x(index), y: height - 14, 'text-anchor': 'middle', class: 'axis' },
      String(index + 1)));
  svg.append(s('text', { x: (left + width - right) / 2, y: height - 1, 'text-anchor': 'middle',
    class: 'axis' }, 'look'));

  const figure = document.createElement('figure');
  figure.className = 'plot';
  const caption = document.createElement('figcaption');
  caption.textContent = `One point per look. Above: the always-valid p-value; the evidence is ` +
    `significant once it is below the dashed α = ${alpha} line. Below: the always-valid interval ` +
    'of the relative lift (vertical bar, marker = estimate); it excludes the dotted zero line ' +
    'when the lift is significant. ' + treatments.map((key, t) =>
    `${label(key)} = ${['solid', 'dashed', 'dotted', 'dash-dot'][t % DASHES.length]} line, ` +
    `${MARKERS[t % MARKERS.length]}s`).join('; ') + '.';
  figure.append(svg, caption, looksTable(looks, label, treatments));
  return figure;
}

// The same numbers as a table, for screen readers and for anyone who wants them exactly.
function looksTable(looks, label, treatments) {
  const cell = (tag, text, attributes = {}) => {
    const element = document.createElement(tag);
    for (const [name, value] of Object.entries(attributes)) element.setAttribute(name, value);
    element.textContent = text;
    return element;
  };
  const details = document.createElement('details');
  details.className = 'looks-table';
  details.append(cell('summary', 'The looks as a table'));
  const table = document.createElement('table');
  const head = document.createElement('tr');
  head.append(cell('th', 'Look', { scope: 'col' }), cell('th', 'When', { scope: 'col' }),
    cell('th', 'Units', { scope: 'col' }), cell('th', 'Variant', { scope: 'col' }),
    cell('th', 'Always-valid p', { scope: 'col' }), cell('th', 'This look’s p', { scope: 'col' }),
    cell('th', 'Always-valid interval', { scope: 'col' }));
  const thead = document.createElement('thead');
  thead.append(head);
  const body = document.createElement('tbody');
  looks.forEach((look, index) => {
    for (const key of treatments) {
      const c = look.comparisons.find((comparison) => comparison.variant === key);
      if (!c) continue;
      const row = document.createElement('tr');
      row.dataset.look = index + 1;
      row.dataset.variant = key;
      row.append(cell('th', String(index + 1), { scope: 'row' }), cell('td', look.at, { class: 'when' }),
        cell('td', String(look.units), { class: 'num' }), cell('td', label(key)),
        cell('td', formatP(c.alwaysValidPValueRunningMin), { class: 'num p' }),
        cell('td', formatP(c.alwaysValidPValueCurrentLook), { class: 'num p-current' }),
        cell('td', interval(c), { class: 'num ci' }));
      body.append(row);
    }
  });
  const caption = cell('caption', 'Always-valid p-value and interval of the lift at each look',
    { class: 'visually-hidden' });
  table.append(caption, thead, body);
  const scroll = document.createElement('div');
  scroll.className = 'scroll';
  scroll.append(table);
  details.append(scroll);
  return details;
}
