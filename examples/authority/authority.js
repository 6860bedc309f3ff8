// A real OpenID Connect authority for the bearer walkthrough and its
// end-to-end tests: node-oidc-provider on 127.0.0.1, configured here.
//
//   npm ci && npm start                 # http://127.0.0.1:4000
//   node authority.js rotate-keys FILE  # prepend a fresh key set to a JWKS file
//   node authority.js retire-keys FILE  # keep only the newest key set
//
// Everything a test needs to vary comes from the environment (see env
// below), so the same script serves a person trying the walkthrough and
// the Go tests that start it on a free port.
//
// This is a development setup: in-memory storage, the library's own
// development login form (any login and password is accepted) and
// well-known client secrets. Do not expose it beyond the loopback.

import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync, renameSync } from 'node:fs';
import Provider, { errors } from 'oidc-provider';

const env = {
  host: process.env.HOST ?? '127.0.0.1',
  port: Number(process.env.PORT ?? 4000),
  // The issuer is what every token's iss says and what the API's
  // -authority flag must be, exactly.
  issuer: process.env.ISSUER,
  spaURL: process.env.SPA_URL ?? 'http://127.0.0.1:8080',
  // Lifetimes in seconds. A few seconds for ACCESS_TOKEN_TTL shows the
  // SPA renewing its token silently.
  accessTokenTTL: seconds('ACCESS_TOKEN_TTL', 3600),
  idTokenTTL: seconds('ID_TOKEN_TTL', 3600),
  sessionTTL: seconds('SESSION_TTL', 24 * 3600),
  // The API's own credentials at the introspection endpoint (the
  // walkthrough's ClientId/ClientSecret).
  apiSecret: process.env.API_CLIENT_SECRET ?? 'api-secret',
  apiAuthMethod: process.env.API_CLIENT_AUTH_METHOD ?? 'client_secret_basic',
  svcSecret: process.env.SVC_CLIENT_SECRET ?? 'svc-secret',
  // Where the authority posts logout tokens for the API (its
  // backchannel_logout_uri), and whether they name the session (sid) or
  // only the user (sub): set API_LOGOUT_SESSION_REQUIRED=false for the
  // latter.
  apiLogoutURL: process.env.API_LOGOUT_URL ?? 'http://127.0.0.1:5000/backchannel-logout',
  apiLogoutSessionRequired: process.env.API_LOGOUT_SESSION_REQUIRED !== 'false',
  // A private JWK Set. Missing file: keys are generated and written there,
  // so a restart keeps them. Unset: fresh keys at every start.
  jwksFile: process.env.JWKS_FILE,
};
env.issuer ??= `http://127.0.0.1:${env.port}`;

function seconds(name, fallback) {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n <= 0) {
    throw new Error(`${name}=${raw}: want a positive number of seconds`);
  }
  return n;
}

// Resources (RFC 8707 resource indicators) and what their tokens look
// like. "api" is the walkthrough's API; its reference twin issues opaque
// tokens for the same API, which it validates by introspection; "other"
// is some other API, whose tokens the walkthrough's API must refuse.
const resources = {
  'urn:accesstoken:api': { audience: 'api', scope: 'api api.read', accessTokenFormat: 'jwt' },
  'urn:accesstoken:api:reference': { audience: 'api', scope: 'api api.read', accessTokenFormat: 'opaque' },
  'urn:accesstoken:other': { audience: 'other', scope: 'other', accessTokenFormat: 'jwt' },
};
const defaultResource = 'urn:accesstoken:api';

// The JWS algorithm of JWT access tokens, chosen per client: node-oidc-
// provider picks the resource server's signing alg in getResourceServerInfo,
// which sees the client. The key is the first one in the JWKS that fits.
const accessTokenAlg = {
  svc: 'RS256',
  'svc-ps256': 'PS256',
  'svc-es256': 'ES256',
  'svc-eddsa': 'EdDSA',
  'svc-mtls': 'ES256',
};

// Authentication context classes (acr) this authority names, weakest
// first: a sign-in with the development form is a password, unless the
// client asked for the second factor (acr_values, as an API's step-up
// challenge tells it to, RFC 9470 §4), which this development setup takes
// as given. See signedInWith.
const acrValues = ['urn:accesstoken:pwd', 'urn:accesstoken:mfa'];

// People who can sign in with the development form. Any other login works
// too and gets a generic profile.
const people = {
  alice: { name: 'Alice Smith', given_name: 'Alice', family_name: 'Smith', email: 'alice@example.com' },
  bob: { name: 'Bob Smith', given_name: 'Bob', family_name: 'Smith', email: 'bob.smith@example.com' },
};

// newKeys returns private JWKs for every algorithm above: one RSA key
// (RS256 and PS256), one P-256 key (ES256) and one Ed25519 key (EdDSA).
// Key IDs carry a timestamp so rotated keys are told apart.
function newKeys() {
  const stamp = new Date().toISOString().replace(/[-:.TZ]/g, '').slice(0, 14) + '-' + randomBytes(3).toString('hex');
  const jwk = (type, options, suffix) => ({
    ...generateKeyPairSync(type, options).privateKey.export({ format: 'jwk' }),
    kid: `${suffix}-${stamp}`,
    use: 'sig',
  });
  return [
    jwk('rsa', { modulusLength: 2048 }, 'rsa'),
    jwk('ec', { namedCurve: 'P-256' }, 'ec'),
    jwk('ed25519', {}, 'ed25519'),
  ];
}

function writeJWKS(file, keys) {
  // Written aside and renamed, so a reader never sees half a file.
  writeFileSync(`${file}.tmp`, JSON.stringify({ keys }, null, 2) + '\n', { mode: 0o600 });
  renameSync(`${file}.tmp`, file);
}

function loadKeys() {
  if (!env.jwksFile) return newKeys();
  if (!existsSync(env.jwksFile)) writeJWKS(env.jwksFile, newKeys());
  return JSON.parse(readFileSync(env.jwksFile, 'utf8')).keys;
}

// rotateKeys puts a new key set in front of the old one. node-oidc-provider
// reads its keys once, at start: restart it to publish the new keys. It
// signs with the first key of each type, so new tokens use the new keys,
// while the old public keys stay published for tokens already issued.
function rotateKeys(file) {
  const old = existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')).keys : [];
  writeJWKS(file, [...newKeys(), ...old]);
}

// retireKeys keeps only the newest key set (the first key's and those
// generated with it): run it once no unexpired token was signed by the
// older keys, then restart.
function retireKeys(file) {
  const keys = JSON.parse(readFileSync(file, 'utf8')).keys;
  const set = (kid) => kid.slice(kid.indexOf('-') + 1);
  writeJWKS(file, keys.filter((k) => set(k.kid) === set(keys[0].kid)));
}

const redirect = (path) => new URL(path, env.spaURL).href;

const configuration = {
  clients: [
    {
      // The walkthrough's JavaScript application: a public client using
      // the authorization code flow with PKCE (node-oidc-provider requires
      // PKCE for public clients).
      client_id: 'spa',
      token_endpoint_auth_method: 'none',
      grant_types: ['authorization_code'],
      response_types: ['code'],
      redirect_uris: [redirect('/callback.html'), redirect('/silent-renew.html')],
      post_logout_redirect_uris: [redirect('/index.html'), redirect('/')],
    },
    {
      // The API itself: its credentials at the introspection endpoint, and
      // where it is told of sign-outs (OpenID Connect Back-Channel Logout).
      client_id: 'api',
      client_secret: env.apiSecret,
      token_endpoint_auth_method: env.apiAuthMethod,
      grant_types: [],
      response_types: [],
      redirect_uris: [],
      backchannel_logout_uri: env.apiLogoutURL,
      backchannel_logout_session_required: env.apiLogoutSessionRequired,
    },
    // Machine clients (client_credentials), one per signing algorithm;
    // svc-mtls's tokens are bound to its client certificate (RFC 8705).
    ...Object.keys(accessTokenAlg).map((id) => ({
      client_id: id,
      client_secret: env.svcSecret,
      grant_types: ['client_credentials'],
      response_types: [],
      redirect_uris: [],
      tls_client_certificate_bound_access_tokens: id === 'svc-mtls',
      authorization_details_types: ['payment_initiation'],
    })),
  ],
  jwks: { keys: loadKeys() },
  claims: {
    openid: ['sub'],
    profile: ['name', 'given_name', 'family_name'],
    email: ['email', 'email_verified'],
  },
  // The SPA's access token is for the API, not for the userinfo endpoint,
  // so the user's claims travel in the ID token.
  conformIdTokenClaims: false,
  // A JWT access token issued in a sign-in session carries the session's
  // sid for the API (see apiJoinsSession): the sid of the logout token the
  // API receives when the session ends. (Introspection answers name the
  // sid of the token's own client, the SPA's, which node-oidc-provider
  // keeps only for clients with a backchannel_logout_uri: there is none
  // for opaque tokens, and the API falls back on sub and iat.)
  // It also carries how and when the user signed in (acr, amr,
  // auth_time: RFC 9470 §6.1), for APIs that require a step-up; so does
  // the introspection answer of an opaque token.
  async extraTokenClaims(ctx, token) {
    if (token.kind !== 'AccessToken' || !token.sessionUid) return undefined;
    const session = await ctx.oidc.provider.Session.findByUid(token.sessionUid);
    if (!session) return undefined;
    const sid = session.authorizations?.api?.sid;
    return {
      ...(sid ? { sid } : undefined),
      ...(session.acr ? { acr: session.acr, amr: session.amr } : undefined),
      ...(session.loginTs ? { auth_time: session.loginTs } : undefined),
    };
  },
  async findAccount(ctx, sub) {
    const person = people[sub] ?? { name: sub };
    return {
      accountId: sub,
      async claims() {
        return { sub, ...person, email_verified: person.email ? true : undefined };
      },
    };
  },
  acrValues,
  features: {
    devInteractions: { enabled: true },
    clientCredentials: { enabled: true },
    // The introspection endpoint answers the API about any client's
    // tokens; another client learns only about its own.
    introspection: {
      enabled: true,
      allowedPolicy: (ctx, client, token) => client.clientId === 'api' || token.clientId === client.clientId,
    },
    revocation: { enabled: true },
    // Certificate-bound access tokens (RFC 8705 §3). This authority
    // listens on plain HTTP on the loopback, as if behind a TLS-terminating
    // proxy that forwards the client certificate, URL-encoded PEM, in
    // X-Client-Cert (nginx's $ssl_client_escaped_cert). Trusting that
    // header is fine only behind such a proxy, which overwrites it.
    mTLS: {
      enabled: true,
      certificateBoundAccessTokens: true,
      getCertificate(ctx) {
        const cert = ctx.get('x-client-cert');
        return cert ? decodeURIComponent(cert) : undefined;
      },
    },
    rpInitiatedLogout: { enabled: true },
    backchannelLogout: { enabled: true },
    // Rich Authorization Requests (RFC 9396): a token request may carry
    // authorization_details of the type payment_initiation, which the
    // token (a JWT's claim, or the introspection answer) then carries as
    // granted. The API decides from their members what the token allows
    // (e2e/details_test.go); here every well-formed request is granted.
    richAuthorizationRequests: {
      enabled: true,
      types: {
        payment_initiation: {
          validate(ctx, detail) {
            const amount = detail.instructedAmount;
            if (typeof amount?.currency !== 'string' || !/^\d+(\.\d{1,2})?$/.test(amount?.amount ?? '')) {
              throw new errors.InvalidAuthorizationDetails('payment_initiation needs instructedAmount {currency, amount}');
            }
          },
        },
      },
      authorizationDetailsForGrantSource: (ctx) => JSON.parse(ctx.oidc.params.authorization_details),
      authorizationDetailsForAccessToken: (ctx, token, source) => (ctx.oidc.params.authorization_details
        ? JSON.parse(ctx.oidc.params.authorization_details)
        : source?.rar),
      authorizationDetailsForIntrospection: (ctx, token) => token.rar,
    },
    resourceIndicators: {
      enabled: true,
      // A request that names no resource is for the walkthrough's API.
      defaultResource: (ctx, client, oneOf) => oneOf ?? defaultResource,
      useGrantedResource: () => true,
      getResourceServerInfo(ctx, indicator, client) {
        const r = resources[indicator];
        if (!r) throw new errors.InvalidTarget();
        const info = { ...r, accessTokenTTL: env.accessTokenTTL };
        if (r.accessTokenFormat === 'jwt') {
          info.jwt = { sign: { alg: accessTokenAlg[client.clientId] ?? 'RS256' } };
        }
        return info;
      },
    },
  },
  // Only the SPA calls the authority from a browser; allow its origin.
  clientBasedCORS: (ctx, origin, client) => client.clientId === 'spa' && origin === new URL(env.spaURL).origin,
  ttl: {
    AccessToken: env.accessTokenTTL,
    ClientCredentials: env.accessTokenTTL,
    IdToken: env.idTokenTTL,
    Session: env.sessionTTL,
    Grant: env.sessionTTL,
    Interaction: 600,
    AuthorizationCode: 60,
  },
  cookies: { keys: [randomBytes(32).toString('hex')] },
  // node-oidc-provider refuses to reach loopback and private addresses
  // from the server (SSRF protection); this development setup posts logout
  // tokens to an API on the loopback on purpose, so the guard is lifted for
  // that one URL, and for nothing else.
  fetch(url, options) {
    if (new URL(url).href === new URL(env.apiLogoutURL).href) delete options.dispatcher;
    return globalThis.fetch(url, options);
  },
  // Errors are rendered by the library; keep its stack traces out of pages.
  renderError(ctx, out) {
    ctx.type = 'html';
    ctx.body = `<!DOCTYPE html><title>oops</title><h1>${escape(out.error)}</h1><p>${escape(out.error_description ?? '')}</p>`;
  },
};

// apiJoinsSession records the API as a client of every sign-in session
// the SPA takes part in. node-oidc-provider posts logout tokens only to
// the clients of the session that ends, and the API, which never signs
// anyone in, would not be one: so its tokens would outlive the sign-out.
function apiJoinsSession(ctx) {
  if (ctx.oidc.client?.clientId === 'spa' && ctx.oidc.session?.accountId) {
    ctx.oidc.session.ensureClientContainer('api');
  }
}

// signedInWith records how the user of a sign-in session authenticated,
// once, when it began: the development form sets no acr, so the session
// gets the strongest value the client asked for in acr_values, or a
// password's. A client that needs more later asks again with prompt=login,
// which starts a new sign-in.
function signedInWith(ctx) {
  const session = ctx.oidc.session;
  if (!session?.accountId || session.acr) return;
  const asked = String(ctx.oidc.params?.acr_values ?? '').split(' ').filter((v) => acrValues.includes(v));
  session.acr = asked.sort((a, b) => acrValues.indexOf(b) - acrValues.indexOf(a))[0] ?? acrValues[0];
  session.amr = session.acr === 'urn:accesstoken:mfa' ? ['pwd', 'otp'] : ['pwd'];
}

function escape(s) {
  return String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function main(argv) {
  if (argv[0] === 'rotate-keys') {
    if (!argv[1]) throw new Error('usage: node authority.js rotate-keys JWKS_FILE');
    rotateKeys(argv[1]);
    console.log(`rotated: new keys first in ${argv[1]}; restart the authority to publish them`);
    return;
  }
  if (argv[0] === 'retire-keys') {
    if (!argv[1]) throw new Error('usage: node authority.js retire-keys JWKS_FILE');
    retireKeys(argv[1]);
    console.log(`retired: only the newest keys are left in ${argv[1]}; restart the authority to stop publishing the old ones`);
    return;
  }
  const provider = new Provider(env.issuer, configuration);
  provider.on('authorization.success', apiJoinsSession);
  provider.on('authorization.success', signedInWith);
  provider.on('backchannel.error', (ctx, err, client) => {
    console.error(`back-channel logout of ${client.clientId} failed: ${err.message}`);
  });
  // The authority is a development tool: answer on the loopback only.
  const server = provider.listen(env.port, env.host, () => {
    const { port } = server.address();
    console.log(`authority ${env.issuer} listening on http://${env.host}:${port}`);
    console.log(`  discovery: ${env.issuer}/.well-known/openid-configuration`);
    console.log(`  access token lifetime: ${env.accessTokenTTL}s; sign in with any login, e.g. alice`);
  });
  const stop = () => server.close(() => process.exit(0));
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main(process.argv.slice(2));
