package bearertest

import (
	"net/http"
	"strconv"
	"time"
)

// serveHTTP routes a request to an endpoint, counts it, applies the injected
// faults and otherwise serves the endpoint normally.
func (a *Authority) serveHTTP(w http.ResponseWriter, r *http.Request) {
	e, ok := a.route(r.URL.Path)
	if !ok {
		http.NotFound(w, r)
		return
	}

	a.mu.Lock()
	a.hits[e]++
	f, down := a.faults[e], a.down
	a.mu.Unlock()

	switch {
	case e == Discovery && !a.openid:
		http.NotFound(w, r)
		return
	case down:
		writeStatus(w, http.StatusServiceUnavailable)
		return
	}
	if f.delay > 0 {
		t := time.NewTimer(f.delay)
		defer t.Stop()
		select {
		case <-t.C:
		case <-r.Context().Done():
			return
		case <-a.done:
			return
		}
	}
	switch {
	case f.status != 0:
		writeStatus(w, f.status)
		return
	case f.body != nil:
		w.Header().Set("Content-Type", "application/json")
		w.Write(f.body)
		return
	}

	switch e {
	case Discovery, Metadata:
		if get(w, r) {
			writeJSON(w, http.StatusOK, mustJSON(a.discovery()))
		}
	case JWKS:
		if get(w, r) {
			writeJSON(w, http.StatusOK, a.JWKS())
		}
	case Introspection:
		a.serveIntrospection(w, r)
	default:
		http.NotFound(w, r)
	}
}

// route maps a request path to an endpoint.
func (a *Authority) route(path string) (Endpoint, bool) {
	switch path {
	case a.path + "/.well-known/openid-configuration":
		return Discovery, true
	case "/.well-known/oauth-authorization-server" + a.path:
		return Metadata, true
	case a.path + "/jwks":
		return JWKS, true
	case a.path + "/introspect":
		return Introspection, true
	}
	return "", false
}

// discovery returns a fresh discovery document, passed through the edit
// function set with SetDiscovery.
func (a *Authority) discovery() map[string]any {
	base := a.URL + a.path
	doc := map[string]any{
		"issuer":                                a.issuer,
		"jwks_uri":                              a.JWKSURL(),
		"introspection_endpoint":                base + "/introspect",
		"token_endpoint":                        base + "/token",
		"id_token_signing_alg_values_supported": append([]string(nil), algorithms...),
		"response_types_supported":              []string{"code"},
		"subject_types_supported":               []string{"public"},
		"scopes_supported":                      []string{"openid", "profile", "email", "api"},
	}
	a.mu.Lock()
	edit := a.edit
	a.mu.Unlock()
	if edit != nil {
		edit(doc) // outside the lock: edit may call the Authority
	}
	return doc
}

// get reports whether r is a GET or HEAD, answering 405 otherwise.
func get(w http.ResponseWriter, r *http.Request) bool {
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		return true
	}
	w.Header().Set("Allow", "GET, HEAD")
	writeStatus(w, http.StatusMethodNotAllowed)
	return false
}

// writeJSON answers with status and body, a JSON document.
func writeJSON(w http.ResponseWriter, status int, body []byte) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	w.Write(body)
}

// writeStatus answers with code and a short plain-text body.
func writeStatus(w http.ResponseWriter, code int) {
	text := http.StatusText(code)
	if text == "" {
		text = "status " + strconv.Itoa(code)
	}
	http.Error(w, text, code)
}
