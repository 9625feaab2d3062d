// A standard wasi:http component in JavaScript: a `fetch` event handler
// (componentize-js), nothing of push-host. Its page names its stylesheet and
// script in `link: <...>; rel=preload` headers; push-host pushes each
// same-origin one (running the component again for it) when the client
// accepts pushes. The font on another origin is never pushed.
//
// Build: node examples/build-js.mjs (see README, "Any language").

const PAGE = '<!doctype html>\n<html><head><title>wasi:http page (JS)</title>'
  + '<link rel="stylesheet" href="/style.css"><script src="/app.js" defer></script></head>'
  + '<body><h1>A JavaScript wasi:http component, pushed</h1></body></html>\n';
const STYLE = 'h1 { color: teal; }\n';
const SCRIPT = "document.body.insertAdjacentHTML('beforeend', '<p id=\"ran\">app.js ran</p>');\n";

function route(path) {
  switch (path) {
    case '/':
    case '/index.html':
      return new Response(PAGE, {
        headers: [
          ['content-type', 'text/html; charset=utf-8'],
          ['link', '</style.css>; rel=preload; as=style'],
          ['link', '</app.js>; rel=preload; as=script'],
          ['link', '<https://fonts.example.net/face.woff2>; rel=preload; as=font; crossorigin'],
        ],
      });
    case '/style.css':
      return new Response(STYLE, { headers: { 'content-type': 'text/css' } });
    case '/app.js':
      return new Response(SCRIPT, { headers: { 'content-type': 'text/javascript' } });
    default:
      return new Response('not found\n', { status: 404, headers: { 'content-type': 'text/plain' } });
  }
}

addEventListener('fetch', (event) => {
  const url = new URL(event.request.url);
  event.respondWith(route(url.pathname));
});
