// Drives the walkthrough in headless Chromium with playwright-core. Run by
// TestBrowserWalkthrough (browser_test.go), which starts the authority, the
// API and the SPA first and passes their addresses in the environment:
//
//   SPA_URL, AUTHORITY, API_URL, CHROMIUM, SCREENSHOTS, ACCESS_TOKEN_TTL
//
// With DPOP=true (TestBrowserWalkthroughDPoP) the SPA gets DPoP-bound
// tokens and sends proofs (oidc-client-ts's DPoP support): the run stops
// after the API accepted its call and refused the same token replayed as
// a Bearer token (RFC 9449 §7.2).
//
// Each step prints one line and saves a screenshot; the first failed check
// saves failure.png and exits 1. Tokens are never printed. Besides the
// SPA's own calls, the test replays the SPA's access token itself, from
// before and after the sign-out, and shows what the API answered in a
// panel it adds to the page ("Replayed by the test").

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

const env = (name) => {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set (run this through go test in e2e/)`);
  return v;
};
const spaURL = env('SPA_URL');
const authority = env('AUTHORITY');
const apiURL = env('API_URL');
const shots = env('SCREENSHOTS');
const ttl = Number(env('ACCESS_TOKEN_TTL')) * 1000;
const dpop = process.env.DPOP === 'true';
const started = Date.now();

const log = (...a) => console.log(`[${((Date.now() - started) / 1000).toFixed(1)}s]`, ...a);

// A new, empty profile for every run; the flags keep Chromium from
// reaching for the network on its own (this machine has none).
const profile = mkdtempSync(join(tmpdir(), 'bearer-e2e-chromium-'));
const context = await chromium.launchPersistentContext(profile, {
  executablePath: env('CHROMIUM'),
  headless: true,
  args: [
    '--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
    '--disable-component-update', '--disable-sync', '--no-first-run',
  ],
  viewport: { width: 1100, height: 720 },
});
// Only the loopback: the authority's pages name a web font elsewhere.
const blocked = new Set();
await context.route('**/*', (route) => {
  const { hostname } = new URL(route.request().url());
  if (hostname === '127.0.0.1') return route.continue();
  if (!blocked.has(hostname)) log(`  blocked a request to ${hostname} (loopback only)`);
  blocked.add(hostname);
  return route.abort();
});

const page = context.pages()[0] ?? (await context.newPage());
page.setDefaultTimeout(15_000);
page.on('console', (m) => {
  // The requests blocked above and the API's deliberate 401s show up as
  // console errors too; they are expected.
  const expected = /net::ERR_FAILED|status of 401/.test(m.text());
  if (!expected && (m.type() === 'error' || m.type() === 'warning')) log(`  page ${m.type()}: ${m.text().slice(0, 200)}`);
});

let step = 0;
async function shot(name) {
  const file = join(shots, `${String(++step).padStart(2, '0')}-${name}.png`);
  await page.screenshot({ path: file });
  log(`  screenshot ${file}`);
}

const text = (id) => page.locator(`#${id}`).innerText();
const twoDigits = /^\[\s*"\d",\s*"\d"\s*\]$/;

// callAPI clicks "Call API" and returns the result panel once it changed.
async function callAPI() {
  await page.evaluate(() => { document.getElementById('api-result').textContent = ''; });
  await page.click('#call-api');
  await page.waitForFunction(() => document.getElementById('api-result').textContent !== '');
  return text('api-result');
}

function check(ok, what, detail = '') {
  if (!ok) throw new Error(`${what}${detail ? `: ${detail}` : ''}`);
  log(`ok: ${what}`);
}

// accessToken returns the access token the SPA holds, where
// oidc-client-ts keeps it (sessionStorage).
async function accessToken() {
  return page.evaluate(() => {
    const key = Object.keys(sessionStorage).find((k) => k.startsWith('oidc.user:'));
    return key ? JSON.parse(sessionStorage.getItem(key)).access_token : undefined;
  });
}

// replay calls the API with token from this process, not from the page:
// what anyone holding the token can do after the user signed out.
async function replay(token) {
  const res = await fetch(apiURL, { headers: { Authorization: `Bearer ${token}` } });
  return { status: res.status, challenge: res.headers.get('www-authenticate') ?? undefined };
}

// showReplay puts what the API answered to a replay in a panel of its
// own, after the SPA's "API call result", for the screenshot.
async function showReplay(title, result) {
  await page.evaluate(({ title, result }) => {
    let s = document.getElementById('replay');
    if (!s) {
      s = document.createElement('section');
      s.id = 'replay';
      s.style.borderColor = '#c9302c';
      s.append(document.createElement('h2'), document.createElement('pre'));
      document.getElementById('api-result').closest('section').after(s);
    }
    s.querySelector('h2').textContent = title;
    s.querySelector('pre').textContent = JSON.stringify(result, null, 2);
  }, { title, result });
}

async function home() {
  await page.waitForURL((u) => u.href.startsWith(spaURL) && !u.pathname.endsWith('callback.html'));
  await page.waitForSelector('body[data-ready="true"]');
}

try {
  log('1. before login, the API refuses the call');
  await page.goto(spaURL);
  await home();
  let result = await callAPI();
  check(/"status": 401/.test(result), 'Call API before login shows 401', result);
  check(/^Bearer/.test(JSON.parse(result).challenge ?? ''), 'the 401 carries a Bearer challenge');
  await shot('before-login-401');

  log('2. login at the authority with its development form');
  await page.click('#login');
  await page.waitForURL((u) => u.href.startsWith(authority));
  await page.waitForSelector('input[name=login]');
  await page.fill('input[name=login]', 'alice');
  await page.fill('input[name=password]', 'any password');
  await shot('login-form');
  await page.click('button[type=submit]');
  await page.waitForSelector('button:has-text("Continue")');
  await shot('consent');
  await page.click('button:has-text("Continue")');
  await home();
  await page.waitForFunction(() => document.getElementById('user').textContent.includes('Alice Smith'));
  const user = JSON.parse(await text('user'));
  check(user.sub === 'alice' && user.email === 'alice@example.com', 'user data shows alice', JSON.stringify(user));
  await shot('signed-in');

  log(`3. Call API with the access token${dpop ? ' and a DPoP proof' : ''}`);
  result = await callAPI();
  check(twoDigits.test(result), 'Call API shows two digits', result);
  await shot(dpop ? 'dpop-api-values' : 'api-values');

  if (dpop) {
    log('4. the token is DPoP-bound: replayed by the test as a Bearer token, it is refused');
    const token = await accessToken();
    const claims = JSON.parse(Buffer.from(token.split('.')[1], 'base64url'));
    check(typeof claims.cnf?.jkt === 'string', 'the SPA holds a DPoP-bound JWT (cnf.jkt)');
    const replayed = await replay(token);
    check(replayed.status === 401 && /error="invalid_token", error_description="DPoP-bound token presented as Bearer"/.test(replayed.challenge ?? ''),
      'replayed as Bearer: 401 invalid_token "DPoP-bound token presented as Bearer"', JSON.stringify(replayed));
    await showReplay('Replayed by the test: the DPoP-bound token, as a Bearer token', replayed);
    await shot('dpop-replay-as-bearer-401');
    result = await callAPI();
    check(twoDigits.test(result), 'Call API again, with a new proof, shows two digits', result);
  } else {
    log(`4. silent renew: the first access token lives ${ttl / 1000}s`);
    const first = JSON.parse(await text('token'));
    const firstExpiry = Date.parse(first.expires_at);
    // Wait until the first token has expired and a renewed one has arrived.
    await page.waitForFunction(
      ({ firstExpiry }) => {
        const t = JSON.parse(document.getElementById('token').textContent || '{}');
        return Date.now() > firstExpiry + 500 && Date.parse(t.expires_at) > firstExpiry;
      },
      { firstExpiry },
      { timeout: ttl * 3, polling: 250 },
    );
    const renewed = JSON.parse(await text('token'));
    check(Date.now() > firstExpiry, `first token expired at ${first.expires_at}`);
    check(renewed.renewals > first.renewals, `renewed silently ${renewed.renewals - first.renewals} time(s), new token expires at ${renewed.expires_at}`);
    result = await callAPI();
    check(twoDigits.test(result), 'Call API after the first token expired shows two digits', result);
    await shot('after-silent-renew');

    log('5. the test takes the access token the SPA calls the API with, and replays it itself');
    // Fresh from a renewal, so that it outlives the steps below (the API
    // allows no leeway): an expired token would be refused as expired.
    const renewals = JSON.parse(await text('token')).renewals;
    await page.waitForFunction(
      (n) => JSON.parse(document.getElementById('token').textContent || '{}').renewals > n,
      renewals,
      { timeout: ttl * 2, polling: 100 },
    );
    const token = await accessToken();
    check(typeof token === 'string' && token.split('.').length === 3, 'the SPA holds a JWT access token');
    const claims = JSON.parse(Buffer.from(token.split('.')[1], 'base64url'));
    check(typeof claims.sid === 'string' && claims.sid !== '', 'it carries the sign-in session\'s sid');
    result = await replay(token);
    check(result.status === 200, 'replayed by the test before logout: 200', JSON.stringify(result));
    await showReplay('Replayed by the test: the access token, before logout', result);
    await shot('replay-before-logout-200');

    log('6. logout at the authority, which posts a logout token to the API');
    await page.click('#logout');
    await page.waitForURL((u) => u.href.startsWith(authority));
    await page.waitForSelector('button[value=yes]');
    await shot('logout-confirm');
    // The authority answers the confirmation once it has posted the logout
    // token to every client of the session, the API among them.
    const confirmed = page.waitForResponse((r) => r.request().method() === 'POST' && new URL(r.url()).pathname.endsWith('/session/end/confirm'));
    const loggedOutAt = Date.now();
    await page.click('button[value=yes]');
    await confirmed;
    const replayed = await replay(token);
    const refusedAfter = Date.now() - loggedOutAt;
    check(replayed.status === 401 && /error="invalid_token", error_description="token revoked"/.test(replayed.challenge ?? ''),
      'the same access token, replayed at once, gets 401 invalid_token "token revoked"', JSON.stringify(replayed));
    check(refusedAfter <= 1000, `refused ${refusedAfter} ms after Logout was confirmed (at most 1000 ms)`);
    await home();
    check((await text('user')) === '', 'user data is gone');
    result = await callAPI();
    check(/"status": 401/.test(result), 'Call API after logout shows 401 (the SPA has no token any more)', result);
    await showReplay('Replayed by the test right after logout: the same access token', { ...replayed, ms_after_logout_confirmed: refusedAfter });
    await shot('after-logout-replay-revoked');

    log('7. the authority session is over: Login asks for credentials again');
    await page.click('#login');
    await page.waitForURL((u) => u.href.startsWith(authority));
    await page.waitForSelector('input[name=login]');
    check(true, 'login form shown again');
    await shot('login-again');
  }

  log(`done in ${((Date.now() - started) / 1000).toFixed(1)}s`);
} catch (err) {
  log(`FAILED: ${err.message}`);
  log(`  at ${page.url()}`);
  await page.screenshot({ path: join(shots, 'failure.png') }).catch(() => {});
  process.exitCode = 1;
} finally {
  await context.close();
  rmSync(profile, { recursive: true, force: true });
}
