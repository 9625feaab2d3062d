// The seed service (Ballerina's `http_2.0_service.bal`) in JavaScript.
//
// For every request the handler promises GET /resource1, /resource2 and
// /resource3, sends the main response {"response":{"name":"main resource"}},
// then pushes each promised resource as {"push":{"name":"resourceN"}}. A
// failure is printed with console.error (the host's log), and a resource
// whose promise failed is not pushed.
//
// './push-guest.js' is guest-sdk/js/push-guest.js, which wraps the
// bindings componentize-js generates from wit/ (its errors print as the
// Rust SDK's); the build copies it beside this file.
//
// Build: examples/http2-service-js/build.sh (componentize-js against wit/).

import { PushError, Response, exportHandler } from './push-guest.js';

const RESOURCES = ['resource1', 'resource2', 'resource3'];

// A caller error is logged; anything else escapes (and traps).
function report(what, e) {
  if (!(e instanceof PushError)) throw e;
  console.error(`Error occurred while sending the ${what}: ${e.message}`);
}

export const handler = exportHandler((_request, caller) => {
  // Send a push promise for each resource.
  const promises = RESOURCES.map((name, i) => {
    try {
      return caller.promise(`/${name}`);
    } catch (e) {
      report(`promise${i + 1}`, e);
      return null;
    }
  });

  // Send the requested resource.
  try {
    caller.respond(Response.json({ response: { name: 'main resource' } }));
  } catch (e) {
    report('response', e);
  }

  // Push each promised resource.
  RESOURCES.forEach((name, i) => {
    const promised = promises[i];
    if (promised === null) return;
    try {
      caller.push(promised, Response.json({ push: { name } }));
    } catch (e) {
      report(`promised response${i + 1}`, e);
    }
  });
});
