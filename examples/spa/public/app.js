// The walkthrough's JavaScript application, rebuilt on oidc-client-ts.
//
// The 2016 walkthrough used the implicit flow (response_type "id_token
// token"); RFC 9700 (OAuth 2.0 Security Best Current Practice) deprecates
// it. This app uses the authorization code flow with PKCE, which
// oidc-client-ts does by default.
'use strict';

const cfg = window.SPA_CONFIG;
const here = window.location.origin;

const manager = new oidc.UserManager({
  authority: cfg.authority,
  client_id: 'spa',
  redirect_uri: `${here}/callback.html`,
  silent_redirect_uri: `${here}/silent-renew.html`,
  post_logout_redirect_uri: `${here}/index.html`,
  response_type: 'code',
  scope: 'openid profile email api',
  // The access token is for the API (its aud is "api"), so the user's
  // claims come from the ID token, not from the userinfo endpoint.
  loadUserInfo: false,
  // Renew through a hidden iframe (prompt=none) this many seconds before
  // the access token expires.
  automaticSilentRenew: true,
  accessTokenExpiringNotificationTimeInSeconds: cfg.renewBefore,
  // Watch the authority's session through its check_session_iframe, where
  // it publishes one (OpenID Connect Session Management). node-oidc-provider
  // does not: there, a session ended at the authority shows at the next
  // silent renew, which fails with login_required.
  monitorSession: true,
  // With DPOP=true (server.js), tokens are bound to a key the browser
  // keeps, non-extractable, in IndexedDB (RFC 9449): the token request and
  // every API call carry a proof signed with it.
  ...(cfg.dpop ? { dpop: { store: new oidc.IndexedDbDPoPStore() } } : {}),
});

const $ = (id) => document.getElementById(id);

function show(id, data) {
  $(id).textContent = data === undefined ? '' : JSON.stringify(data, null, 2);
}

let renewals = 0;

function showUser(user) {
  if (!user || user.expired) {
    show('user');
    show('token');
    $('status').textContent = 'signed out';
    return;
  }
  show('user', user.profile);
  show('token', {
    scope: user.scope,
    expires_at: new Date(user.expires_at * 1000).toISOString(),
    renewals,
  });
  $('status').textContent = `signed in as ${user.profile.name ?? user.profile.sub}`;
}

function showSession(state) {
  show('session', { state, at: new Date().toISOString() });
}

async function callAPI() {
  const user = await manager.getUser();
  const headers = {};
  if (user && !user.expired && user.access_token) {
    headers.Authorization = `Bearer ${user.access_token}`;
    if (cfg.dpop) {
      headers.Authorization = `DPoP ${user.access_token}`;
      headers.DPoP = await manager.dpopProof(cfg.apiURL, user, 'GET');
    }
  }
  try {
    const res = await fetch(cfg.apiURL, { headers });
    if (res.ok) {
      show('api-result', await res.json());
      return;
    }
    // The middleware explains a refusal in WWW-Authenticate (RFC 6750;
    // RFC 9449 §7.1 for DPoP, with a DPoP-Nonce when it asks for one).
    show('api-result', {
      status: res.status,
      statusText: res.statusText,
      challenge: res.headers.get('WWW-Authenticate'),
      dpop_nonce: res.headers.get('DPoP-Nonce') ?? undefined,
    });
  } catch (err) {
    show('api-result', { error: String(err) });
  }
}

async function main() {
  if (window.location.pathname === '/callback.html') {
    try {
      await manager.signinRedirectCallback();
    } catch (err) {
      console.error('sign-in callback:', err);
    }
    window.location.replace('index.html');
    return;
  }

  manager.events.addUserLoaded((user) => {
    renewals++;
    showUser(user);
  });
  manager.events.addUserUnloaded(() => showUser(null));
  manager.events.addAccessTokenExpired(() => showUser(null));
  manager.events.addSilentRenewError(async (err) => {
    console.error('silent renew:', err);
    if (err.error === 'login_required') {
      await manager.removeUser();
      showSession('ended at the authority');
    }
  });
  manager.events.addUserSignedOut(async () => {
    await manager.removeUser();
    showSession('ended at the authority');
  });
  manager.events.addUserSessionChanged(() => showSession('changed'));

  $('login').addEventListener('click', () => {
    manager.signinRedirect().catch((err) => console.error('login:', err));
  });
  $('call-api').addEventListener('click', callAPI);
  $('logout').addEventListener('click', () => {
    manager.signoutRedirect().catch((err) => console.error('logout:', err));
  });

  const user = await manager.getUser();
  showUser(user);
  showSession(user ? 'active' : 'none');
  document.body.dataset.ready = 'true';
}

main();
