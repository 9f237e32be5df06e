// The two charts docs/PERFORMANCE.md shows, as plain SVG strings (no dependencies), drawn from
// the results object bench.mjs writes to bench/results/latest.json.
//   node bench/chart.mjs   redraws both charts from bench/results/latest.json
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { FIRST_LOAD_BROTLI_BUDGET, WHOLE_APP_BROTLI_BUDGET } from './sizes.mjs';

const WIDTH = 760;
const FONT = 'font-family="system-ui, -apple-system, Segoe UI, sans-serif"';
const APP = '#3b5bdb';
const FLOOR = '#adb5bd';
const TEXT = '#212529';
const MUTED = '#6c757d';

const esc = (s) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const text = (x, y, s, attrs = '') => `<text x="${x}" y="${y}" ${attrs}>${esc(s)}</text>`;
// A white card, so the chart reads the same on light and dark pages.
const frame = (height, title, body) =>
  `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" ${FONT} font-size="13" fill="${TEXT}">\n` +
  `<rect width="${WIDTH}" height="${height}" rx="8" fill="#fff" stroke="#dee2e6"/>\n` +
  text(20, 30, title, 'font-size="16" font-weight="600"') + '\n' + body.join('\n') + '\n</svg>\n';

// Tick step giving about five ticks.
function tickStep(max) {
  const rough = max / 5;
  const power = 10 ** Math.floor(Math.log10(rough));
  return [1, 2, 5, 10].map((m) => m * power).find((s) => s >= rough);
}

/** Horizontal bars: brotli KiB of each first-load file, the first load and the whole app, with
 *  the two budgets as dashed lines. */
export function sizesChart(sizes) {
  const kib = (b) => b / 1024;
  // Content hashes make names long and change every build; the chart drops them.
  const label = (file) => file.replace(/-[0-9a-f]{16}(?=[._])/, '');
  const rows = [
    ...sizes.files.filter((f) => f.load === 'first').map((f) => ({ name: label(f.file), bytes: f.brotli })),
    { name: 'first load', bytes: sizes.firstLoad.brotli, total: true },
    { name: 'whole app', bytes: sizes.wholeApp.brotli, total: true },
  ];
  const left = 200, right = WIDTH - 90, top = 90, rowH = 30;
  const max = Math.max(kib(WHOLE_APP_BROTLI_BUDGET) * 1.1, ...rows.map((r) => kib(r.bytes)));
  const x = (k) => left + (k / max) * (right - left);
  const bottom = top + rows.length * rowH;
  const body = [text(20, 50, 'brotli (quality 11) bytes in KiB; dashed lines are the budgets', `fill="${MUTED}"`)];
  const step = tickStep(max);
  for (let k = 0; k <= max; k += step) {
    body.push(`<line x1="${x(k)}" y1="${top - 6}" x2="${x(k)}" y2="${bottom}" stroke="#f1f3f5"/>`);
    body.push(text(x(k), bottom + 18, k, `text-anchor="middle" fill="${MUTED}" font-size="11"`));
  }
  rows.forEach((r, i) => {
    const y = top + i * rowH;
    const fill = r.total ? APP : '#748ffc';
    body.push(text(left - 10, y + 19, r.name, `text-anchor="end"${r.total ? ' font-weight="600"' : ''}`));
    body.push(`<rect x="${left}" y="${y + 5}" width="${Math.max(1, x(kib(r.bytes)) - left)}" height="${rowH - 10}" rx="3" fill="${fill}"/>`);
    const value = r.bytes < 100 ? `${r.bytes} B` : `${kib(r.bytes).toFixed(1)} KiB`;
    body.push(text(x(kib(r.bytes)) + 6, y + 19, value, 'font-size="12"'));
  });
  // The two budget labels sit on either side of their lines, so they cannot overlap.
  for (const [budget, name, anchor, dx] of [
    [FIRST_LOAD_BROTLI_BUDGET, 'first-load budget', 'end', -4],
    [WHOLE_APP_BROTLI_BUDGET, 'whole-app budget', 'start', 4],
  ]) {
    body.push(`<line x1="${x(kib(budget))}" y1="${top - 20}" x2="${x(kib(budget))}" y2="${bottom}" stroke="#e03131" stroke-width="1.5" stroke-dasharray="5 4"/>`);
    body.push(text(x(kib(budget)) + dx, top - 10, `${name} ${kib(budget)} KiB`, `text-anchor="${anchor}" fill="#e03131" font-size="11"`));
  }
  return frame(bottom + 34, 'Download size (brotli)', body);
}

/** Grouped bars, app vs the static form: Lighthouse FCP and LCP (simulated mobile) and the time
 *  until the Organization field accepts input (slow 4G, 4× CPU). Medians, in seconds. */
export function timingsChart(results) {
  const groups = [
    ['FCP', 'Lighthouse, simulated mobile', results.lighthouse.app.fcp, results.lighthouse.form.fcp],
    ['LCP', 'Lighthouse, simulated mobile', results.lighthouse.app.lcp, results.lighthouse.form.lcp],
    ['field accepts input', 'slow 4G, 4× CPU', results.interactive.app.exists, results.interactive.form.exists],
    ['app running', 'slow 4G, 4× CPU', results.interactive.app.live, results.interactive.form.live],
  ];
  const left = 60, right = WIDTH - 20, top = 80, bottom = 300;
  const max = Math.max(...groups.flatMap(([, , a, b]) => [a, b])) / 1000 * 1.15;
  const y = (s) => bottom - (s / max) * (bottom - top);
  const body = [text(20, 50, 'medians, lower is better', `fill="${MUTED}"`)];
  const step = tickStep(max);
  for (let s = 0; s <= max; s += step) {
    body.push(`<line x1="${left}" y1="${y(s)}" x2="${right}" y2="${y(s)}" stroke="#f1f3f5"/>`);
    body.push(text(left - 8, y(s) + 4, `${+s.toFixed(2)} s`, `text-anchor="end" fill="${MUTED}" font-size="11"`));
  }
  const groupW = (right - left) / groups.length, barW = 70;
  groups.forEach(([name, how, app, form], i) => {
    const mid = left + groupW * (i + 0.5);
    for (const [ms, dx, fill] of [[app, -barW - 4, APP], [form, 4, FLOOR]]) {
      const h = bottom - y(ms / 1000);
      body.push(`<rect x="${mid + dx}" y="${bottom - h}" width="${barW}" height="${Math.max(1, h)}" rx="3" fill="${fill}"/>`);
      body.push(text(mid + dx + barW / 2, bottom - h - 6, `${Math.round(ms)} ms`, 'text-anchor="middle" font-size="12"'));
    }
    body.push(text(mid, bottom + 20, name, 'text-anchor="middle" font-weight="600"'));
    body.push(text(mid, bottom + 36, how, `text-anchor="middle" fill="${MUTED}" font-size="11"`));
  });
  body.push(`<line x1="${left}" y1="${bottom}" x2="${right}" y2="${bottom}" stroke="${MUTED}"/>`);
  body.push(`<rect x="${right - 250}" y="38" width="12" height="12" rx="2" fill="${APP}"/>`, text(right - 232, 49, 'app'));
  body.push(`<rect x="${right - 180}" y="38" width="12" height="12" rx="2" fill="${FLOOR}"/>`, text(right - 162, 49, 'static HTML form'));
  return frame(bottom + 52, 'App vs a static HTML form of the Organization step', body);
}

/** Writes both charts into `docsDir`. */
export function writeCharts(results, docsDir) {
  writeFileSync(`${docsDir}/performance-sizes.svg`, sizesChart(results.sizes));
  writeFileSync(`${docsDir}/performance-timings.svg`, timingsChart(results));
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const root = fileURLToPath(new URL('..', import.meta.url));
  writeCharts(JSON.parse(readFileSync(`${root}bench/results/latest.json`, 'utf8')), `${root}docs`);
}
