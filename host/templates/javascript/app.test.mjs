// Tests {{name}}.wasm in push-host's sandbox, with no server: each test
// runs `push-host call --json` (set PUSH_HOST if push-host is not on PATH).
// Build first (./build.sh), then: node --test

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const pushHost = process.env.PUSH_HOST ?? 'push-host';
const module = join(dirname(fileURLToPath(import.meta.url)), '{{name}}.wasm');

// The exit status and the transcript of one request.
function call(...args) {
  const run = spawnSync(pushHost, ['call', '--module', module, '--json', ...args], { encoding: 'utf8' });
  return [run.status, JSON.parse(run.stdout)];
}

test('promises, then pushes the stylesheet', () => {
  const [code, t] = call('/');
  assert.equal(code, 0);
  assert.deepEqual(t.promises.map((p) => p.path), ['/style.css']);
  assert.match(t.response.body, /Hello from {{name}}/);
  assert.match(t.pushes[0].response.body, /rebeccapurple/);
});

test('without push the page is still sent', () => {
  const [code, t] = call('--no-push', '/');
  assert.equal(code, 0);
  assert.deepEqual(t.promises, []);
  assert.match(t.response.body, /Hello from {{name}}/);
});
