// trunk's post-build hook (Trunk.toml), on the staging folder before trunk moves it to dist/:
// 1. slims each wasm and its wasm-bindgen JavaScript together (slim-wasm.mjs: the exports the
//    JavaScript never calls dropped, every import and export given a short name);
// 2. minifies that JavaScript (about a fifth of its brotli bytes go), and checks that no
//    wasm-bindgen name the first step renamed is left in it;
// 3. names each slimmed pair after its final bytes (see rehash below), in the HTML too;
// 4. brings any integrity attribute of the HTML up to date with the files as they are now;
// 5. writes the brotli and gzip copies of every file (precompress.mjs).
// A debug build (trunk serve, TRUNK_PROFILE=debug) is only minified and compressed.
// terser and acorn come from scripts/node_modules, binaryen's wasm-opt and wasm-metadce from
// the PATH (scripts/setup.sh installs them). Any failure fails the build.
//   node scripts/post-build.mjs DIR   (or run it as a trunk hook)
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { basename, dirname, extname, join } from 'node:path';
import { precompress } from './precompress.mjs';
import { leftOver, SlimError, slimDir } from './slim-wasm.mjs';

let terser;
try {
  terser = await import('terser');
} catch {
  console.error('terser is missing: run `bash scripts/setup.sh build` (npm ci in scripts/)');
  process.exit(1);
}

async function minifyScripts(dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      await minifyScripts(path);
    } else if (extname(entry.name) === '.js') {
      const result = await terser.minify(readFileSync(path, 'utf8'), {
        module: true,
        compress: { passes: 2 },
        mangle: true,
        format: { comments: false },
      });
      writeFileSync(path, result.code);
    }
  }
}

/** trunk names NAME.js and NAME_bg.wasm NAME-<16 hex digits>, a hash of the wasm as cargo
 *  wrote it, before wasm-bindgen, wasm-opt and this hook; the reference server and the static
 *  hosts (deploy/render.mjs) cache such names for a year. The slimmed pair only works together
 *  (the JavaScript calls the wasm's exports by their new names), and those names come from
 *  this hook and binaryen, not from the Rust code: a build with the same Rust code but another
 *  binaryen or another slim-wasm.mjs would give different files the same names, and a browser
 *  or CDN that had cached one of the two would pair it with the other. So the pair is renamed
 *  after a hash of its final bytes, 16 hex digits as trunk's, and the HTML beside it with it. */
function rehash(jsFiles) {
  for (const js of jsFiles) {
    const dir = dirname(js);
    const stem = basename(js, '.js');
    const named = /^(.*)-[0-9a-f]{16}$/.exec(stem);
    if (!named) continue; // trunk's --filehash false: nothing to keep apart
    const wasm = join(dir, `${stem}_bg.wasm`);
    const hash = createHash('sha256').update(readFileSync(js)).update(readFileSync(wasm)).digest('hex').slice(0, 16);
    const renamed = `${named[1]}-${hash}`;
    if (renamed === stem) continue;
    let found = 0;
    for (const html of readdirSync(dir).filter((f) => extname(f) === '.html')) {
      const text = readFileSync(join(dir, html), 'utf8');
      const parts = text.split(stem);
      if (parts.length === 1) continue;
      found += parts.length - 1;
      writeFileSync(join(dir, html), parts.join(renamed));
    }
    if (!found) {
      console.error(`post-build: no HTML beside ${js} names it, so it cannot be renamed after its bytes`);
      process.exit(1);
    }
    renameSync(js, join(dir, `${renamed}.js`));
    renameSync(wasm, join(dir, `${renamed}_bg.wasm`));
  }
}

/** Every integrity="sha…-…" in the HTML files of DIR whose href or src names a file beside
 *  the HTML, recomputed from that file (trunk computed them before this hook changed files). */
function refreshIntegrity(dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      refreshIntegrity(path);
      continue;
    }
    if (extname(entry.name) !== '.html') continue;
    const html = readFileSync(path, 'utf8');
    const updated = html.replace(/<[a-z]+\b[^>]*\bintegrity=[^>]*>/gi, (tag) => {
      const url = /\b(?:href|src)=["']?([^"'\s>]+)/i.exec(tag)?.[1];
      const file = url && join(dirname(path), decodeURIComponent(url.split(/[?#]/)[0].split('/').pop()));
      if (!file || !existsSync(file)) return tag;
      return tag.replace(/\bintegrity=(["']?)(sha256|sha384|sha512)-[A-Za-z0-9+/=]+\1/i, (_, quote, algorithm) => {
        const digest = createHash(algorithm.toLowerCase()).update(readFileSync(file)).digest('base64');
        return `integrity=${quote}${algorithm}-${digest}${quote}`;
      });
    });
    if (updated !== html) writeFileSync(path, updated);
  }
}

const dir = process.argv[2] ?? process.env.TRUNK_STAGING_DIR;
if (!dir) {
  console.error('usage: node scripts/post-build.mjs DIR (or run it as a trunk hook)');
  process.exit(2);
}
let slimmed = [];
if (process.env.TRUNK_PROFILE !== 'debug') {
  try {
    slimmed = slimDir(dir);
  } catch (error) {
    console.error(error instanceof SlimError ? error.message : error);
    process.exit(1);
  }
}
await minifyScripts(dir);
for (const js of slimmed) {
  const left = leftOver(readFileSync(js, 'utf8'));
  if (left) {
    console.error(`post-build: ${js} still has ${left} after slim-wasm.mjs and terser`);
    process.exit(1);
  }
}
rehash(slimmed);
refreshIntegrity(dir);
precompress(dir);
