package middleware

import (
	"bytes"
	"errors"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"

	"github.com/accesstoken/bearer"
	"github.com/accesstoken/bearer/internal/alphabet"
)

// maxFormBody bounds the form body read when the form source is enabled,
// or looked at for a token sent twice when it is not.
const maxFormBody = 64 << 10

// malformed answers credentials outside the b64token syntax: a malformed
// token is invalid_token (RFC 6750 §3.1), whichever way it came.
func malformed() error { return bearer.NewError(bearer.ErrMalformed, "") }

// twoWays answers a token presented in more than one way (RFC 6750 §2).
func twoWays() error {
	return bearer.NewError(bearer.ErrInvalidRequest, "token presented in more than one way")
}

// source finds a token in one place of a request. found is false when the
// place holds no token at all; err is for a token presented wrongly.
type source func(w http.ResponseWriter, r *http.Request) (token string, found bool, err error)

// fromHeader reads the values of the Authorization field:
// "Bearer <token>" (RFC 6750 §2.1) or "DPoP <token>" (RFC 9449 §7.1),
// and returns the scheme as the Validator takes it ("" if no token). The
// Validator checks either token's b64token syntax: a Bearer token's only
// if it is not cached, see extract; a DPoP token's so that its refusal
// carries the DPoP challenge.
func fromHeader(values []string) (token, scheme string, err error) {
	scheme, token, err = credentials(values)
	if err != nil {
		return "", "", err
	}
	if alphabet.IsScheme(scheme, "DPoP") {
		return token, "DPoP", nil
	}
	if token, err = bearerToken(scheme, token); token == "" {
		return "", "", err
	}
	return token, "Bearer", nil
}

// TokenFromAuthorization applies RFC 6750 §2.1 to the values of the
// Authorization field (or gRPC's authorization metadata): it returns the
// bearer token, or "" when there is none (no field, or another scheme).
// Two values are an invalid request (bearer.ErrInvalidRequest); Bearer
// credentials that are not a b64token are a malformed token
// (bearer.ErrInvalidToken, bearer.ErrMalformed). Adapters for other
// transports use it so every one reads tokens alike.
func TokenFromAuthorization(values []string) (string, error) {
	scheme, token, err := credentials(values)
	if err != nil {
		return "", err
	}
	token, err = bearerToken(scheme, token)
	if token != "" && !alphabet.IsB64Token(token) {
		return "", malformed()
	}
	return token, err
}

// credentials splits the one value of the Authorization field into its
// scheme and what follows it; two values are an invalid request.
func credentials(values []string) (scheme, rest string, err error) {
	switch len(values) {
	case 0:
		return "", "", nil
	case 1:
	default:
		return "", "", bearer.NewError(bearer.ErrInvalidRequest, "more than one Authorization field")
	}
	scheme, rest, _ = strings.Cut(values[0], " ")
	return scheme, strings.TrimLeft(rest, " "), nil
}

// bearerToken returns the token of credentials under scheme, without
// its b64token check: "" for another scheme, and for Bearer without a
// token a malformed token.
func bearerToken(scheme, token string) (string, error) {
	if !alphabet.IsScheme(scheme, "Bearer") {
		return "", nil
	}
	if token == "" {
		return "", malformed()
	}
	return token, nil
}

// fromQuery reads the access_token query parameter (RFC 6750 §2.3). The
// response must then not be stored by shared caches.
func fromQuery(w http.ResponseWriter, r *http.Request) (string, bool, error) {
	values, ok := r.URL.Query()["access_token"]
	if !ok {
		return "", false, nil
	}
	token, err := single(values, "more than one access_token parameter")
	if err != nil {
		return "", false, err
	}
	w.Header().Set("Cache-Control", "private")
	return token, true, nil
}

// single returns the one token in values: a repeated parameter is an
// invalid request, a value outside b64token a malformed token.
func single(values []string, repeated string) (string, error) {
	if len(values) != 1 {
		return "", bearer.NewError(bearer.ErrInvalidRequest, repeated)
	}
	if !alphabet.IsB64Token(values[0]) {
		return "", malformed()
	}
	return values[0], nil
}

// isFormBody reports whether r has a body RFC 6750 §2.2 would read a
// token from: single-part application/x-www-form-urlencoded, and a method
// that has a body.
func isFormBody(r *http.Request) bool {
	if r.Method == http.MethodGet || r.Method == http.MethodHead || r.Body == nil || r.Body == http.NoBody {
		return false
	}
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return err == nil && mt == "application/x-www-form-urlencoded"
}

// fromForm reads access_token from a form-encoded body (RFC 6750 §2.2).
// The parsed form stays in r.PostForm.
func fromForm(w http.ResponseWriter, r *http.Request) (string, bool, error) {
	if !isFormBody(r) {
		return "", false, nil
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBody)
	if err := r.ParseForm(); err != nil {
		return "", false, bearer.NewError(bearer.ErrInvalidRequest, "unreadable form body")
	}
	values, ok := r.PostForm["access_token"]
	if !ok {
		return "", false, nil
	}
	token, err := single(values, "more than one access_token parameter")
	return token, err == nil, err
}

func fromCookie(name string) source {
	return func(_ http.ResponseWriter, r *http.Request) (string, bool, error) {
		cookies := r.CookiesNamed(name)
		if len(cookies) == 0 {
			return "", false, nil
		}
		values := make([]string, len(cookies))
		for i, c := range cookies {
			values[i] = c.Value
		}
		token, err := single(values, "more than one token cookie")
		return token, err == nil, err
	}
}

func fromExtractor(extract func(*http.Request) (string, error)) source {
	return func(_ http.ResponseWriter, r *http.Request) (string, bool, error) {
		token, err := extract(r)
		if err != nil {
			var be *bearer.Error
			if !errors.As(err, &be) {
				be = bearer.NewError(bearer.ErrInvalidRequest, "malformed credentials")
			}
			return "", false, be
		}
		return token, token != "", nil
	}
}

// extract reads the token from auth, the values of r's Authorization
// field, and asks every other enabled source; scheme is that of the
// field's token for the Validator, "" for one from another source. RFC
// 6750 §2 forbids presenting a token in more than one way, so two
// findings are an invalid request; so is a token in the Authorization
// field with an access_token in the query or a form body even when those
// sources are off, since the client is leaking its token where it should
// not be.
//
// A Bearer token from the field that is not a b64token is malformed
// before all of that. The Validator checks it, and only when the token is
// not cached, so that a request with a cached token skips it; extract
// checks it itself when another refusal could come first, before it asks
// a source (which may set a header or read the body).
func (o *options) extract(w http.ResponseWriter, r *http.Request, auth []string) (token, scheme string, err error) {
	token, scheme, err = fromHeader(auth)
	if err != nil {
		return "", "", err
	}
	header := token != ""
	query := header && !o.query && queryHasToken(r.URL.RawQuery)
	form := header && !o.form && isFormBody(r)
	if scheme == "Bearer" && (len(o.sources) > 0 || query || form) && !alphabet.IsB64Token(token) {
		return "", "", malformed()
	}
	found := 0
	if header {
		found = 1
	}
	for _, s := range o.sources {
		t, ok, err := s(w, r)
		if err != nil {
			return "", scheme, err
		}
		if ok {
			token = t
			found++
		}
	}
	if found > 1 || query || form && formHasToken(r) {
		return "", scheme, twoWays()
	}
	return token, scheme, nil
}

// queryHasToken reports whether the query carries access_token, as
// url.ParseQuery would find it, without parsing (and allocating for) the
// query of every request: a name that is access_token once unescaped is
// spelled so in the query, or escaped with %.
func queryHasToken(query string) bool {
	if query == "" || !strings.Contains(query, "access_token") && !strings.Contains(query, "%") {
		return false
	}
	values, _ := url.ParseQuery(query)
	return values.Has("access_token")
}

// formHasToken reports whether a form body (isFormBody) carries
// access_token. It reads at most maxFormBody bytes and puts them back in
// front of the rest, so the handler still reads the whole body as sent.
func formHasToken(r *http.Request) bool {
	head, err := io.ReadAll(io.LimitReader(r.Body, maxFormBody))
	r.Body = struct {
		io.Reader
		io.Closer
	}{io.MultiReader(bytes.NewReader(head), r.Body), r.Body}
	if err != nil {
		return false
	}
	// ParseQuery keeps every pair it could read, and a pair cut at the
	// limit can only lose its value, not its name.
	values, _ := url.ParseQuery(string(head))
	return values.Has("access_token")
}
