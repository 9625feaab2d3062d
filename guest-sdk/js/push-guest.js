// push-guest.js: `push:handler@0.1.0` handlers in JavaScript
// (componentize-js), shaped like the Rust SDK (guest-sdk/src).
//
//   import { PushError, Response, exportHandler } from './push-guest.js';
//
//   export const handler = exportHandler((request, caller) => {
//     let css = null;
//     try {
//       css = caller.promise('/style.css');
//     } catch (e) {
//       if (!(e instanceof PushError)) throw e;
//       console.error(`no push: ${e.message}`);   // e.g. "push-disabled: the client disabled server push"
//     }
//     caller.respond(Response.text('<h1>hi</h1>', { contentType: 'text/html' }));
//     if (css) caller.push(css, Response.text('h1 { color: teal; }', { contentType: 'text/css' }));
//   });
//
// Every caller call throws a `PushError` subclass named after the WIT
// `error` case: `PushDisabled`, `Refused`, `Invalid`, `AlreadyResponded`,
// `Closed`, `LimitExceeded`; `e.kind` is the case name ('push-disabled'),
// `e.message` is 'kind: meaning' exactly as the Rust SDK's `Error` displays
// it, `e.detail` the part after 'kind: '. Strings given as bodies or header
// values are encoded as UTF-8; Uint8Array/ArrayBuffer pass as they are.
//
// The app imports it as './push-guest.js': scripts/tools/componentize.mjs
// (`--with guest-sdk/js/push-guest.js`) builds from a copy of the app with
// this file beside it, and componentize-js resolves the relative import.

import {
  promise as rawPromise,
  respond as rawRespond,
  push as rawPush,
} from 'push:handler/caller@0.1.0';

// ------------------------------------------------------------------ errors

/** Why the host refused a caller call; one subclass per WIT `error` case. */
export class PushError extends Error {
  /** The WIT case name. */
  static kind = 'error';
  /** The message of a case that carries none (the Rust SDK's wording). */
  static meaning = '';

  constructor(detail) {
    const cls = new.target;
    const text = detail ?? cls.meaning;
    super(`${cls.kind}: ${text}`);
    this.name = cls.name;
    this.kind = cls.kind;
    this.detail = text;
  }

  toString() {
    return this.message;
  }
}

/** The client disabled server push (SETTINGS_ENABLE_PUSH = 0). */
export class PushDisabled extends PushError {
  static kind = 'push-disabled';
  static meaning = 'the client disabled server push';
}

/** The client reset or refused the promised stream (or, from `promise`,
 * already has that path on this connection). */
export class Refused extends PushError {
  static kind = 'refused';
  static meaning = 'the client reset or refused the promised stream';
}

/** A malformed status, method, path or header; nothing was sent. */
export class Invalid extends PushError {
  static kind = 'invalid';
}

/** The main response was already sent. */
export class AlreadyResponded extends PushError {
  static kind = 'already-responded';
  static meaning = 'the main response was already sent';
}

/** The stream or connection is closed, or the response has ended. */
export class Closed extends PushError {
  static kind = 'closed';
  static meaning = 'the stream or connection is closed';
}

/** A push limit was reached (per request, or the client's
 * concurrent-stream limit). */
export class LimitExceeded extends PushError {
  static kind = 'limit-exceeded';
}

const CASES = Object.fromEntries(
  [PushDisabled, Refused, Invalid, AlreadyResponded, Closed, LimitExceeded].map((c) => [c.kind, c]),
);

/** The `PushError` for a value a raw binding threw (its `payload` is the
 * WIT error, `{tag, val}`); anything else is returned as it is. */
export function errorFromWit(thrown) {
  const payload = thrown?.payload;
  const cls = payload && Object.hasOwn(CASES, payload.tag) ? CASES[payload.tag] : undefined;
  return cls ? new cls(payload.val) : thrown;
}

function witCall(f, ...args) {
  try {
    return f(...args);
  } catch (e) {
    throw errorFromWit(e);
  }
}

// ------------------------------------------------------------------ headers and bodies

const encoder = new TextEncoder();

/** A body or header value as bytes: a string is encoded as UTF-8. */
export function toBytes(value) {
  if (value === undefined || value === null) return new Uint8Array();
  if (typeof value === 'string') return encoder.encode(value);
  if (value instanceof Uint8Array) return value;
  if (value instanceof ArrayBuffer) return new Uint8Array(value);
  if (ArrayBuffer.isView(value)) return new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
  return encoder.encode(String(value));
}

/** Header fields as the WIT wants them, `[lowercase name, bytes]`, from an
 * object `{name: value}` or an iterable of `[name, value]` pairs. */
export function headerFields(headers) {
  if (!headers) return [];
  const pairs = typeof headers[Symbol.iterator] === 'function' ? headers : Object.entries(headers);
  return Array.from(pairs, ([name, value]) => [String(name).toLowerCase(), toBytes(value)]);
}

function find(headers, name) {
  const lower = name.toLowerCase();
  const field = headers.find(([n]) => n === lower);
  return field ? field[1] : null;
}

function asText(bytes) {
  if (bytes === null) return null;
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return null;
  }
}

// ------------------------------------------------------------------ request and response

/** The request the handler is called with, fully buffered. */
export class Request {
  constructor({ method = 'GET', scheme = 'http', authority = '', path = '/', headers = [], body } = {}) {
    this.method = method;
    this.scheme = scheme;
    this.authority = authority;
    /** Path and query, as received (`:path`), e.g. '/spin-ms?ms=5'. */
    this.path = path;
    /** Every header field in order: `[lowercase name, Uint8Array]`. */
    this.headers = headerFields(headers);
    this.body = toBytes(body);
  }

  /** The path without the query string. */
  get pathOnly() {
    const q = this.path.indexOf('?');
    return q < 0 ? this.path : this.path.slice(0, q);
  }

  /** The query string without the '?', or null. */
  get query() {
    const q = this.path.indexOf('?');
    return q < 0 ? null : this.path.slice(q + 1);
  }

  /** The raw value of the first `name=value` pair of the query, or null. */
  queryParam(name) {
    if (this.query === null) return null;
    for (const pair of this.query.split('&')) {
      const eq = pair.indexOf('=');
      const [key, value] = eq < 0 ? [pair, ''] : [pair.slice(0, eq), pair.slice(eq + 1)];
      if (key === name) return value;
    }
    return null;
  }

  /** The first value of the header `name` (ignoring case) as text, or null
   * if it is absent or not UTF-8 (see `headerBytes`). */
  header(name) {
    return asText(find(this.headers, name));
  }

  /** The first value of the header `name` (ignoring case), raw, or null. */
  headerBytes(name) {
    return find(this.headers, name);
  }

  /** The body as UTF-8 text. */
  text() {
    return new TextDecoder().decode(this.body);
  }

  /** The body parsed as JSON. */
  json() {
    return JSON.parse(this.text());
  }
}

/** A response: status, header fields and a buffered body. */
export class Response {
  constructor(status = 200, headers = [], body = undefined) {
    this.status = status;
    /** Every header field in order: `[lowercase name, Uint8Array]`. */
    this.headers = headerFields(headers);
    this.body = toBytes(body);
  }

  /** `value` as JSON, `content-type: application/json`. */
  static json(value, { status = 200, headers } = {}) {
    return new Response(status, [['content-type', 'application/json'], ...headerFields(headers)], JSON.stringify(value));
  }

  /** A UTF-8 text body, `content-type: text/plain; charset=utf-8` by default. */
  static text(text, { status = 200, contentType = 'text/plain; charset=utf-8', headers } = {}) {
    return new Response(status, [['content-type', contentType], ...headerFields(headers)], String(text));
  }

  /** A binary body, `content-type: application/octet-stream` by default. */
  static bytes(body, { status = 200, contentType = 'application/octet-stream', headers } = {}) {
    return new Response(status, [['content-type', contentType], ...headerFields(headers)], body);
  }

  /** Appends a header field; returns this response, so calls chain. */
  withHeader(name, value) {
    this.headers.push([String(name).toLowerCase(), toBytes(value)]);
    return this;
  }

  /** Sets `content-type`, replacing any earlier one. */
  withContentType(contentType) {
    this.headers = this.headers.filter(([n]) => n !== 'content-type');
    return this.withHeader('content-type', contentType);
  }

  /** Replaces the status. */
  withStatus(status) {
    this.status = status;
    return this;
  }

  /** The first value of the header `name` (ignoring case) as text, or null. */
  header(name) {
    return asText(find(this.headers, name));
  }

  /** The raw WIT record. */
  toWit() {
    return { status: this.status, headers: this.headers, body: this.body };
  }
}

// ------------------------------------------------------------------ caller

/** A promised stream, answered by `caller.push`. */
export class Promised {
  constructor(raw) {
    this.raw = raw;
  }

  /** The promised path. */
  get path() {
    return this.raw.path();
  }

  /** Whether the client has already reset this stream; never blocks. */
  isRefused() {
    return this.raw.isRefused();
  }
}

/** The handler's side of one request; each call throws a `PushError`. */
export const caller = Object.freeze({
  /** Sends a PUSH_PROMISE for `method path` (GET or HEAD, same origin). */
  promise(path, { method = 'GET', headers } = {}) {
    return new Promised(witCall(rawPromise, { method, path, headers: headerFields(headers) }));
  },

  /** Sends the main response. */
  respond(response) {
    witCall(rawRespond, response.toWit());
  },

  /** Answers `promised` with `response`; consumes it whatever the outcome. */
  push(promised, response) {
    witCall(rawPush, promised.raw, response.toWit());
  },
});

/** The `handler` export componentize-js wants, for `handle(request, caller)`:
 * `export const handler = exportHandler(handle);` */
export function exportHandler(handle) {
  return {
    handle(raw) {
      handle(new Request(raw), caller);
    },
  };
}
