package middleware

import (
	"errors"
	"mime"
	"net/http"
	"strings"

	"github.com/accesstoken/bearer"
	"github.com/accesstoken/bearer/internal/alphabet"
)

// maxFormBody bounds the form body read when the form source is enabled.
const maxFormBody = 64 << 10

// source finds a token in one place of a request. found is false when the
// place holds no token at all; err is for a token presented wrongly.
type source func(w http.ResponseWriter, r *http.Request) (token string, found bool, err error)

// fromHeader reads "Authorization: Bearer <token>" (RFC 6750 §2.1).
func fromHeader(_ http.ResponseWriter, r *http.Request) (string, bool, error) {
	token, err := TokenFromAuthorization(r.Header.Values("Authorization"))
	return token, token != "", err
}

// TokenFromAuthorization applies RFC 6750 §2.1 to the values of the
// Authorization field (or gRPC's authorization metadata): it returns the
// bearer token, or "" when there is none (no field, or another scheme). Two
// values, or credentials that are not a b64token, are an invalid request.
// Adapters for other transports use it so every one reads tokens alike.
func TokenFromAuthorization(values []string) (string, error) {
	switch len(values) {
	case 0:
		return "", nil
	case 1:
	default:
		return "", bearer.NewError(bearer.ErrInvalidRequest, "more than one Authorization field")
	}
	scheme, rest, _ := strings.Cut(values[0], " ")
	if !strings.EqualFold(scheme, "Bearer") {
		return "", nil
	}
	token := strings.TrimLeft(rest, " ")
	if !alphabet.IsB64Token(token) {
		return "", bearer.NewError(bearer.ErrInvalidRequest, "malformed bearer credentials")
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
	if len(values) != 1 || !alphabet.IsB64Token(values[0]) {
		return "", false, bearer.NewError(bearer.ErrInvalidRequest, "malformed access_token parameter")
	}
	w.Header().Set("Cache-Control", "private")
	return values[0], true, nil
}

// fromForm reads access_token from a form-encoded body under the rules of
// RFC 6750 §2.2: single-part application/x-www-form-urlencoded, and a
// method that has a body. The parsed form stays in r.PostForm.
func fromForm(w http.ResponseWriter, r *http.Request) (string, bool, error) {
	if r.Method == http.MethodGet || r.Method == http.MethodHead || r.Body == nil || r.Body == http.NoBody {
		return "", false, nil
	}
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/x-www-form-urlencoded" {
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
	if len(values) != 1 || !alphabet.IsB64Token(values[0]) {
		return "", false, bearer.NewError(bearer.ErrInvalidRequest, "malformed access_token parameter")
	}
	return values[0], true, nil
}

func fromCookie(name string) source {
	return func(_ http.ResponseWriter, r *http.Request) (string, bool, error) {
		cookies := r.CookiesNamed(name)
		switch len(cookies) {
		case 0:
			return "", false, nil
		case 1:
		default:
			return "", false, bearer.NewError(bearer.ErrInvalidRequest, "more than one token cookie")
		}
		if !alphabet.IsB64Token(cookies[0].Value) {
			return "", false, bearer.NewError(bearer.ErrInvalidRequest, "malformed token cookie")
		}
		return cookies[0].Value, true, nil
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

// extract asks every enabled source. RFC 6750 §2 forbids presenting a
// token in more than one way, so two findings are an invalid request.
func extract(sources []source, w http.ResponseWriter, r *http.Request) (string, error) {
	var token string
	found := 0
	for _, s := range sources {
		t, ok, err := s(w, r)
		if err != nil {
			return "", err
		}
		if ok {
			token = t
			found++
		}
	}
	if found > 1 {
		return "", bearer.NewError(bearer.ErrInvalidRequest, "token presented in more than one way")
	}
	return token, nil
}
