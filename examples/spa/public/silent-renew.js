// The silent renew iframe's page: pass the authorization response to the
// UserManager of the main window, which exchanges the code for tokens.
'use strict';
new oidc.UserManager({
  authority: window.SPA_CONFIG.authority,
  client_id: 'spa',
  redirect_uri: `${window.location.origin}/callback.html`,
}).signinSilentCallback().catch((err) => console.error('silent renew callback:', err));
