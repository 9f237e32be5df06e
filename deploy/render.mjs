// Writes ready-to-use static-host configurations for a built app (trunk's dist/) whose login API
// is on another origin: nginx, Caddy, and _headers/_redirects for Netlify and Cloudflare Pages,
// plus the config.json that points the app at the API (the build's own, with api_base set).
// The app is two pages, each a build of its own: the login (index.html) and the account screens
// (account/index.html, with its files under account/). Each configuration carries one
// Content-Security-Policy for both, with the SHA-256 of the inline scripts of each page's
// index.html (computed here, as the reference server does) and the API's origin in
// connect-src; the SPA fallback per page (/account and paths under /account/ that are no file
// get account/index.html, every other such path index.html; a build without account/index.html
// gets index.html everywhere); a year's immutable cache for hashed file names (under /account/
// too) and no-cache for both index.html files and config.json.
//
//   node deploy/render.mjs --api-origin https://login-api.example.com [options]
//
// Options (defaults in brackets):
//   --api-origin ORIGIN   the login API, scheme://host[:port] (required)
//   --dist DIR            the built app to read the pages' index.html and the file names from
//                         [dist/ of this repository]
//   --out DIR             where to write the configurations [deploy/out/ of this repository]
//   --root DIR            where the host serves the app's files from [/var/www/member-login]
//   --server-name NAME    the app's host name (nginx server_name, Caddy's site address) [any]
//   --listen ADDR         where to listen, [HOST:]PORT (nginx; Caddy's port and bind)
//                         [80, or 443 with TLS]
//   --tls-cert FILE       serve HTTPS with this PEM certificate chain (and --tls-key)
//   --tls-key FILE        its PEM private key
//   --brotli auto|on|off  nginx sends the build's .br copies (needs the brotli_static module;
//                         auto: on when MODULES/ngx_http_brotli_static_module.so exists) [auto]
//   --nginx-modules DIR   where nginx's dynamic modules are [/usr/lib/nginx/modules]
//   --mime-types FILE     nginx's MIME types file, for nginx.conf [/etc/nginx/mime.types]
//   --csp-report-uri URI  add report-uri URI to the policy, to collect violation reports
//
// Render again after every build: the hashes and the hashed file names change with it.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

const HERE = dirname(fileURLToPath(import.meta.url));
const TEMPLATES = join(HERE, 'templates');
// trunk's hashed output names: NAME-<hash>.css, .js and _bg.wasm, the hash a 64-bit number in
// hex without leading zeros (so up to 16 digits), at the root (the login's) or under account/
// (the account page's); tested on a path without its leading slash.
export const HASHED = /^(account\/)?[^/]+-[0-9a-f]{1,16}(_bg)?\.(js|wasm|css)$/;
// The account screens' page, from the build's root.
export const ACCOUNT_INDEX = 'account/index.html';
const BROTLI_MODULE = 'ngx_http_brotli_static_module.so';

/** The bodies of the `<script>` or `<style>` elements (`element`) without `src`, exactly as
 * the reference server finds them (server/src/static_files.rs): the browser hashes these bytes. */
export function inlineBodies(html, element) {
  return html
    .split(`<${element}`)
    .slice(1)
    .flatMap((rest) => {
      // `<style>` or `<style …>`, not `<styles>` (the characters the server accepts).
      if (!/^[> \t\n\r]/.test(rest)) return [];
      const close = rest.indexOf('>');
      if (close < 0) return [];
      const attributes = rest.slice(0, close);
      const after = rest.slice(close + 1);
      const end = after.indexOf(`</${element}>`);
      if (end < 0) return [];
      const body = after.slice(0, end);
      return !attributes.includes('src=') && body !== '' ? [body] : [];
    });
}

/** The `'sha256-…'` source of each inline `element` of the pages, each body once, in order. */
const hashesOf = (pages, element) => [
  ...new Set(
    pages
      .flatMap((html) => inlineBodies(html, element))
      .map((body) => `'sha256-${createHash('sha256').update(body, 'utf8').digest('base64')}'`),
  ),
];

/** The app's Content-Security-Policy on a host of its own, talking to the API at `apiOrigin`:
 * one policy for the pages (`pages`: each page's index.html), allowing the inline scripts and
 * stylesheets of each, every one once, in the pages' order. */
export function contentSecurityPolicy(pages, apiOrigin, reportUri) {
  const directives = [
    "default-src 'none'",
    ['script-src', "'self'", "'wasm-unsafe-eval'", ...hashesOf(pages, 'script')].join(' '),
    ['style-src', "'self'", ...hashesOf(pages, 'style')].join(' '),
    "img-src 'self' data: https:",
    `connect-src 'self' ${apiOrigin}`,
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ];
  if (reportUri) directives.push(`report-uri ${reportUri}`);
  return directives.join('; ');
}

/** `scheme://host[:port]` of a URL that names nothing but an origin. */
export function apiOriginOf(text) {
  let url;
  try {
    url = new URL(text);
  } catch {
    throw new Error(`--api-origin ${text}: not a URL (want https://login-api.example.com)`);
  }
  if (!['https:', 'http:'].includes(url.protocol)) {
    throw new Error(`--api-origin ${text}: the API is reached over https (or http on loopback)`);
  }
  if (url.pathname !== '/' || url.search || url.hash || url.username || url.password) {
    throw new Error(`--api-origin ${text}: an origin only, scheme://host[:port], no path`);
  }
  return url.origin;
}

/** Fills `{{NAME}}`: a placeholder alone on its line becomes `values[NAME]`'s lines at that
 * indentation (none when it is empty); one within a line is replaced in place. */
export function fill(template, values) {
  const value = (name) => {
    if (!(name in values)) throw new Error(`template placeholder {{${name}}} has no value`);
    return values[name];
  };
  return template
    .split('\n')
    .flatMap((line) => {
      const alone = line.match(/^(\s*)\{\{([A-Z_]+)\}\}$/);
      if (alone) {
        const text = value(alone[2]);
        return text === '' ? [] : text.split('\n').map((l) => (l === '' ? l : alone[1] + l));
      }
      return [line.replace(/\{\{([A-Z_]+)\}\}/g, (_, name) => value(name))];
    })
    .join('\n');
}

/** Every file of the build, as paths from its root with a leading slash (hidden entries left
 * out: trunk stages a build in dist/.stage). */
function filesOf(dir, base = dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    if (entry.name.startsWith('.')) return [];
    const path = join(dir, entry.name);
    return entry.isDirectory() ? filesOf(path, base) : ['/' + relative(base, path)];
  });
}

// Paths go into config files unquoted: refuse what would need quoting there.
function plainPath(option, path) {
  if (/[\s"'`;{}#$\\]/.test(path)) {
    throw new Error(`${option} ${path}: use a path without spaces, quotes or ;{}#$\\`);
  }
  return path;
}

export function render(args) {
  if (!args['api-origin']) {
    throw new Error('--api-origin is required (the login API: https://login-api.example.com)');
  }
  const apiOrigin = apiOriginOf(args['api-origin']);
  const dist = resolve(args.dist ?? join(HERE, '..', 'dist'));
  const out = resolve(args.out ?? join(HERE, 'out'));
  const root = plainPath('--root', args.root ?? '/var/www/member-login');
  if (!root.startsWith('/')) throw new Error(`--root ${root}: an absolute path on the host`);
  const tlsCert = args['tls-cert'] && plainPath('--tls-cert', resolve(args['tls-cert']));
  const tlsKey = args['tls-key'] && plainPath('--tls-key', resolve(args['tls-key']));
  if (!tlsCert !== !tlsKey) throw new Error('--tls-cert and --tls-key go together');
  const tls = Boolean(tlsCert);
  const serverName = args['server-name'];
  if (serverName !== undefined && !/^[A-Za-z0-9.-]+$/.test(serverName)) {
    throw new Error(`--server-name ${serverName}: a host name, such as login.example.com`);
  }
  const listen = args.listen ?? (tls ? '443' : '80');
  const listenMatch = listen.match(/^(?:(\[[0-9a-fA-F:]+\]|[0-9.]+|localhost):)?([0-9]{1,5})$/);
  if (!listenMatch) {
    throw new Error(`--listen ${listen}: [HOST:]PORT, such as 8080 or 127.0.0.1:8443`);
  }
  const [, listenHost, port] = listenMatch;
  const modules = args['nginx-modules'] ?? '/usr/lib/nginx/modules';
  const brotliWanted = args.brotli ?? 'auto';
  if (!['auto', 'on', 'off'].includes(brotliWanted)) throw new Error('--brotli auto, on or off');
  const brotli =
    brotliWanted === 'on' || (brotliWanted === 'auto' && existsSync(join(modules, BROTLI_MODULE)));
  const reportUri = args['csp-report-uri'];
  if (reportUri !== undefined && /[\s"';,]/.test(reportUri)) {
    throw new Error(`--csp-report-uri ${reportUri}: a URL without spaces, quotes, ; or ,`);
  }

  const indexPath = join(dist, 'index.html');
  if (!existsSync(indexPath)) {
    throw new Error(`${indexPath} is missing: build the app first (bash scripts/build-app.sh)`);
  }
  // The account page, when the build has it (an older build is the login alone).
  const accountPath = join(dist, ACCOUNT_INDEX);
  const account = existsSync(accountPath);
  const pages = [indexPath, ...(account ? [accountPath] : [])].map((p) => readFileSync(p, 'utf8'));
  const csp = contentSecurityPolicy(pages, apiOrigin, reportUri);
  const files = filesOf(dist);
  const hashed = files.filter((f) => HASHED.test(f.slice(1)));
  const warnings = [];
  if (!account) {
    warnings.push(`${accountPath} is missing: every path gets index.html (an older build?)`);
  }
  // Served no-cache by design (account/404.html: the account page's copy for Cloudflare Pages).
  const revalidated = ['/index.html', `/${ACCOUNT_INDEX}`, '/account/404.html', '/config.json'];
  for (const f of files) {
    const known = HASHED.test(f.slice(1)) || revalidated.includes(f);
    if (!known && !/\.(br|gz)$/.test(f)) {
      warnings.push(`${f} has no hashed name: it is served with no-cache`);
    }
  }
  const loopback = /^http:\/\/(127\.0\.0\.1|localhost|\[::1\])(:|$)/.test(apiOrigin);
  if (apiOrigin.startsWith('http:') && !loopback) {
    warnings.push(
      `${apiOrigin} is plain http: the session cookie is Secure, so logins only work over https`,
    );
  }

  const renderedBy = `# Rendered by deploy/render.mjs for the login API at ${apiOrigin}.`;
  // Caddy: the host name's own HTTPS (Caddy gets the certificate) unless TLS files are given;
  // without a name, the port alone.
  const caddyAddress =
    (tls ? 'https://' : '') +
    (serverName ?? listenHost ?? '') +
    (args.listen || !serverName ? `:${port}` : '');
  const caddySite = [
    listenHost ? `bind ${listenHost.replace(/^\[|\]$/g, '')}` : '',
    tls ? `tls ${tlsCert} ${tlsKey}` : '',
  ].filter(Boolean);
  const values = {
    RENDERED_BY: renderedBy,
    OUT: out,
    CSP: csp,
    ROOT: root,
    LISTEN: `${listenHost ? `${listenHost}:` : ''}${port}${tls ? ' ssl' : ''}`,
    SERVER_NAME: serverName ?? '_',
    TLS: tls ? `ssl_certificate ${tlsCert};\nssl_certificate_key ${tlsKey};\n` : '',
    BROTLI: brotli
      ? '# ... and the .br copy to browsers that accept brotli (the brotli_static module: on\n' +
        "# Debian, the package libnginx-mod-http-brotli-static).\nbrotli_static on;"
      : '',
    LOAD_BROTLI: brotli ? `load_module ${join(modules, BROTLI_MODULE)};` : '',
    MIME_TYPES: plainPath('--mime-types', args['mime-types'] ?? '/etc/nginx/mime.types'),
    CADDY_ADDRESS: caddyAddress,
    CADDY_SITE: caddySite.length ? `${caddySite.join('\n')}\n` : '',
    HASHED_FILES: hashed
      .map((f) => `${f}\n  Cache-Control: public, max-age=31536000, immutable`)
      .join('\n'),
    // The account page's fallback: nothing for a build without it (then index.html serves
    // every path, as the rules after these say).
    NGINX_ACCOUNT: account
      ? [
          '# The account screens: /account and a path under /account/ that is no file',
          '# (/account/mfa, ...) get the account page.',
          'location ~ ^/account(/|$) {',
          `    try_files $uri /${ACCOUNT_INDEX};`,
          '}',
        ].join('\n')
      : '',
    CADDY_ACCOUNT: account
      ? [
          '# The account screens: /account and a path under /account/ that is no file',
          '# (/account/mfa, ...) get the account page.',
          '@account {',
          '\tpath /account /account/*',
          '\tnot file',
          '}',
          `rewrite @account /${ACCOUNT_INDEX}`,
        ].join('\n')
      : '',
    ACCOUNT_NO_CACHE: account
      ? [
          '# The account page: its own paths. Not /account/*, which would match its hashed files',
          '# too; its screens\' paths (/account/mfa, ...) get the host\'s default, which Netlify and',
          '# Cloudflare Pages both have revalidated on each use (max-age=0, must-revalidate).',
          '/account',
          '  Cache-Control: no-cache',
          '/account/',
          '  Cache-Control: no-cache',
          `/${ACCOUNT_INDEX}`,
          '  Cache-Control: no-cache',
        ].join('\n')
      : '/account/*\n  Cache-Control: no-cache',
    NETLIFY_ACCOUNT: account
      ? `/account  /${ACCOUNT_INDEX}  200\n/account/*  /${ACCOUNT_INDEX}  200`
      : '',
  };

  mkdirSync(out, { recursive: true });
  const written = [];
  const names = ['nginx.conf', 'member-login.nginx.conf', 'Caddyfile', '_headers', '_redirects'];
  for (const name of names) {
    const text = fill(readFileSync(join(TEMPLATES, name), 'utf8'), values);
    writeFileSync(join(out, name), text.endsWith('\n') ? text : `${text}\n`);
    written.push(name);
  }
  // The build's config.json with api_base set; any other setting in it is kept.
  const configPath = join(dist, 'config.json');
  const config = existsSync(configPath) ? JSON.parse(readFileSync(configPath, 'utf8')) : {};
  const configured = { ...config, api_base: apiOrigin };
  writeFileSync(join(out, 'config.json'), `${JSON.stringify(configured, null, 2)}\n`);
  written.push('config.json');
  return { out, csp, account, brotli, hashed, written, warnings };
}

/** The usage and options, from this file's opening comment. */
function usage() {
  const source = readFileSync(fileURLToPath(import.meta.url), 'utf8');
  const start = source.indexOf('//   node deploy/render.mjs');
  const end = source.indexOf('\n//\n// Render again');
  const lines = source
    .slice(start, end)
    .split('\n')
    .map((line) => line.replace(/^\/\/ ?/, ''));
  return ['usage:', ...lines].join('\n');
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const names = ['api-origin', 'dist', 'out', 'root', 'server-name', 'listen', 'tls-cert',
    'tls-key', 'brotli', 'nginx-modules', 'mime-types', 'csp-report-uri'];
  const options = Object.fromEntries(names.map((name) => [name, { type: 'string' }]));
  try {
    const { values } = parseArgs({ options, strict: true });
    const result = render(values);
    console.log(`Wrote ${result.written.join(', ')} to ${result.out}`);
    const pages = result.account ? 'index.html, account/index.html' : 'index.html alone';
    console.log(`Pages: ${pages}`);
    console.log(`Content-Security-Policy: ${result.csp}`);
    const brotli = result.brotli ? 'yes (brotli_static)' : 'no (.gz only; see --brotli)';
    console.log(`nginx sends .br copies: ${brotli}`);
    for (const w of result.warnings) console.warn(`warning: ${w}`);
  } catch (error) {
    console.error(`render.mjs: ${error.message}\n`);
    console.error(usage());
    process.exit(2);
  }
}
