// What the app costs to download: raw, gzip (level 9) and brotli (quality 11) bytes of each file
// the first load fetches, found by reading dist/index.html, and of the whole app (plus every other
// .wasm/.js in dist, such as lazily loaded chunks).
//
//   node bench/sizes.mjs dist            prints the table
//   node bench/sizes.mjs dist --budget   also checks the budgets, in cargo test's output format
//                                        (so the test runner counts them); exits 1 when one fails
//   node bench/sizes.mjs dist --ceiling  the same for the ceilings below (the test command's)
//
// Also imported by bench.mjs, so this is the only place sizes are measured.
import { readFileSync, readdirSync } from 'node:fs';
import { join, relative, resolve, sep } from 'node:path';
import { pathToFileURL } from 'node:url';
import { brotli, gzip } from '../scripts/precompress.mjs';

// The budgets, in brotli bytes.
export const FIRST_LOAD_BROTLI_BUDGET = 64 * 1024;
export const WHOLE_APP_BROTLI_BUDGET = 96 * 1024;

// Until the app meets the budgets, the test command (`--ceiling`) holds it to its current size
// plus a little room, so that it cannot grow unnoticed. Lower these with every cut; once they
// are at or under the budgets, the test command checks the budgets instead.
export const FIRST_LOAD_BROTLI_CEILING = 164 * 1024;
export const WHOLE_APP_BROTLI_CEILING = 164 * 1024;

// The app fetches its API base from this file as it starts, so it belongs to the first load.
const CONFIG_FILE = 'config.json';

/** Compressed sizes of one buffer, at the levels the build pre-compresses with. */
export function compressedSizes(bytes) {
  return { raw: bytes.length, gzip: gzip(bytes).length, brotli: brotli(bytes).length };
}

/** The URLs index.html makes the browser fetch: stylesheets, module scripts and their preloads,
 *  the wasm preload, and the .js/.wasm paths named inside the inline loader script. */
function urlsInIndex(html) {
  const urls = [];
  for (const [tag] of html.matchAll(/<(?:link|script)\b[^>]*>/gi)) {
    const attr = (name) => tag.match(new RegExp(`\\b${name}\\s*=\\s*["']?([^"'\\s>]+)`, 'i'))?.[1];
    const rel = (attr('rel') ?? '').toLowerCase();
    if (tag.startsWith('<link') && ['stylesheet', 'modulepreload', 'preload'].includes(rel)) {
      urls.push(attr('href'));
    } else if (tag.startsWith('<script') && attr('src')) {
      urls.push(attr('src'));
    }
  }
  // trunk's inline loader: `import init from '/x.js'; init({ module_or_path: '/x_bg.wasm' })`.
  for (const [, body] of html.matchAll(/<script\b[^>]*>([\s\S]*?)<\/script>/gi)) {
    for (const [, url] of body.matchAll(/["']([^"'\s]+\.(?:js|wasm))["']/g)) urls.push(url);
  }
  return urls.filter(Boolean);
}

/** Static `import … from '…'` / `import '…'` of a JS module (wasm-bindgen snippets): fetched
 *  before the module runs, so part of the first load. Dynamic `import()` is not followed. */
function staticImports(js) {
  return [...js.matchAll(/^\s*(?:import|export)\b[^'"()]*?\bfrom\s*["']([^"']+)["']|^\s*import\s*["']([^"']+)["']/gm)]
    .map((m) => m[1] ?? m[2]);
}

/** A URL from the page as a path inside dist, or null when it points elsewhere. */
function distPath(dist, url, base = '/') {
  if (/^[a-z]+:/i.test(url) || url.startsWith('//')) return null;
  const path = new URL(url, `http://x${base}`).pathname;
  const file = resolve(dist, '.' + decodeURIComponent(path));
  return file.startsWith(resolve(dist) + sep) ? file : null;
}

function kindOf(file) {
  const ext = file.match(/\.([a-z0-9]+)$/i)?.[1]?.toLowerCase();
  return { html: 'html', css: 'css', js: 'js', mjs: 'js', wasm: 'wasm', json: 'config' }[ext] ?? ext;
}

function filesUnder(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? filesUnder(join(dir, entry.name)) : [join(dir, entry.name)],
  );
}

/** Measures `dist`: every first-load file, the lazily loaded rest, and both totals. */
export function measure(dist) {
  dist = resolve(dist);
  const index = join(dist, 'index.html');
  const firstLoad = [index];
  const add = (file) => file && !firstLoad.includes(file) && firstLoad.push(file);
  for (const url of urlsInIndex(readFileSync(index, 'utf8'))) add(distPath(dist, url));
  // Follow static imports of every JS module found so far (the list grows as we go).
  for (const file of firstLoad) {
    if (kindOf(file) !== 'js') continue;
    const base = '/' + relative(dist, file).split(sep).join('/');
    for (const url of staticImports(readFileSync(file, 'utf8'))) add(distPath(dist, url, base));
  }
  add(join(dist, CONFIG_FILE));
  const lazy = filesUnder(dist)
    .filter((f) => /\.(wasm|m?js)$/i.test(f) && !firstLoad.includes(f))
    .sort();

  const row = (file, load) => ({
    file: relative(dist, file).split(sep).join('/'),
    kind: kindOf(file),
    load,
    ...compressedSizes(readFileSync(file)),
  });
  const files = [...firstLoad.map((f) => row(f, 'first')), ...lazy.map((f) => row(f, 'lazy'))];
  const total = (rows) => ({
    raw: rows.reduce((s, r) => s + r.raw, 0),
    gzip: rows.reduce((s, r) => s + r.gzip, 0),
    brotli: rows.reduce((s, r) => s + r.brotli, 0),
  });
  return {
    files,
    firstLoad: total(files.filter((r) => r.load === 'first')),
    wholeApp: total(files),
  };
}

/** Limits as pass/fail checks, named like tests. */
function checks(sizes, firstLoadLimit, wholeAppLimit) {
  const check = (name, value, limit) => ({ name, value, limit, ok: value <= limit });
  return [
    check(`first_load_brotli_within_${firstLoadLimit / 1024}_KiB`, sizes.firstLoad.brotli, firstLoadLimit),
    check(`whole_app_brotli_within_${wholeAppLimit / 1024}_KiB`, sizes.wholeApp.brotli, wholeAppLimit),
  ];
}

/** The budgets (the targets). */
export const budgets = (sizes) => checks(sizes, FIRST_LOAD_BROTLI_BUDGET, WHOLE_APP_BROTLI_BUDGET);

/** The ceilings (what the test command holds the build to until the budgets are met). */
export const ceilings = (sizes) => checks(sizes, FIRST_LOAD_BROTLI_CEILING, WHOLE_APP_BROTLI_CEILING);

export const kib = (bytes) => (bytes / 1024).toFixed(1);

/** A plain-text table, also valid Markdown. */
export function formatTable(sizes) {
  const lines = [
    '| file | load | raw KiB | gzip KiB | brotli KiB |',
    '| --- | --- | ---: | ---: | ---: |',
    ...sizes.files.map((r) => `| ${r.file} | ${r.load} | ${kib(r.raw)} | ${kib(r.gzip)} | ${kib(r.brotli)} |`),
    `| **first load** (html+css+js+wasm+config) | | ${kib(sizes.firstLoad.raw)} | ${kib(sizes.firstLoad.gzip)} | ${kib(sizes.firstLoad.brotli)} |`,
    `| **whole app** (first load + lazy .js/.wasm) | | ${kib(sizes.wholeApp.raw)} | ${kib(sizes.wholeApp.gzip)} | ${kib(sizes.wholeApp.brotli)} |`,
  ];
  return lines.join('\n');
}

/** Checks in cargo test's words; returns whether all passed. */
function printChecks(checks) {
  const started = performance.now();
  console.log(`\nrunning ${checks.length} tests`);
  for (const c of checks) {
    console.log(`test ${c.name} ... ${c.ok ? 'ok' : `FAILED (${c.value} > ${c.limit})`}`);
  }
  const failed = checks.filter((c) => !c.ok).length;
  const seconds = ((performance.now() - started) / 1000).toFixed(2);
  console.log(
    `\ntest result: ${failed ? 'FAILED' : 'ok'}. ${checks.length - failed} passed; ${failed} failed; ` +
      `0 ignored; 0 measured; 0 filtered out; finished in ${seconds}s`,
  );
  return failed === 0;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const args = process.argv.slice(2);
  const dist = args.find((a) => !a.startsWith('--')) ?? 'dist';
  const sizes = measure(dist);
  console.log(formatTable(sizes));
  if (args.includes('--budget') && !printChecks(budgets(sizes))) process.exit(1);
  if (args.includes('--ceiling')) {
    const toGo = sizes.firstLoad.brotli - FIRST_LOAD_BROTLI_BUDGET;
    if (toGo > 0) console.log(`\nfirst load: ${kib(toGo)} KiB brotli above its ${kib(FIRST_LOAD_BROTLI_BUDGET)} KiB budget`);
    if (!printChecks(ceilings(sizes))) process.exit(1);
  }
}
