// A test guest for push-guest.js (guest-sdk/js): provokes every caller
// error a request can meet and logs which class caught it, for
// tests/polyglot.rs (`the_helpers_raise_each_error_as_its_class`; the host
// runs with `--max-pushes 2`). caught.py is the same in Python.

import {
  AlreadyResponded,
  Closed,
  Invalid,
  LimitExceeded,
  PushDisabled,
  PushError,
  Refused,
  Response,
  exportHandler,
} from './push-guest.js';

// Runs `call`, which should throw `cls`; logs how it went.
function expect(step, cls, call) {
  try {
    call();
  } catch (e) {
    if (e instanceof cls) {
      const base = e instanceof PushError && e instanceof Error ? 'a PushError' : 'not a PushError';
      console.error(`caught ${step}: ${cls.name} (${e.kind}, ${base}): ${e.message}`);
    } else {
      console.error(`wrong class ${step}: ${e?.name}: ${e?.message ?? e}`);
    }
    return;
  }
  console.error(`no error ${step}`);
}

export const handler = exportHandler((request, caller) => {
  if (request.queryParam('push') === 'off') {
    expect('promise', PushDisabled, () => caller.promise('/one'));
    caller.respond(Response.text('push off\n'));
    return;
  }
  expect('promise POST', Invalid, () => caller.promise('/one', { method: 'POST' }));
  const one = caller.promise('/one');
  expect('promise /one again', Refused, () => caller.promise('/one'));
  const two = caller.promise('/two');
  expect('third promise', LimitExceeded, () => caller.promise('/three'));
  caller.respond(Response.text('caught\n').withHeader('x-guest', new TextEncoder().encode('javascript')));
  expect('respond again', AlreadyResponded, () => caller.respond(Response.text('again\n')));
  expect('promise after respond', Closed, () => caller.promise('/four'));
  caller.push(one, Response.text('one\n'));
  caller.push(two, Response.bytes(new TextEncoder().encode('two\n')));
});
