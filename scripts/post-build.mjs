// trunk's post-build hook (Trunk.toml): minifies the JavaScript wasm-bindgen wrote (about a
// fifth of its brotli bytes go), then writes the brotli and gzip copies of every file
// (precompress.mjs). terser comes from scripts/node_modules (scripts/setup.sh installs it).
//   node scripts/post-build.mjs DIR   (or run it as a trunk hook)
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { extname, join } from 'node:path';
import { precompress } from './precompress.mjs';

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

const dir = process.argv[2] ?? process.env.TRUNK_STAGING_DIR;
if (!dir) {
  console.error('usage: node scripts/post-build.mjs DIR (or run it as a trunk hook)');
  process.exit(2);
}
await minifyScripts(dir);
precompress(dir);
