// Two size cuts on each wasm and its wasm-bindgen JavaScript, made together so the two always
// agree (docs/PERFORMANCE.md measures them). post-build.mjs runs it before terser:
//
// 1. Exports the JavaScript never calls are dropped from the wasm, with the code only they
//    reach, by binaryen's wasm-metadce. Most are server_fn's stream classes from wasm-streams
//    (IntoUnderlyingSource, IntoUnderlyingByteSource, IntoUnderlyingSink), which Leptos links in
//    and the app never uses: their classes are taken out of the JavaScript first, so their
//    exports are no longer called. The others are `main` (the JavaScript starts the app with
//    `__wbindgen_start`), `__wbindgen_free`, wasm-bindgen's abort-handler globals (read only
//    with `--force-enable-abort-handler`) and a wasm-split marker. Imports only the dropped
//    code used go from the wasm and from the JavaScript's import object.
// 2. Every import and export gets a one- or two-letter name, by binaryen's
//    `--minify-imports-and-exports-and-modules`: wasm-bindgen names each imported JavaScript
//    function `__wbg_<name>_<16 hex digits>`, once in the wasm and once in the JavaScript, and
//    the hex digits do not compress. The same names are then replaced in the JavaScript. The
//    module's init() still resolves to the wasm's exports, now under the short names; the
//    app's loader (Trunk.toml) does not use them.
//
// The JavaScript is edited through its syntax tree (acorn), never by searching its text, and
// every step is checked: an import of the wasm the import object lacks, an export the
// JavaScript calls that the wasm lacks, the exports object used other than as `wasm.NAME`, a
// dropped class still used, a name left over or half renamed: each fails the build.
//   node scripts/slim-wasm.mjs DIR   (every NAME.js with a NAME_bg.wasm beside it, in place)
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

let acorn;
try {
  acorn = await import('acorn');
} catch {
  console.error('acorn is missing: run `bash scripts/setup.sh build` (npm ci in scripts/)');
  process.exit(1);
}

/** wasm-bindgen's exported classes the app never uses (server_fn → wasm-streams). */
export const UNUSED_CLASSES = ['IntoUnderlyingByteSource', 'IntoUnderlyingSink', 'IntoUnderlyingSource'];

export class SlimError extends Error {}
const fail = (file, message) => {
  throw new SlimError(`slim-wasm: ${file}: ${message}`);
};

// --- the wasm's import and export sections ---------------------------------------------------

const KINDS = ['func', 'table', 'memory', 'global', 'tag'];

/** The imports ({module, name, kind}) and exports ({name, kind}) of a wasm binary. */
export function wasmInterface(bytes) {
  let at = 0;
  const byte = () => {
    if (at >= bytes.length) throw new Error('wasm ends early');
    return bytes[at++];
  };
  const u32 = () => {
    let result = 0;
    let shift = 0;
    for (;;) {
      const b = byte();
      result += (b & 0x7f) * 2 ** shift;
      if (!(b & 0x80)) return result;
      shift += 7;
    }
  };
  const name = () => {
    const length = u32();
    const text = new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(at, at + length));
    at += length;
    return text;
  };
  const limits = () => {
    const flags = byte();
    u32();
    if (flags & 1) u32();
  };
  const valType = () => {
    const t = byte();
    if (t === 0x63 || t === 0x64) u32(); // (ref null? heaptype): a non-negative type index or a one-byte abstract type
  };
  if (bytes.length < 8 || bytes[0] !== 0 || bytes[1] !== 0x61 || bytes[2] !== 0x73 || bytes[3] !== 0x6d) {
    throw new Error('not a wasm binary');
  }
  at = 8;
  const imports = [];
  const exports = [];
  while (at < bytes.length) {
    const id = byte();
    const size = u32();
    const end = at + size;
    if (id === 2) {
      for (let n = u32(); n > 0; n--) {
        const module = name();
        const field = name();
        const kind = byte();
        if (kind === 0) u32();
        else if (kind === 1) (valType(), limits());
        else if (kind === 2) limits();
        else if (kind === 3) (valType(), byte());
        else if (kind === 4) (byte(), u32());
        else throw new Error(`import of unknown kind ${kind}`);
        imports.push({ module, name: field, kind: KINDS[kind] });
      }
      if (at !== end) throw new Error('import section has bytes left over');
    } else if (id === 7) {
      for (let n = u32(); n > 0; n--) {
        const field = name();
        const kind = byte();
        u32();
        exports.push({ name: field, kind: KINDS[kind] ?? `kind ${kind}` });
      }
      if (at !== end) throw new Error('export section has bytes left over');
    }
    at = end;
  }
  return { imports, exports };
}

// --- the JavaScript ----------------------------------------------------------------------------

/** Every node of an acorn tree, with its parent. */
function walk(node, visit, parent = null) {
  visit(node, parent);
  for (const value of Object.values(node)) {
    if (Array.isArray(value)) {
      for (const child of value) if (child && typeof child.type === 'string') walk(child, visit, node);
    } else if (value && typeof value.type === 'string' && value !== parent) {
      walk(value, visit, node);
    }
  }
}

const keyName = (property) =>
  property.computed
    ? null
    : property.key.type === 'Identifier'
      ? property.key.name
      : typeof property.key.value === 'string'
        ? property.key.value
        : null;

/** What of wasm-bindgen's JavaScript this step touches: the import object (module name →
 *  import name → its property node), where it names the module, every `wasm.NAME` (an export
 *  it calls), and the statements of the unused classes. */
function readGlue(file, code) {
  const tree = acorn.parse(code, { ecmaVersion: 'latest', sourceType: 'module' });

  // The import object: `function __wbg_get_imports() { const import0 = {…}; … return {
  // __proto__: null, "./NAME_bg.js": import0 }; }`.
  const getImports = tree.body.find(
    (s) => s.type === 'FunctionDeclaration' && s.id?.name === '__wbg_get_imports',
  );
  if (!getImports) fail(file, 'no __wbg_get_imports function: is this wasm-bindgen’s JavaScript?');
  const returned = getImports.body.body.filter((s) => s.type === 'ReturnStatement');
  if (returned.length !== 1 || returned[0].argument?.type !== 'ObjectExpression') {
    fail(file, '__wbg_get_imports does not return one object literal');
  }
  const objects = new Map();
  for (const s of getImports.body.body) {
    if (s.type !== 'VariableDeclaration') continue;
    for (const d of s.declarations) {
      if (d.id.type === 'Identifier' && d.init?.type === 'ObjectExpression') objects.set(d.id.name, d.init);
    }
  }
  const modules = new Map(); // module name → { key: the property naming it, imports: Map name → property }
  for (const property of returned[0].argument.properties) {
    const module = property.type === 'Property' ? keyName(property) : null;
    if (module === '__proto__') continue;
    if (module === null || property.value.type !== 'Identifier' || !objects.has(property.value.name)) {
      fail(file, 'the object __wbg_get_imports returns is not { "module": importN, … }');
    }
    const imports = new Map();
    for (const p of objects.get(property.value.name).properties) {
      const name = p.type === 'Property' ? keyName(p) : null;
      if (name === null) fail(file, `the import object of ${module} has a property that is not a plain name`);
      if (name !== '__proto__') imports.set(name, p);
    }
    modules.set(module, { key: property, imports });
  }

  // `let wasm;` at the top, and every use of it as `wasm.NAME`.
  const declared = tree.body.some(
    (s) => s.type === 'VariableDeclaration' && s.declarations.some((d) => d.id.name === 'wasm'),
  );
  if (!declared) fail(file, 'no top-level `wasm` variable: is this wasm-bindgen’s JavaScript?');
  const calls = []; // { name, node: the property identifier }
  walk(tree, (node, parent) => {
    if (node.type === 'MemberExpression' && node.object.type === 'Identifier' && node.object.name === 'wasm') {
      if (node.computed || node.property.type !== 'Identifier') fail(file, 'the wasm’s exports are read by a computed name');
      calls.push({ name: node.property.name, node: node.property });
    }
    // The exports object reaches the JavaScript once, as `wasm = instance.exports`, and goes
    // nowhere else but `return wasm` (init() resolves to it; the app's loader ignores that):
    // an alias would call exports this step does not see.
    if (node.type === 'MemberExpression' && !node.computed && node.property.name === 'exports') {
      if (!(parent?.type === 'AssignmentExpression' && parent.right === node && parent.left.name === 'wasm')) {
        fail(file, 'the wasm’s exports are read other than by `wasm = instance.exports`');
      }
    }
    if (node.type === 'Identifier' && node.name === 'wasm') {
      const fine =
        (parent.type === 'MemberExpression' && (parent.object === node || (parent.property === node && !parent.computed))) ||
        (parent.type === 'Property' && parent.key === node && !parent.computed && !parent.shorthand) ||
        (parent.type === 'VariableDeclarator' && parent.id === node) ||
        (parent.type === 'AssignmentExpression' && parent.left === node) ||
        (parent.type === 'BinaryExpression' && /^[!=]==?$/.test(parent.operator)) ||
        parent.type === 'ReturnStatement';
      if (!fine) fail(file, 'the wasm’s exports object is used other than as wasm.NAME');
    }
  });

  // The unused classes: `export class X {…}`, `if (Symbol.dispose) X.prototype… = …;` and
  // `const XFinalization = …;`, all at the top level.
  const drops = [];
  for (const name of UNUSED_CLASSES) {
    const statements = tree.body.filter((s) => {
      if (s.type === 'ExportNamedDeclaration') return s.declaration?.type === 'ClassDeclaration' && s.declaration.id.name === name;
      if (s.type === 'VariableDeclaration') return s.declarations.length === 1 && s.declarations[0].id.name === `${name}Finalization`;
      if (s.type === 'IfStatement') {
        return code.slice(s.test.start, s.test.end) === 'Symbol.dispose' && code.slice(s.consequent.start, s.consequent.end).startsWith(`${name}.prototype[`);
      }
      return false;
    });
    if (statements.length === 0) continue; // not in this build
    if (statements.length !== 3) fail(file, `class ${name} is not the three statements it should be`);
    drops.push({ name, statements });
  }
  return { tree, modules, calls, drops };
}

/** The text with each [start, end) range replaced; the ranges must not overlap. */
function edit(file, code, edits) {
  edits.sort((a, b) => a.start - b.start);
  let out = '';
  let at = 0;
  for (const e of edits) {
    if (e.start < at) fail(file, 'two edits of the JavaScript overlap');
    out += code.slice(at, e.start) + e.text;
    at = e.end;
  }
  return out + code.slice(at);
}

/** A property removed with the comma after it (wasm-bindgen writes one after every property). */
function removal(code, node) {
  let end = node.end;
  const after = /^\s*,/.exec(code.slice(end));
  if (after) end += after[0].length;
  return { start: node.start, end, text: '' };
}

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

// --- binaryen -----------------------------------------------------------------------------------

function run(file, tool, args) {
  try {
    return execFileSync(tool, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 << 20 });
  } catch (error) {
    if (error.code === 'ENOENT') fail(file, `${tool} is missing: run \`bash scripts/setup.sh build\` (binaryen)`);
    fail(file, `${tool} failed: ${error.stderr || error.message}`);
  }
}

// --- one pair -----------------------------------------------------------------------------------

/** Slims NAME.js and NAME_bg.wasm in place; returns what it did. */
export function slimPair(jsPath, wasmPath) {
  const file = jsPath;
  const code = readFileSync(jsPath, 'utf8');
  const wasmIn = readFileSync(wasmPath);
  const glue = readGlue(file, code);
  const before = wasmInterface(wasmIn);

  // The JavaScript must provide every import of the wasm.
  for (const i of before.imports) {
    if (!glue.modules.get(i.module)?.imports.has(i.name)) {
      fail(file, `the wasm imports ${i.module} ${i.name}, which the JavaScript’s import object lacks`);
    }
  }

  // What the JavaScript still calls once the unused classes are gone.
  const dropped = glue.drops.flatMap((d) => d.statements);
  const inDropped = (node) => dropped.some((s) => s.start <= node.start && node.end <= s.end);
  const calls = glue.calls.filter((c) => !inDropped(c.node));
  const exportNames = new Set(before.exports.map((e) => e.name));
  for (const c of calls) {
    if (!exportNames.has(c.name)) fail(file, `the JavaScript calls wasm.${c.name}, which the wasm does not export`);
  }
  for (const d of glue.drops) {
    walk(glue.tree, (node) => {
      if (node.type === 'Identifier' && (node.name === d.name || node.name === `${d.name}Finalization`) && !inDropped(node)) {
        fail(file, `${node.name} is still used after its class is dropped`);
      }
    });
  }
  const called = new Set(calls.map((c) => c.name));

  const work = mkdtempSync(join(tmpdir(), 'slim-wasm-'));
  try {
    // 1. Every export the JavaScript does not call is dead, and what only it reaches.
    const graph = [
      { name: 'js', root: true, reaches: before.exports.filter((e) => called.has(e.name)).map((e) => `export:${e.name}`) },
      ...before.exports.map((e) => ({ name: `export:${e.name}`, export: e.name })),
      ...before.imports.map((i) => ({ name: `import:${i.module}:${i.name}`, import: [i.module, i.name] })),
    ];
    writeFileSync(join(work, 'graph.json'), JSON.stringify(graph));
    run(file, 'wasm-metadce', [wasmPath, '--graph-file', join(work, 'graph.json'), '-o', join(work, 'dce.wasm')]);
    const dce = wasmInterface(readFileSync(join(work, 'dce.wasm')));
    const kept = new Set(dce.exports.map((e) => e.name));
    for (const name of called) if (!kept.has(name)) fail(file, `wasm-metadce dropped the export ${name}, which the JavaScript calls`);
    const droppedExports = before.exports.filter((e) => !kept.has(e.name)).map((e) => e.name);
    const keptImports = new Set(dce.imports.map((i) => `${i.module}\0${i.name}`));
    const droppedImports = before.imports.filter((i) => !keptImports.has(`${i.module}\0${i.name}`));

    // 2. Short names. The map binaryen prints: imports [module, old, new], exports [old, new].
    const printed = run(file, 'wasm-opt', [
      join(work, 'dce.wasm'),
      '--minify-imports-and-exports-and-modules',
      // Optimised again: binaryen writes a module it has not optimised itself (as after
      // wasm-metadce) with plainer code, 1.4 KB of brotli more; -Oz wins that back, and a
      // little more than trunk's -Oz left.
      '-Oz',
      '-o',
      join(work, 'min.wasm'),
    ]);
    const json = printed.slice(printed.indexOf('{'), printed.lastIndexOf('}') + 1);
    let map;
    try {
      map = JSON.parse(json);
    } catch {
      fail(file, `wasm-opt printed no map of the new names: ${printed.slice(0, 200)}`);
    }
    const wasmOut = readFileSync(join(work, 'min.wasm'));
    const after = wasmInterface(wasmOut);

    // The map must cover every import and export, each once, and name what the new wasm has.
    const importMap = new Map(); // "module\0old" → new
    for (const [module, old, renamed] of map.imports ?? []) {
      const key = `${module}\0${old}`;
      if (importMap.has(key)) fail(file, `wasm-opt's map names the import ${old} twice`);
      importMap.set(key, renamed);
    }
    const exportMap = new Map((map.exports ?? []).map(([old, renamed]) => [old, renamed]));
    if (importMap.size !== dce.imports.length || exportMap.size !== dce.exports.length) {
      fail(file, `wasm-opt's map has ${importMap.size} imports and ${exportMap.size} exports, the wasm ${dce.imports.length} and ${dce.exports.length}`);
    }
    const moduleMap = new Map(); // old module → new module
    const newImports = new Map(after.imports.map((i) => [i.name, i]));
    if (newImports.size !== after.imports.length) fail(file, 'two imports of the renamed wasm have one name');
    for (const i of dce.imports) {
      const renamed = importMap.get(`${i.module}\0${i.name}`);
      const now = renamed === undefined ? undefined : newImports.get(renamed);
      if (!now || now.kind !== i.kind) fail(file, `the import ${i.name} has no ${i.kind} import under its new name`);
      if (moduleMap.has(i.module) && moduleMap.get(i.module) !== now.module) fail(file, `the imports of ${i.module} went to two modules`);
      moduleMap.set(i.module, now.module);
    }
    const newExports = new Map(after.exports.map((e) => [e.name, e]));
    for (const e of dce.exports) {
      const now = newExports.get(exportMap.get(e.name));
      if (!now || now.kind !== e.kind) fail(file, `the export ${e.name} has no ${e.kind} export under its new name`);
    }
    for (const renamed of [...importMap.values(), ...exportMap.values(), ...moduleMap.values()]) {
      if (!IDENTIFIER.test(renamed)) fail(file, `wasm-opt gave the name ${JSON.stringify(renamed)}, which is no JavaScript identifier`);
    }
    // wasm-bindgen gives each module an import object of its own (the app's snippets would be
    // more modules); binaryen puts every import into one module, which two import objects
    // cannot be. Not needed yet, so not done.
    const newModules = new Set(moduleMap.values());
    if (newModules.size !== moduleMap.size) {
      fail(file, `binaryen merged the modules ${[...moduleMap.keys()].join(', ')} into one; the JavaScript has an import object for each`);
    }

    // 3. The JavaScript: the classes out, the dropped imports out, every name renamed.
    const edits = [];
    for (const s of dropped) edits.push(removal(code, s));
    for (const i of droppedImports) edits.push(removal(code, glue.modules.get(i.module).imports.get(i.name)));
    for (const [module, { key, imports }] of glue.modules) {
      if (!moduleMap.has(module)) {
        // Every import of this module was dropped: drop the module from the import object.
        edits.push(removal(code, key));
        for (const p of imports.values()) if (!edits.some((e) => e.start === p.start)) edits.push(removal(code, p));
        continue;
      }
      edits.push({ start: key.key.start, end: key.key.end, text: JSON.stringify(moduleMap.get(module)) });
      for (const [name, p] of imports) {
        const renamed = importMap.get(`${module}\0${name}`);
        if (renamed !== undefined) edits.push({ start: p.key.start, end: p.key.end, text: renamed });
        else if (!droppedImports.some((i) => i.module === module && i.name === name)) {
          // An import object entry the wasm never imported: wasm-bindgen does not write such.
          fail(file, `the JavaScript provides ${module} ${name}, which the wasm does not import`);
        }
      }
    }
    for (const c of calls) edits.push({ start: c.node.start, end: c.node.end, text: exportMap.get(c.name) });
    const out = edit(file, code, edits);

    // 4. Check the result as the browser will see it: the import object has exactly the wasm's
    //    imports, every export called is one the wasm has, and no old name is left.
    const check = readGlue(file, out);
    const expected = new Set(after.imports.map((i) => `${i.module}\0${i.name}`));
    const provided = new Set();
    for (const [module, { imports }] of check.modules) for (const name of imports.keys()) provided.add(`${module}\0${name}`);
    if (provided.size !== expected.size || [...expected].some((k) => !provided.has(k))) {
      fail(file, 'after renaming, the import object is not exactly the wasm’s imports');
    }
    for (const c of check.calls) if (!newExports.has(c.name)) fail(file, `after renaming, the JavaScript calls wasm.${c.name}, which the wasm does not export`);
    if (check.drops.length) fail(file, 'after the rewrite, an unused class is still there');
    // (wasm-bindgen's wrappers of the closure exports keep their long names until terser.)
    const stale = /__wbg_[A-Za-z0-9_]*_[0-9a-f]{16}\b/.exec(out);
    if (stale) fail(file, `after renaming, ${stale[0]} is still in the JavaScript`);

    writeFileSync(wasmPath, wasmOut);
    writeFileSync(jsPath, out);
    return {
      wasm: [wasmIn.length, wasmOut.length],
      js: [code.length, out.length],
      renamed: importMap.size + exportMap.size,
      droppedExports,
      droppedImports: droppedImports.map((i) => i.name),
      droppedClasses: glue.drops.map((d) => d.name),
    };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** For the minified JavaScript (post-build.mjs, after terser): a wasm-bindgen name that should
 *  not be there any more, or null. */
export function leftOver(code) {
  return /__wbg_[A-Za-z0-9_]*_[0-9a-f]{16}\b|\bwasm_bindgen_[0-9a-f]{16}_\w*|\b[Ii]ntounderlying\w*/.exec(code)?.[0] ?? null;
}

/** Every NAME.js with a NAME_bg.wasm beside it, in DIR and below; returns the JavaScript
 *  files it rewrote. */
export function slimDir(dir, log = console.log) {
  const done = [];
  const entries = readdirSync(dir, { withFileTypes: true });
  const names = new Set(entries.filter((e) => e.isFile()).map((e) => e.name));
  for (const entry of entries) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      done.push(...slimDir(path, log));
    } else if (entry.name.endsWith('_bg.wasm')) {
      const js = entry.name.replace(/_bg\.wasm$/, '.js');
      if (!names.has(js)) throw new SlimError(`slim-wasm: ${path} has no ${js} beside it`);
      const r = slimPair(join(dir, js), path);
      const streams = r.droppedExports.filter((e) => /intounderlying/.test(e));
      const others = r.droppedExports.filter((e) => !streams.includes(e));
      log(
        `slim-wasm: ${join(dir, js)}: ${r.renamed} imports and exports renamed; ` +
          `wasm ${r.wasm[0]} → ${r.wasm[1]} B, JS ${r.js[0]} → ${r.js[1]} B (before terser); dropped ` +
          `${r.droppedClasses.length} classes with their ${streams.length} exports, ` +
          `${others.length} other exports the JavaScript never calls (${others.join(' ') || 'none'}), ` +
          `${r.droppedImports.length} imports only they used`,
      );
      done.push(join(dir, js));
    }
  }
  return done;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const dir = process.argv[2];
  if (!dir) {
    console.error('usage: node scripts/slim-wasm.mjs DIR');
    process.exit(2);
  }
  try {
    slimDir(dir);
  } catch (error) {
    if (!(error instanceof SlimError)) throw error;
    console.error(error.message);
    process.exit(1);
  }
}
