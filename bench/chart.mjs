// The two charts docs/PERFORMANCE.md shows, as plain SVG strings (no dependencies), drawn from
// the results object bench.mjs writes to bench/results/latest.json.
//   node bench/chart.mjs   redraws both charts from bench/results/latest.json
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { FIRST_LOAD_BROTLI_BUDGET } from './sizes.mjs';

const WIDTH = 760;
const FONT = 'font-family="system-ui, -apple-system, Segoe UI, sans-serif"';
const APP = '#3b5bdb';
const FLOOR = '#adb5bd';
// Builds measured beside this one (bench.mjs --also), in order.
const OTHERS = ['#f08c00', '#2f9e44', '#ae3ec9'];
const TEXT = '#212529';
const MUTED = '#6c757d';
const BUDGET = '#e03131';

const esc = (s) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const text = (x, y, s, attrs = '') => `<text x="${x}" y="${y}" ${attrs}>${esc(s)}</text>`;
// A white card, so the chart reads the same on light and dark pages.
const frame = (height, title, body, width = WIDTH) =>
  `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" ${FONT} font-size="13" fill="${TEXT}">\n` +
  `<rect width="${width}" height="${height}" rx="8" fill="#fff" stroke="#dee2e6"/>\n` +
  text(20, 30, title, 'font-size="16" font-weight="600"') + '\n' + body.join('\n') + '\n</svg>\n';

// Tick step giving about five ticks.
function tickStep(max) {
  const rough = max / 5;
  const power = 10 ** Math.floor(Math.log10(rough));
  return [1, 2, 5, 10].map((m) => m * power).find((s) => s >= rough);
}

/** Horizontal bars, a section per page: brotli KiB of each file of its first load and the first
 *  load itself, then that page's first load in each build measured beside this one (`compared`:
 *  `{ label, sizes }`), with the per-page budget as a dashed line. */
export function sizesChart(sizes, compared = []) {
  const kib = (b) => b / 1024;
  // Content hashes make names long and change every build; the chart drops them.
  const label = (file) => file.replace(/-[0-9a-f]{15,16}(?=[._])/, '');
  const rows = [];
  for (const page of sizes.pages) {
    rows.push({ heading: `${page.name} page (${page.base})` });
    if (page.missing) continue;
    // Under its page's heading a file of its folder needs no folder; another shows its path.
    const folder = page.base.slice(1);
    const inPage = (file) => (!folder ? label(file)
      : file.startsWith(folder) ? label(file).slice(folder.length) : `/${label(file)}`);
    rows.push(...page.files.map((f) => ({ name: inPage(f.file), bytes: f.brotli })));
    rows.push({ name: 'first load, this build', bytes: page.firstLoad.brotli, fill: APP, bold: true });
    compared.forEach((c, i) => {
      const other = c.sizes.pages.find((p) => p.name === page.name);
      if (other && !other.missing) {
        rows.push({ name: `first load, ${c.label}`, bytes: other.firstLoad.brotli, fill: OTHERS[i % OTHERS.length], bold: true });
      }
    });
  }
  // Room on the left for the longest name (at most about 7.6 px a character at 13 px, bold).
  const left = Math.max(200, 30 + 7.6 * Math.max(...rows.map((r) => (r.name ?? '').length)));
  const width = left + WIDTH - 290, right = width - 90, top = 90, rowH = 26;
  const max = Math.max(kib(FIRST_LOAD_BROTLI_BUDGET) * 1.1, ...rows.filter((r) => r.bytes).map((r) => kib(r.bytes)));
  const x = (k) => left + (k / max) * (right - left);
  const bottom = top + rows.length * rowH;
  const body = [text(20, 50, 'brotli (quality 11) bytes in KiB; the dashed line is each page\'s first-load budget', `fill="${MUTED}"`)];
  const step = tickStep(max);
  for (let k = 0; k <= max; k += step) {
    body.push(`<line x1="${x(k)}" y1="${top - 6}" x2="${x(k)}" y2="${bottom}" stroke="#f1f3f5"/>`);
    body.push(text(x(k), bottom + 18, k, `text-anchor="middle" fill="${MUTED}" font-size="11"`));
  }
  rows.forEach((r, i) => {
    const y = top + i * rowH;
    if (r.heading) {
      body.push(text(20, y + 18, r.heading, 'font-weight="600"'));
      return;
    }
    body.push(text(left - 10, y + 17, r.name, `text-anchor="end"${r.bold ? ' font-weight="600"' : ''}`));
    body.push(`<rect x="${left}" y="${y + 4}" width="${Math.max(1, x(kib(r.bytes)) - left)}" height="${rowH - 8}" rx="3" fill="${r.fill ?? '#748ffc'}"/>`);
    const value = r.bytes < 100 ? `${r.bytes} B` : `${kib(r.bytes).toFixed(1)} KiB`;
    body.push(text(x(kib(r.bytes)) + 6, y + 17, value, 'font-size="12"'));
  });
  const bx = x(kib(FIRST_LOAD_BROTLI_BUDGET));
  body.push(`<line x1="${bx}" y1="${top - 20}" x2="${bx}" y2="${bottom}" stroke="${BUDGET}" stroke-width="1.5" stroke-dasharray="5 4"/>`);
  body.push(text(bx - 4, top - 10, `budget ${kib(FIRST_LOAD_BROTLI_BUDGET)} KiB per page`, `text-anchor="end" fill="${BUDGET}" font-size="11"`));
  return frame(bottom + 34, 'Download size of each page\'s first load (brotli)', body, width);
}

/** Grouped bars: this build, any build measured beside it, and the static form: Lighthouse FCP
 *  and LCP (simulated mobile; this build and the form only), the time until the Organization
 *  field accepts input, and until the app runs (its own field live) (slow 4G, 4× CPU). Medians,
 *  in seconds; dashed lines mark the targets, as multiples of the form's time to input. */
export function timingsChart(results) {
  const compared = results.compared ?? [];
  const form = results.interactive.form;
  const builds = [{ label: 'this build', fill: APP, ...results },
    ...compared.map((c, i) => ({ ...c, fill: OTHERS[i % OTHERS.length] }))];
  const bar = (b, ms) => ({ label: b.label, fill: b.fill, ms });
  const groups = [
    { name: 'FCP', how: 'Lighthouse, simulated mobile',
      bars: [bar(builds[0], results.lighthouse.app.fcp), { label: 'static form', fill: FLOOR, ms: results.lighthouse.form.fcp }] },
    { name: 'LCP', how: 'Lighthouse, simulated mobile',
      bars: [bar(builds[0], results.lighthouse.app.lcp), { label: 'static form', fill: FLOOR, ms: results.lighthouse.form.lcp }] },
    { name: 'field accepts input', how: 'slow 4G, 4× CPU', target: results.targets?.inputRatio,
      bars: [...builds.map((b) => bar(b, b.interactive.app.exists)), { label: 'static form', fill: FLOOR, ms: form.exists }] },
    { name: 'app running', how: 'slow 4G, 4× CPU', target: results.targets?.runningRatio,
      bars: [...builds.map((b) => bar(b, b.interactive.app.live)), { label: 'static form', fill: FLOOR, ms: form.exists }] },
  ];
  const barW = builds.length > 1 ? 56 : 62, gap = 6;
  // Wide enough for the bars, the target's label and the line under the group's name.
  const groupWs = groups.map((g) => Math.max(190, g.bars.length * (barW + gap) + (g.target ? 70 : 40)));
  const left = 60, top = 80, bottom = 300;
  const width = Math.max(WIDTH, left + groupWs.reduce((a, b) => a + b, 0) + 20);
  const right = width - 20;
  const max = Math.max(...groups.flatMap((g) => [...g.bars.map((b) => b.ms),
    g.target ? g.target * form.exists : 0])) / 1000 * 1.12;
  const y = (s) => bottom - (s / max) * (bottom - top);
  const body = [text(20, 50, 'medians, lower is better; dashed: the target as a multiple of the form\'s time to input', `fill="${MUTED}"`)];
  const step = tickStep(max);
  for (let s = 0; s <= max; s += step) {
    body.push(`<line x1="${left}" y1="${y(s)}" x2="${right}" y2="${y(s)}" stroke="#f1f3f5"/>`);
    body.push(text(left - 8, y(s) + 4, `${+s.toFixed(2)} s`, `text-anchor="end" fill="${MUTED}" font-size="11"`));
  }
  let gx = left + 20;
  groups.forEach((g, i) => {
    const w = g.bars.length * (barW + gap) - gap;
    g.bars.forEach((b, j) => {
      const bx = gx + j * (barW + gap);
      const h = bottom - y(b.ms / 1000);
      body.push(`<rect x="${bx}" y="${bottom - h}" width="${barW}" height="${Math.max(1, h)}" rx="3" fill="${b.fill}"/>`);
      body.push(text(bx + barW / 2, bottom - h - 6, `${Math.round(b.ms)} ms`, 'text-anchor="middle" font-size="11"'));
    });
    if (g.target) {
      const ty = y((g.target * form.exists) / 1000);
      body.push(`<line x1="${gx - 6}" y1="${ty}" x2="${gx + w + 6}" y2="${ty}" stroke="${BUDGET}" stroke-width="1.5" stroke-dasharray="5 4"/>`);
      body.push(text(gx + w + 9, ty + 4, `≤ ${g.target}×`, `fill="${BUDGET}" font-size="11"`));
    }
    body.push(text(gx + w / 2, bottom + 20, g.name, 'text-anchor="middle" font-weight="600"'));
    body.push(text(gx + w / 2, bottom + 36, g.how, `text-anchor="middle" fill="${MUTED}" font-size="11"`));
    gx += groupWs[i];
  });
  body.push(`<line x1="${left}" y1="${bottom}" x2="${right}" y2="${bottom}" stroke="${MUTED}"/>`);
  // The legend, one line under the axis labels.
  let lx = left;
  for (const { label, fill } of [...builds, { label: 'static HTML form', fill: FLOOR }]) {
    body.push(`<rect x="${lx}" y="${bottom + 50}" width="12" height="12" rx="2" fill="${fill}"/>`, text(lx + 18, bottom + 61, label));
    lx += 40 + label.length * 7;
  }
  return frame(bottom + 76, 'App vs a static HTML form of the Organization step', body, width);
}

/** Writes both charts into `docsDir`. */
export function writeCharts(results, docsDir) {
  writeFileSync(`${docsDir}/performance-sizes.svg`, sizesChart(results.sizes, results.compared ?? []));
  writeFileSync(`${docsDir}/performance-timings.svg`, timingsChart(results));
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const root = fileURLToPath(new URL('..', import.meta.url));
  writeCharts(JSON.parse(readFileSync(`${root}bench/results/latest.json`, 'utf8')), `${root}docs`);
}
