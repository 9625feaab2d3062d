// The seed service (Ballerina's `http_2.0_service.bal`) in JavaScript.
//
// For every request the handler promises GET /resource1, /resource2 and
// /resource3, sends the main response {"response":{"name":"main resource"}},
// then pushes each promised resource as {"push":{"name":"resourceN"}}. A
// failure is printed with console.error (the host's log), and a resource
// whose promise failed is not pushed.
//
// Build: node examples/http2-service-js/build.mjs (componentize-js against wit/).

import { promise, respond, push } from 'push:handler/caller@0.1.0';

const RESOURCES = ['resource1', 'resource2', 'resource3'];

// What each error case means, as the Rust SDK's `Display` says it.
const MEANING = {
  'push-disabled': 'the client disabled server push',
  'refused': 'the client reset or refused the promised stream',
  'already-responded': 'the main response was already sent',
  'closed': 'the stream or connection is closed',
};

// A WIT `error` arrives as a thrown value whose `payload` is `{tag, val}`.
function describe(e) {
  const error = e?.payload ?? e;
  if (error?.tag === undefined) return String(e);
  return `${error.tag}: ${error.val ?? MEANING[error.tag] ?? ''}`;
}

const encoder = new TextEncoder();

function json(value) {
  return {
    status: 200,
    headers: [['content-type', encoder.encode('application/json')]],
    body: encoder.encode(JSON.stringify(value)),
  };
}

export const handler = {
  handle(_request) {
    // Send a push promise for each resource.
    const promises = RESOURCES.map((name, i) => {
      try {
        return promise({ method: 'GET', path: `/${name}`, headers: [] });
      } catch (e) {
        console.error(`Error occurred while sending the promise${i + 1}: ${describe(e)}`);
        return null;
      }
    });

    // Send the requested resource.
    try {
      respond(json({ response: { name: 'main resource' } }));
    } catch (e) {
      console.error(`Error occurred while sending the response: ${describe(e)}`);
    }

    // Push each promised resource.
    RESOURCES.forEach((name, i) => {
      const promised = promises[i];
      if (promised === null) return;
      try {
        push(promised, json({ push: { name } }));
      } catch (e) {
        console.error(`Error occurred while sending the promised response${i + 1}: ${describe(e)}`);
      }
    });
  },
};
