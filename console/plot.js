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
