// Package refusal holds the headers of a refused request, which
// bearer.WriteError sends and the middleware sends before an application's
// own ErrorHandler writes the body: whoever renders a refusal, the client
// gets the same challenge.
package refusal

import (
	"net/http"
	"strconv"
	"time"
)

// SetHeaders sets on h the headers of a refusal with status: the RFC 6750
// challenge for 400, 401 and 403, exposed to CORS so that browser apps can
// read it; Retry-After, in whole seconds rounded up, for 503; and for
// every refusal Cache-Control: no-store (RFC 6750 §3 asks that they not be
// cached) and X-Content-Type-Options: nosniff.
func SetHeaders(h http.Header, status int, challenge string, retryAfter time.Duration) {
	switch status {
	case http.StatusUnauthorized, http.StatusForbidden, http.StatusBadRequest:
		h.Set("WWW-Authenticate", challenge)
		h.Add("Access-Control-Expose-Headers", "WWW-Authenticate")
	case http.StatusServiceUnavailable:
		h.Set("Retry-After", strconv.Itoa(int((retryAfter+time.Second-1)/time.Second)))
	}
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
}

// AddDPoP adds to h what a refusal owes a DPoP client (RFC 9449 §7.1,
// §9): the challenges after the first, and the nonce to use next, both
// exposed to CORS so that browser apps can read them.
func AddDPoP(h http.Header, status int, challenges []string, nonce string) {
	if status == http.StatusUnauthorized || status == http.StatusForbidden || status == http.StatusBadRequest {
		for _, c := range challenges {
			h.Add("WWW-Authenticate", c)
		}
	}
	if nonce != "" {
		h.Set("DPoP-Nonce", nonce)
		h.Add("Access-Control-Expose-Headers", "DPoP-Nonce")
	}
}
