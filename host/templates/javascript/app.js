// {{name}}: a push-host handler in JavaScript.
//
// It promises the page's stylesheet, sends the page, then pushes the
// stylesheet, so the client has it before it asks for it. './push-guest.js'
// wraps the bindings componentize-js generates.

import { PushError, Response, exportHandler } from './push-guest.js';

const style = () => Response.text('h1 { color: rebeccapurple }\n', { contentType: 'text/css' });

export const handler = exportHandler((request, caller) => {
  if (request.pathOnly === '/style.css') {
    // A client that did not take the push asks for it.
    caller.respond(style());
    return;
  }
  // Promise first: the client learns of the stylesheet before the page.
  let promised = null;
  try {
    promised = caller.promise('/style.css');
  } catch (e) {
    if (!(e instanceof PushError)) throw e;
    console.error(`no push of /style.css: ${e.message}`);
  }
  const page = '<!doctype html><link rel=stylesheet href=/style.css><h1>Hello from {{name}}</h1>\n';
  caller.respond(Response.text(page, { contentType: 'text/html' }));
  if (promised !== null) {
    try {
      caller.push(promised, style());
    } catch (e) {
      if (!(e instanceof PushError)) throw e;
      console.error(`the stylesheet was not pushed: ${e.message}`);
    }
  }
});
