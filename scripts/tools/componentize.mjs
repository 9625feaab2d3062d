// Builds a JavaScript component with componentize-js (the library API: its
// `jco componentize` CLI fails on path metadata here).
//
// node componentize.mjs SOURCE.js WIT_DIR WORLD OUT.wasm [--disable-http] [--with MODULE.js]...
//
// `--with MODULE.js` (repeatable) builds from a copy of SOURCE with each
// MODULE beside it, so SOURCE's `import ... from './MODULE.js'` resolves:
// componentize-js resolves relative imports against the source's own
// directory (which it maps as the component's `/` when that directory is
// not under the working directory), at build time, into the snapshot.
//
// The toolchain is imported from $PUSH_HOST_JS_TOOLS/node_modules (see
// scripts/lib/tools.sh, which installs it at a pinned version).
import { copyFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { pathToFileURL } from 'node:url';

const args = process.argv.slice(2);
const flags = new Set();
const modules = [];
const positional = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--with' && i + 1 < args.length) modules.push(args[++i]);
  else if (args[i].startsWith('--')) flags.add(args[i]);
  else positional.push(args[i]);
}
const [source, witPath, worldName, out] = positional;
if (!out || positional.length > 4) {
  console.error('usage: componentize.mjs SOURCE.js WIT_DIR WORLD OUT.wasm [--disable-http] [--with MODULE.js]...');
  process.exit(2);
}
const tools = process.env.PUSH_HOST_JS_TOOLS;
const entry = join(tools, 'node_modules/@bytecodealliance/componentize-js/src/componentize.js');
const { componentize } = await import(pathToFileURL(entry).href);

// The source, alone or staged with its modules in a directory of its own
// (outside the working directory, so it is the component's `/`).
let sourcePath = source;
let staged = null;
if (modules.length > 0) {
  staged = await mkdtemp(join(tmpdir(), 'push-host-js-'));
  sourcePath = join(staged, basename(source));
  await copyFile(source, sourcePath);
  for (const module of modules) {
    if (basename(module) === basename(source)) throw new Error(`--with ${module}: same name as the source`);
    await copyFile(module, join(staged, basename(module)));
  }
}
try {
  const options = { sourcePath, witPath, worldName };
  // A push:handler guest needs no outgoing HTTP (`fetch`); the engine still
  // imports wasi:http/types, which push-host links for every guest.
  if (flags.has('--disable-http')) options.disableFeatures = ['http'];
  const { component } = await componentize(options);
  await writeFile(out, component);
  console.error(`componentize-js: ${out} (${component.length} bytes)`);
} finally {
  if (staged) await rm(staged, { recursive: true, force: true });
}
