// The 90-day chart: one bar per UTC day (the day's peak of what the plan counts) and a line at
// the seat limit, drawn as inline SVG so that no script or font comes from anywhere else.

const SVG = 'http://www.w3.org/2000/svg';

function el(name, attributes = {}, text) {
  const node = document.createElementNS(SVG, name);
  for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, String(value));
  if (text !== undefined) node.textContent = text;
  return node;
}

/** Every UTC day from `from` to `to` (yyyy-mm-dd), inclusive. */
export function daysBetween(from, to) {
  const days = [];
  for (let d = new Date(`${from}T00:00:00Z`); d <= new Date(`${to}T00:00:00Z`); d.setUTCDate(d.getUTCDate() + 1)) {
    days.push(d.toISOString().slice(0, 10));
  }
  return days;
}

/**
 * @param {{date:string, peak:number}[]} series every day of the span, oldest first (0 when nothing was recorded)
 * @param {number} limit the seat limit
 * @param {string} label what a bar counts
 */
export function peakChart(series, limit, label) {
  const width = 720, height = 220, left = 40, right = 8, top = 12, bottom = 28;
  const max = Math.max(limit, ...series.map((d) => d.peak), 1);
  const plotW = width - left - right, plotH = height - top - bottom;
  const step = plotW / Math.max(series.length, 1);
  const y = (v) => top + plotH - (v / max) * plotH;
  const above = series.filter((d) => d.peak > limit).length;
  const highest = series.reduce((m, d) => Math.max(m, d.peak), 0);

  const svg = el('svg', { viewBox: `0 0 ${width} ${height}`, role: 'img', 'aria-labelledby': 'chart-svg-title chart-svg-desc', class: 'chart-svg' });
  svg.append(el('title', { id: 'chart-svg-title' }, `${label}: daily peaks against the seat limit`));
  svg.append(el('desc', { id: 'chart-svg-desc' },
    `Highest daily peak ${highest}, seat limit ${limit}, ${above} day(s) above the limit, over ${series.length} days.`));

  for (const v of [0, Math.round(max / 2), max]) {
    svg.append(el('line', { x1: left, x2: width - right, y1: y(v), y2: y(v), class: 'grid' }));
    svg.append(el('text', { x: left - 6, y: y(v) + 4, 'text-anchor': 'end', class: 'axis' }, String(v)));
  }
  series.forEach((d, i) => {
    const h = Math.max((d.peak / max) * plotH, d.peak > 0 ? 1 : 0);
    const bar = el('rect', {
      x: left + i * step + 1, y: top + plotH - h, width: Math.max(step - 2, 1), height: h,
      class: d.peak > limit ? 'bar over' : 'bar',
    });
    bar.append(el('title', {}, `${d.date}: ${d.peak}`));
    svg.append(bar);
  });
  svg.append(el('line', { x1: left, x2: width - right, y1: y(limit), y2: y(limit), class: 'limit' }));
  svg.append(el('text', { x: left + 4, y: y(limit) - 4, class: 'limit-label' }, `seat limit ${limit}`));
  if (series.length) {
    svg.append(el('text', { x: left, y: height - 8, class: 'axis' }, series[0].date));
    svg.append(el('text', { x: width - right, y: height - 8, 'text-anchor': 'end', class: 'axis' }, series[series.length - 1].date));
  }
  return svg;
}
