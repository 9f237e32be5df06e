// The benchmark: how much the app costs against the floor, a static HTML form of its
// Organization step. One run measures, prints a table, writes bench/results/latest.json, the
// charts and the table in docs/PERFORMANCE.md. Timings never fail it: it exits 0 when it ran.
//
//   node bench/bench.mjs --dist dist --server target/debug/member-login-server
//        [--runs 5] [--transitions 20] [--also LABEL=DIR …]
// scripts/bench.sh builds both first; docs/PERFORMANCE.md says what each figure means.
// --also (repeatable) measures another build beside this one in the same run, each served by a
// server of its own: its sizes, time to input and step transitions, interleaved with this
// build's (for a before/after, or a build with one setting changed).
import { spawn, execFileSync } from 'node:child_process';
import { get } from 'node:http';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import * as chromeLauncher from 'chrome-launcher';
import lighthouse from 'lighthouse';
import { throttling } from 'lighthouse/core/config/constants.js';
import puppeteer from 'puppeteer-core';
import { budgets, formatTable, kib, measure, page as pageOf } from './sizes.mjs';
import { writeCharts } from './chart.mjs';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CHROME_PATH = process.env.CHROME_PATH ?? '/usr/bin/chromium';
// Headless Chromium as root, with nothing of its own on the network to disturb timings.
const CHROME_FLAGS = ['--headless=new', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];
// Lighthouse's own numbers for its default mobile profile (latency 562.5 ms, 1474.56 kbps down,
// 675 kbps up, 4× CPU), applied for real through DevTools for the time-to-input figure.
const SLOW_4G = throttling.mobileSlow4G;
const APP_PATH = '/login/organization';
const FORM_PATH = '/static-form.html';
// The step after the Organization step, as its h1 reads (src/steps/username.rs).
const NEXT_HEADING = 'Enter your username';
// The account page's own path: its first load is measured by sizes.mjs, its serving checked here.
const ACCOUNT_PATH = '/account/password';
// inputRatio: the field accepts input, app ÷ form; runningRatio: the app's own field live ÷ the
// form's time to input.
const TARGETS = { lcpRatio: 1.1, inputRatio: 1.5, runningRatio: 2.5, workBeyondNetworkMs: 16 };

const { values: opts } = parseArgs({
  options: {
    dist: { type: 'string', default: 'dist' },
    server: { type: 'string', default: 'target/debug/member-login-server' },
    runs: { type: 'string', default: '5' },
    transitions: { type: 'string', default: '20' },
    also: { type: 'string', multiple: true, default: [] },
  },
});
const runs = Number(opts.runs);
const transitions = Number(opts.transitions);
if (!(runs >= 1 && transitions >= 1)) throw new Error('--runs and --transitions take a number of at least 1');
const also = opts.also.map((spec) => {
  const at = spec.lastIndexOf('=');
  if (at < 1) throw new Error(`--also takes LABEL=DIR, not ${spec}`);
  return { label: spec.slice(0, at), dist: spec.slice(at + 1) };
});
if (new Set(['app', 'form', ...also.map((a) => a.label)]).size !== also.length + 2) {
  throw new Error('--also labels must differ from each other and from "app" and "form"');
}

const median = (xs) => {
  const s = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (!s.length) return null;
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const ratio = (a, b) => (a != null && b ? a / b : null);
const log = (...a) => console.error('[bench]', ...a);
const brief = (o) => JSON.stringify(o, (k, v) => (typeof v === 'number' ? +v.toFixed(1) : v));

// Everything started here is stopped on the way out, also after an error or Ctrl-C.
const cleanups = [];
async function cleanUp() {
  for (const fn of cleanups.splice(0).reverse()) await Promise.resolve().then(fn).catch(() => {});
}
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => cleanUp().finally(() => process.exit(130)));
}

/** A private copy of a build (the real one may be rebuilt meanwhile), measured; for this build,
 *  with the static form written beside the app so one server serves both with the same
 *  headers. */
function prepareSite(dist, { withForm }) {
  const work = mkdtempSync(join(tmpdir(), 'member-login-bench-'));
  cleanups.push(() => rmSync(work, { recursive: true, force: true }));
  const site = join(work, 'site');
  cpSync(dist, site, { recursive: true });
  const sizes = measure(site);
  if (withForm) {
    // The login page's stylesheet as the page carries it: inline (the same <style> element,
    // so the same bytes and the same hash in the server's policy), or its content-hashed file.
    const css = pageOf(sizes, 'login').files.find((f) => f.kind === 'css');
    const inline = /<style\b[^>]*>[\s\S]*?<\/style>/i.exec(readFileSync(join(site, 'index.html'), 'utf8'))?.[0];
    const stylesheet = inline ?? (css ? `<link rel="stylesheet" href="/${css.file}" />` : '');
    let form = readFileSync(join(ROOT, 'bench/static-form.html'), 'utf8');
    form = form.replace('{{stylesheet}}', () => stylesheet);
    writeFileSync(join(site, FORM_PATH), form);
  }
  return { sizes, site, data: join(work, 'bench.sqlite3') };
}

/** Starts the reference server on a free loopback port; resolves to its origin. */
function startServer({ site, data }) {
  const server = spawn(opts.server,
    ['serve', '--demo', '--dev', '--dist', site, '--listen', '127.0.0.1:0', '--data', data],
    { stdio: ['ignore', 'pipe', 'inherit'] });
  cleanups.push(() => server.kill());
  return new Promise((resolvePromise, reject) => {
    let out = '';
    const read = (chunk) => {
      out += chunk;
      // The one line the server prints for scripts to find its port.
      const url = out.match(/listening on (http:\/\/[^\s/]+)/)?.[1];
      if (url) {
        server.stdout.off('data', read).resume(); // the rest (demo logins) is not needed
        resolvePromise(url);
      }
    };
    server.stdout.on('data', read);
    server.on('error', reject);
    server.on('exit', (code) => reject(new Error(`the server exited (${code}) before listening:\n${out}`)));
  });
}

/** How the server sends each first-load file to a browser that accepts brotli and gzip: the
 *  timings below measure these bytes, which are the raw ones when it does not compress. */
async function servedEncodings(origin, sizes) {
  const encoding = (path) => new Promise((resolvePromise, reject) => {
    get(origin + path, { headers: { 'accept-encoding': 'br, gzip' } }, (res) => {
      res.resume();
      resolvePromise(res.headers['content-encoding'] ?? 'identity');
    }).on('error', reject);
  });
  const out = { [APP_PATH]: await encoding(APP_PATH), [ACCOUNT_PATH]: await encoding(ACCOUNT_PATH) };
  for (const p of sizes.pages) {
    for (const f of p.files.filter((f) => f.file !== p.index)) out[f.file] ??= await encoding(`/${f.file}`);
  }
  return out;
}

async function launchChrome() {
  // chrome-launcher gives every launch a fresh --user-data-dir and removes it on kill. Its own
  // Ctrl-C handler would exit before ours stops the server.
  const chrome = await chromeLauncher.launch({ chromePath: CHROME_PATH, chromeFlags: CHROME_FLAGS, logLevel: 'error', handleSIGINT: false });
  cleanups.push(() => chrome.kill());
  return chrome;
}

/** One Lighthouse run with its default mobile config (simulated throttling), in a Chromium of
 *  its own so no run inherits another's state. Chromium 156 now and then drops the new renderer's
 *  first trace events (Lighthouse then reports NO_NAVSTART and asks to run again): up to three
 *  tries. */
async function lighthouseRun(url, tries = 3) {
  const chrome = await launchChrome();
  let lhr;
  try {
    ({ lhr } = await lighthouse(url, { port: chrome.port, output: 'json', logLevel: 'error', onlyCategories: ['performance'] }));
  } finally {
    await chrome.kill();
  }
  if (lhr.runtimeError) {
    if (tries > 1) {
      log(`Lighthouse: ${lhr.runtimeError.code}; running it again`);
      return lighthouseRun(url, tries - 1);
    }
    throw new Error(`Lighthouse: ${lhr.runtimeError.message}`);
  }
  const metric = (id) => lhr.audits[id].numericValue;
  return {
    score: lhr.categories.performance.score * 100,
    fcp: metric('first-contentful-paint'),
    lcp: metric('largest-contentful-paint'),
    tbt: metric('total-blocking-time'),
    cls: metric('cumulative-layout-shift'),
  };
}

// Injected before any page script: records performance.now() (ms since navigation) when the
// Organization field first exists (it accepts input: in the app that is the static shell's form,
// whose text, Remember box and focus the app takes over as it mounts), and when it is live: the
// running app's own field, after it removed the static shell. A MutationObserver sees each DOM change as it happens; the
// animation-frame loop is a backstop.
const FIELD_POLLER = `(() => {
  const marks = (window.__bench = {});
  const conditions = {
    exists: () => document.querySelector('#organization') !== null,
    live: () => { const f = document.querySelector('#organization');
      return !!f && !document.getElementById('shell') && !!f.closest('form'); },
  };
  const check = () => {
    for (const [name, holds] of Object.entries(conditions)) {
      if (!(name in marks) && holds()) marks[name] = performance.now();
    }
    return 'live' in marks && 'exists' in marks;
  };
  const observer = new MutationObserver(() => check() && observer.disconnect());
  observer.observe(document, { childList: true, subtree: true });
  const frame = () => check() ? observer.disconnect() : requestAnimationFrame(frame);
  requestAnimationFrame(frame);
})();`;

/** Navigation to a live Organization field on slow 4G with 4× CPU, in a fresh browser context
 *  with the cache off. */
async function timeToInput(browser, url) {
  const context = await browser.createBrowserContext();
  try {
    const page = await context.newPage();
    await page.setCacheEnabled(false);
    // Network.emulateNetworkConditions and Emulation.setCPUThrottlingRate under the hood;
    // throughput in bytes per second.
    await page.emulateNetworkConditions({
      latency: SLOW_4G.requestLatencyMs,
      download: (SLOW_4G.downloadThroughputKbps * 1024) / 8,
      upload: (SLOW_4G.uploadThroughputKbps * 1024) / 8,
    });
    await page.emulateCPUThrottling(SLOW_4G.cpuSlowdownMultiplier);
    await page.evaluateOnNewDocument(FIELD_POLLER);
    await page.goto(url, { waitUntil: 'domcontentloaded', timeout: 120_000 });
    // Polling from outside at a low rate keeps the check from adding work to the page.
    await page.waitForFunction(() => window.__bench && 'live' in window.__bench, { polling: 250, timeout: 120_000 });
    return await page.evaluate(() => window.__bench);
  } finally {
    await context.close();
  }
}

/** Organization step to username step, unthrottled: from the submit click to the next step's
 *  heading in the DOM, and the share of that spent on the network (the API requests' Resource
 *  Timing, first fetchStart to last responseEnd). */
async function stepTransition(page, origin) {
  await page.goto(origin + APP_PATH);
  await page.waitForFunction(() => {
    const f = document.querySelector('#organization');
    return !!f && !document.getElementById('shell') && !!f.closest('form');
  });
  await page.type('#organization', 'demo');
  await page.evaluate((heading) => {
    const marks = (window.__step = {});
    // Capture phase on window: runs before the app's own handlers.
    addEventListener('click', () => { marks.click = performance.now(); }, { capture: true, once: true });
    const observer = new MutationObserver(() => {
      if (document.querySelector('h1')?.textContent.trim() === heading) {
        marks.heading = performance.now();
        observer.disconnect();
      }
    });
    observer.observe(document.body, { childList: true, subtree: true, characterData: true });
  }, NEXT_HEADING);
  await page.click('form button[type=submit]');
  await page.waitForFunction(() => window.__step.heading !== undefined, { timeout: 15_000 });
  return page.evaluate(() => {
    const { click, heading } = window.__step;
    const api = performance.getEntriesByType('resource')
      .filter((e) => e.name.includes('/api/') && e.fetchStart >= click && e.fetchStart <= heading);
    const network = api.length
      ? Math.max(...api.map((e) => e.responseEnd)) - Math.min(...api.map((e) => e.fetchStart)) : 0;
    const total = heading - click;
    return { total, network, beyond: total - network, requests: api.length };
  });
}

/** Runs `measureOne(kind)` for each kind in turn (app and form, and any --also build), `n` times
 *  (interleaved, so a slow patch of the machine hits all alike). */
async function interleaved(n, label, kinds, measureOne) {
  const out = Object.fromEntries(kinds.map((k) => [k, []]));
  for (let i = 0; i < n; i++) {
    for (const kind of kinds) {
      out[kind].push(await measureOne(kind));
      log(`${label} ${kind} ${i + 1}/${n}:`, brief(out[kind].at(-1)));
    }
  }
  return out;
}

const medians = (list, keys) => Object.fromEntries(keys.map((k) => [k, median(list.map((r) => r[k]))]));
const ms = (v) => (v == null ? 'n/a' : `${Math.round(v)} ms`);
const x = (v) => (v == null ? 'n/a' : `${v.toFixed(2)}×`);
const mark = (ok) => (ok == null ? '' : ok ? 'PASS' : 'MISS');

/** The final table (Markdown, printed and written into docs/PERFORMANCE.md), and one comparing
 *  this build with the --also builds when there are any. */
function summary(r) {
  const { app, form, ratios } = r.lighthouse;
  const row = (figure, value, target = '', ok = null) => `| ${figure} | ${value} | ${target} | ${mark(ok)} |`;
  const within = (v, limit) => (v == null ? null : v <= limit);
  const sizeRow = (b) => b.missing
    ? row(`${b.page} page first load, brotli`, 'not in the build', `≤ ${b.limit / 1024} KiB`, false)
    : row(`${b.page} page first load, brotli`, `${kib(b.value)} KiB`, `≤ ${b.limit / 1024} KiB`, b.ok);
  const main = [
    '| figure | value | target | |',
    '| --- | --- | --- | --- |',
    ...budgets(r.sizes).map(sizeRow),
    row('Lighthouse performance score, app / static form', `${app.score} / ${form.score}`),
    row('Lighthouse FCP, app / static form', `${ms(app.fcp)} / ${ms(form.fcp)}`),
    row('Lighthouse FCP ratio app ÷ static', x(ratios.fcp)),
    row('Lighthouse LCP, app / static form', `${ms(app.lcp)} / ${ms(form.lcp)}`),
    row('Lighthouse LCP ratio app ÷ static', x(ratios.lcp), `≤ ${TARGETS.lcpRatio.toFixed(2)}×`, within(ratios.lcp, TARGETS.lcpRatio)),
    row('Lighthouse TBT, app / static form', `${ms(app.tbt)} / ${ms(form.tbt)}`),
    row('Lighthouse TBT ratio app ÷ static', ratios.tbt == null ? `n/a (static form ${ms(form.tbt)})` : x(ratios.tbt)),
    row('Lighthouse CLS, app / static form', `${app.cls.toFixed(3)} / ${form.cls.toFixed(3)}`),
    row('slow 4G + 4× CPU: field accepts input, app / static form', `${ms(r.interactive.app.exists)} / ${ms(r.interactive.form.exists)}`),
    row('slow 4G + 4× CPU: field accepts input ratio app ÷ static', x(r.interactive.ratio), `≤ ${TARGETS.inputRatio.toFixed(2)}×`, within(r.interactive.ratio, TARGETS.inputRatio)),
    row('slow 4G + 4× CPU: app running (its own field live)', ms(r.interactive.app.live)),
    row('slow 4G + 4× CPU: app running ÷ static form\'s field accepts input', x(r.interactive.runningRatio), `≤ ${TARGETS.runningRatio.toFixed(2)}×`, within(r.interactive.runningRatio, TARGETS.runningRatio)),
    row('step transition Organization → username, total', ms(r.transition.total)),
    row('step transition: network (API requests)', ms(r.transition.network)),
    row('step transition: work beyond network', `${r.transition.beyond.toFixed(1)} ms`, `≤ ${TARGETS.workBeyondNetworkMs} ms`, within(r.transition.beyond, TARGETS.workBeyondNetworkMs)),
  ].join('\n');
  if (!r.compared.length) return main;

  // This build and each --also build, side by side.
  const builds = [{ label: 'this build', ...r }, ...r.compared];
  const line = (figure, value) => `| ${figure} | ${builds.map(value).join(' | ')} |`;
  const firstLoad = (name) => (b) => {
    const p = pageOf(b.sizes, name);
    return p.missing ? 'not in the build' : `${kib(p.firstLoad.brotli)} KiB`;
  };
  const compared = [
    `| figure | ${builds.map((b) => b.label).join(' | ')} |`,
    `| --- | ${builds.map(() => '---:').join(' | ')} |`,
    line('login page first load, brotli', firstLoad('login')),
    line('account page first load, brotli', firstLoad('account')),
    line('slow 4G + 4× CPU: field accepts input', (b) => ms(b.interactive.app.exists)),
    line('slow 4G + 4× CPU: app running (÷ static form\'s input)', (b) => `${ms(b.interactive.app.live)} (${x(b.interactive.runningRatio)})`),
    line('step transition, total', (b) => ms(b.transition.total)),
    line('step transition: network', (b) => ms(b.transition.network)),
    line('step transition: work beyond network', (b) => `${b.transition.beyond.toFixed(1)} ms`),
  ].join('\n');
  return `${main}\n\nThe same run, beside other builds (\`--also\`; the static form's times are this run's):\n\n${compared}`;
}

function describeRun() {
  const git = (...args) => { try { return execFileSync('git', args, { cwd: ROOT, encoding: 'utf8' }).trim(); } catch { return null; } };
  return {
    date: new Date().toISOString(),
    commit: git('rev-parse', '--short', 'HEAD'),
    uncommittedChanges: Boolean(git('status', '--porcelain')),
    cpus: `${cpus().length} × ${cpus()[0]?.model ?? '?'}`,
    node: process.version,
    runs,
    transitions,
    // What else ran on the machine: the 1-minute load average as the measuring began.
    loadAverage: +loadavg()[0].toFixed(2),
  };
}

/** Replaces the generated part of docs/PERFORMANCE.md. */
function updateDoc(table, run) {
  const doc = join(ROOT, 'docs/PERFORMANCE.md');
  const text = readFileSync(doc, 'utf8');
  const generated = `<!-- bench:begin -->\n${table}\n\nMedians of ${run.runs} Lighthouse and time-to-input runs and ${run.transitions} step transitions; ` +
    `${run.date.slice(0, 10)}, commit ${run.commit}${run.uncommittedChanges ? ' with uncommitted changes' : ''}, ${run.cpus}, ` +
    `1-minute load average ${run.loadAverage} as it began, Node ${run.node}, ${run.chromium}.\n<!-- bench:end -->`;
  const updated = text.replace(/<!-- bench:begin -->[\s\S]*<!-- bench:end -->/, generated);
  if (updated === text && !text.includes(generated)) log('docs/PERFORMANCE.md has no bench markers; left as it is');
  writeFileSync(doc, updated);
}

async function main() {
  const started = Date.now();
  const run0 = describeRun();
  const site = prepareSite(opts.dist, { withForm: true });
  const { sizes } = site;
  console.log('Sizes (bytes the browser downloads, if the host compresses):\n\n' + formatTable(sizes) + '\n');
  const others = also.map((a) => ({ ...a, ...prepareSite(a.dist, { withForm: false }) }));
  for (const o of others) console.log(`Sizes of ${o.label} (${o.dist}):\n\n${formatTable(o.sizes)}\n`);

  const origin = await startServer(site);
  log(`serving the app and the static form at ${origin}`);
  for (const o of others) {
    o.origin = await startServer(o);
    log(`serving ${o.label} at ${o.origin}`);
  }
  const encodings = await servedEncodings(origin, sizes);
  log('content-encoding as served:', Object.entries(encodings).map(([f, e]) => `${f} ${e}`).join(', '));
  const url = (kind) => kind === 'app' ? origin + APP_PATH : kind === 'form' ? origin + FORM_PATH
    : others.find((o) => o.label === kind).origin + APP_PATH;

  const lhRuns = await interleaved(runs, 'lighthouse', ['app', 'form'], (kind) => lighthouseRun(url(kind)));
  const keys = ['score', 'fcp', 'lcp', 'tbt', 'cls'];
  const lh = { app: medians(lhRuns.app, keys), form: medians(lhRuns.form, keys) };
  lh.ratios = { fcp: ratio(lh.app.fcp, lh.form.fcp), lcp: ratio(lh.app.lcp, lh.form.lcp), tbt: ratio(lh.app.tbt, lh.form.tbt) };

  // One Chromium for the puppeteer figures; each time-to-input run gets a fresh context.
  const chrome = await launchChrome();
  const browser = await puppeteer.connect({ browserURL: `http://127.0.0.1:${chrome.port}`, defaultViewport: null });
  cleanups.push(() => browser.disconnect());
  const chromium = await browser.version();

  const kinds = ['app', 'form', ...others.map((o) => o.label)];
  const inputRuns = await interleaved(runs, 'time to input', kinds, (kind) => timeToInput(browser, url(kind)));
  const inputOf = (kind) => medians(inputRuns[kind], ['exists', 'live']);
  const formInput = inputOf('form');
  const interactiveOf = (kind) => {
    const a = inputOf(kind);
    return { app: a, form: formInput, ratio: ratio(a.exists, formInput.exists), runningRatio: ratio(a.live, formInput.exists) };
  };

  // The step transitions, this build's and each other build's in turn.
  const context = await browser.createBrowserContext();
  const page = await context.newPage();
  const stepRuns = Object.fromEntries(['app', ...others.map((o) => o.label)].map((k) => [k, []]));
  for (let i = 0; i < transitions; i++) {
    for (const [kind, runsOf] of Object.entries(stepRuns)) {
      runsOf.push(await stepTransition(page, kind === 'app' ? origin : others.find((o) => o.label === kind).origin));
      log(`step transition ${kind} ${i + 1}/${transitions}:`, brief(runsOf.at(-1)));
    }
  }
  await context.close();
  const transitionOf = (kind) => ({ ...medians(stepRuns[kind], ['total', 'network', 'beyond']), runs: stepRuns[kind] });

  const run = { ...run0, chromium, seconds: Math.round((Date.now() - started) / 1000) };
  const results = {
    run, targets: TARGETS, sizes, budgets: budgets(sizes), servedEncodings: encodings,
    lighthouse: { ...lh, runs: lhRuns },
    interactive: { ...interactiveOf('app'), throttling: SLOW_4G, runs: { app: inputRuns.app, form: inputRuns.form } },
    transition: transitionOf('app'),
    compared: others.map((o) => ({
      label: o.label, dist: o.dist, sizes: o.sizes,
      interactive: { ...interactiveOf(o.label), runs: inputRuns[o.label] },
      transition: transitionOf(o.label),
    })),
  };
  const table = summary(results);
  console.log(table);
  console.log(`\n(${run.seconds} s; results in bench/results/latest.json, docs/PERFORMANCE.md and its charts)`);

  mkdirSync(join(ROOT, 'bench/results'), { recursive: true });
  writeFileSync(join(ROOT, 'bench/results/latest.json'), JSON.stringify(results, null, 2) + '\n');
  writeCharts(results, join(ROOT, 'docs'));
  updateDoc(table, run);
}

try {
  await main();
} catch (error) {
  console.error('[bench] failed:', error);
  process.exitCode = 1;
} finally {
  await cleanUp();
}
