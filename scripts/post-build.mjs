// trunk's post-build hook (Trunk.toml), on the staging folder before trunk moves it to dist/:
// 1. slims each wasm and its wasm-bindgen JavaScript together (slim-wasm.mjs: the exports the
//    JavaScript never calls dropped, every import and export given a short name);
// 2. minifies that JavaScript (about a fifth of its brotli bytes go), and checks that no
//    wasm-bindgen name the first step renamed is left in it;
// 3. brings any integrity attribute of the HTML up to date with the files as they are now;
// 4. writes the brotli and gzip copies of every file (precompress.mjs).
// terser and acorn come from scripts/node_modules, binaryen's wasm-opt and wasm-metadce from
// the PATH (scripts/setup.sh installs them). Any failure fails the build.
//   node scripts/post-build.mjs DIR   (or run it as a trunk hook)
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, extname, join } from 'node:path';
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
let slimmed;
try {
  slimmed = slimDir(dir);
} catch (error) {
  console.error(error instanceof SlimError ? error.message : error);
  process.exit(1);
}
await minifyScripts(dir);
for (const js of slimmed) {
  const left = leftOver(readFileSync(js, 'utf8'));
  if (left) {
    console.error(`post-build: ${js} still has ${left} after slim-wasm.mjs and terser`);
    process.exit(1);
  }
}
refreshIntegrity(dir);
precompress(dir);
