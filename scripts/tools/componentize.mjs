// Builds a JavaScript component with componentize-js (the library API: its
// `jco componentize` CLI fails on path metadata here).
//
// node componentize.mjs SOURCE.js WIT_DIR WORLD OUT.wasm [--disable-http]
//
// The toolchain is imported from $PUSH_HOST_JS_TOOLS/node_modules (see
// scripts/lib/tools.sh, which installs it at a pinned version).
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const [sourcePath, witPath, worldName, out, ...flags] = process.argv.slice(2);
if (!out) {
  console.error('usage: componentize.mjs SOURCE.js WIT_DIR WORLD OUT.wasm [--disable-http]');
  process.exit(2);
}
const tools = process.env.PUSH_HOST_JS_TOOLS;
const entry = join(tools, 'node_modules/@bytecodealliance/componentize-js/src/componentize.js');
const { componentize } = await import(pathToFileURL(entry).href);
const options = { sourcePath, witPath, worldName };
// A push:handler guest needs no outgoing HTTP (`fetch`); the engine still
// imports wasi:http/types, which push-host links for every guest.
if (flags.includes('--disable-http')) options.disableFeatures = ['http'];
const { component } = await componentize(options);
await writeFile(out, component);
console.error(`componentize-js: ${out} (${component.length} bytes)`);
