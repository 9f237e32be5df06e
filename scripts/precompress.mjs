// Writes a brotli (.br) and a gzip (.gz) copy beside every text and wasm file of a built app, at
// the strongest levels, so any static host (and the reference server) can send them as they are
// instead of compressing on every request. trunk runs it after each build (Trunk.toml); also
//   node scripts/precompress.mjs DIR
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { extname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import zlib from 'node:zlib';

const COMPRESSIBLE = new Set(['.html', '.css', '.js', '.wasm', '.svg', '.txt']);
// config.json is left alone: operators edit it after the build, and a stale copy would win.

export const gzip = (bytes) => zlib.gzipSync(bytes, { level: 9 });

export const brotli = (bytes) =>
  zlib.brotliCompressSync(bytes, {
    params: {
      [zlib.constants.BROTLI_PARAM_QUALITY]: 11,
      [zlib.constants.BROTLI_PARAM_SIZE_HINT]: bytes.length,
    },
  });

export function precompress(dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      precompress(path);
    } else if (COMPRESSIBLE.has(extname(entry.name))) {
      const bytes = readFileSync(path);
      writeFileSync(`${path}.br`, brotli(bytes));
      writeFileSync(`${path}.gz`, gzip(bytes));
    }
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const dir = process.argv[2] ?? process.env.TRUNK_STAGING_DIR;
  if (!dir) {
    console.error('usage: node scripts/precompress.mjs DIR (or run it as a trunk hook)');
    process.exit(2);
  }
  precompress(dir);
}
