// The seed scenario on Node.js's http2 module (h2c, prior knowledge), for
// bench/run: every request gets three PUSH_PROMISEs (/resource1..3), the
// JSON main response, then the three pushed JSON responses — the same bytes
// push-host's seed service sends. Usage: node node-push.js PORT
'use strict';
const http2 = require('node:http2');

const port = Number(process.argv[2] || 7091);
const main = JSON.stringify({ response: { name: 'main resource' } });
const resources = ['resource1', 'resource2', 'resource3'];
const bodies = resources.map((name) => JSON.stringify({ push: { name } }));

const server = http2.createServer({ settings: { maxConcurrentStreams: 100 } });
server.on('stream', (stream, headers) => {
  const pushed = [];
  let pending = resources.length;
  const respond = () => {
    stream.respond({ ':status': 200, 'content-type': 'application/json', 'content-length': main.length });
    stream.end(main);
    for (const [push, body] of pushed) {
      push.respond({ ':status': 200, 'content-type': 'application/json', 'content-length': body.length });
      push.end(body);
    }
  };
  if (!stream.pushAllowed) {
    respond();
    return;
  }
  resources.forEach((name, i) => {
    stream.pushStream({ ':path': '/' + name }, (err, push) => {
      if (!err) {
        push.on('error', () => {});
        pushed.push([push, bodies[i]]);
      }
      if (--pending === 0) respond();
    });
  });
});
server.on('sessionError', () => {});
server.listen(port, '127.0.0.1', () => {
  console.error(`node-push listening on http://127.0.0.1:${port}/`);
});
