// A tiny static server for the walkthrough's JavaScript application. It
// serves the files in public/, oidc-client-ts from node_modules, and
// config.js, which tells the page where the authority and the API are.
//
//   npm ci && npm start      # http://127.0.0.1:8080
//
// Environment: PORT (8080), HOST (127.0.0.1), AUTHORITY
// (http://127.0.0.1:4000), API_URL (http://127.0.0.1:5000/values),
// RENEW_BEFORE (seconds before expiry to renew the access token, 60),
// DPOP (true: DPoP-bound tokens; false).

import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { fileURLToPath } from 'node:url';

const host = process.env.HOST ?? '127.0.0.1';
const port = Number(process.env.PORT ?? 8080);
const config = {
  authority: process.env.AUTHORITY ?? 'http://127.0.0.1:4000',
  apiURL: process.env.API_URL ?? 'http://127.0.0.1:5000/values',
  renewBefore: Number(process.env.RENEW_BEFORE ?? 60),
  // DPoP-bound tokens (RFC 9449) instead of bearer tokens.
  dpop: process.env.DPOP === 'true',
};

const here = (path) => fileURLToPath(new URL(path, import.meta.url));
const types = { html: 'text/html; charset=utf-8', js: 'text/javascript; charset=utf-8', css: 'text/css; charset=utf-8' };

// A fixed table of what is served: no path from a request ever reaches the
// file system. Files are read once, at start.
const files = {
  '/index.html': 'public/index.html',
  '/callback.html': 'public/callback.html',
  '/silent-renew.html': 'public/silent-renew.html',
  '/app.js': 'public/app.js',
  '/silent-renew.js': 'public/silent-renew.js',
  '/style.css': 'public/style.css',
  '/lib/oidc-client-ts.min.js': 'node_modules/oidc-client-ts/dist/browser/oidc-client-ts.min.js',
};
const bodies = new Map();
for (const [path, file] of Object.entries(files)) {
  try {
    bodies.set(path, readFileSync(here(file)));
  } catch (err) {
    console.error(`spa: cannot read ${file} (run npm ci in examples/spa): ${err.message}`);
    process.exit(1);
  }
}
bodies.set('/config.js', Buffer.from(`window.SPA_CONFIG = ${JSON.stringify(config)};\n`));
bodies.set('/', bodies.get('/index.html'));

const origin = (url) => new URL(url).origin;
// The page talks to the authority (metadata, token endpoint, silent-renew
// iframe) and to the API, and to nothing else.
const csp = [
  "default-src 'self'",
  `connect-src 'self' ${origin(config.authority)} ${origin(config.apiURL)}`,
  `frame-src 'self' ${origin(config.authority)}`,
  "object-src 'none'",
  "base-uri 'none'",
].join('; ');

const server = createServer((req, res) => {
  const path = new URL(req.url, 'http://localhost').pathname;
  const body = bodies.get(path);
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.writeHead(405, { Allow: 'GET, HEAD' }).end();
    return;
  }
  if (!body) {
    res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found\n');
    return;
  }
  const ext = path === '/' ? 'html' : path.split('.').pop();
  res.writeHead(200, {
    'Content-Type': types[ext] ?? 'application/octet-stream',
    'Content-Length': body.length,
    'Content-Security-Policy': csp,
    'Cache-Control': 'no-store',
    'X-Content-Type-Options': 'nosniff',
  });
  res.end(req.method === 'HEAD' ? undefined : body);
});

server.listen(port, host, () => {
  const { port: actual } = server.address();
  console.log(`spa listening on http://${host}:${actual} (authority ${config.authority}, api ${config.apiURL})`);
});
const stop = () => server.close(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
