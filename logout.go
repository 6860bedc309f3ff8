package bearer

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"mime"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
)

// backchannelLogoutEvent is the member of events that makes a JWT a logout
// token (OpenID Connect Back-Channel Logout 1.0 §2.4).
const backchannelLogoutEvent = "http://schemas.openid.net/event/backchannel-logout"

// Reasons a logout request is refused, besides those of access tokens
// (ErrMalformed, ErrSignature, ErrExpired, …). Each is a fixed phrase,
// sent as the error_description.
var (
	errLogoutMethod   = errors.New("logout requests are POST")
	errLogoutRequest  = errors.New("logout request malformed")
	errNoLogoutToken  = errors.New("logout_token missing")
	errNotLogoutToken = errors.New("not a logout token")
	errLogoutReplayed = errors.New("logout token replayed")
	errStoreDown      = errors.New("revocation store unavailable")
	// errLogoutRefused: go-oidc refused a token the checks of this file
	// accept; its reason is logged.
	errLogoutRefused = errors.New("logout token refused")
)

// LogoutHandler returns the endpoint the authority calls to sign a user
// out of this API (OpenID Connect Back-Channel Logout 1.0). Mount it at the
// backchannel_logout_uri registered for the API's client (Config.ClientID)
// at the authority.
//
// It takes a POST of an application/x-www-form-urlencoded logout_token,
// verifies it with go-oidc's VerifyLogout over the Validator's own keys
// (see KeySet), and then requires what VerifyLogout leaves out: typ
// logout+jwt, JWT or none, iat not in the future and exp not past (each
// with Leeway), events holding the back-channel logout event as an
// object, a jti not seen before, and no member named twice or in another
// case. It
// then revokes the tokens of the session the logout token names (sid)
// and, unless Config.SessionOnlyLogout, those of its subject (sub) that
// carry no sid and were issued at or before it; a logout token without
// sid revokes every token of its subject issued at or before it. See
// Revoke.
//
// It answers 200 with Cache-Control: no-store once the revocations hold
// here, 400 with a JSON error invalid_request otherwise (§2.8), 405 to
// another method, and 503 with Retry-After when the authority's keys or
// Config.RevocationStore cannot be reached. It never logs the token, only
// its Fingerprint, and logs refusals of tokens no key verifies as a run, a
// warning at most once a minute, since anyone can post them. Without
// Config.ClientID, every logout token is refused; a JWT-only API sets
// ClientID with ModeJWT, and needs no ClientSecret. In ModeIntrospection
// without IntrospectionJWT the authority's keys judge only logout tokens:
// the first one fetches them, and they are refreshed from then on.
// On a Validator of several authorities (NewMulti), the logout token's
// iss chooses the authority that judges it and whose tokens it revokes.
func (v *Validator) LogoutHandler() http.Handler {
	if v.sole != nil && v.sole.s.ClientID == "" {
		v.log.Error("bearer: LogoutHandler without Config.ClientID refuses every logout token: their aud must name this API's client at the authority " +
			"(a JWT-only API sets ClientID with Mode ModeJWT, and no secret)")
	}
	return http.HandlerFunc(v.serveLogout)
}

func (v *Validator) serveLogout(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		writeLogoutError(w, http.StatusMethodNotAllowed, errLogoutMethod, 0)
		return
	}
	token, err := readLogoutToken(w, r, v.maxSize)
	if err != nil {
		writeLogoutError(w, http.StatusBadRequest, err, 0)
		return
	}
	target, err := v.signer(token)
	if err == nil {
		// One deadline for all the waiting on the authority and the store.
		ctx, cancel := context.WithTimeout(r.Context(), target.s.Timeout)
		defer cancel()
		r = r.WithContext(ctx)
		err = v.logout(ctx, target, token)
		if err == nil && target.lease != nil {
			v.proven(target)
		}
	}
	log := v.log
	if target != nil {
		log = target.s.Logger
	}
	if err != nil {
		v.logLogoutRefused(r.Context(), log, token, err)
		e := AsError(err)
		switch {
		case errors.Is(err, errStoreDown):
			writeLogoutError(w, http.StatusServiceUnavailable, errStoreDown, time.Second)
		case e.Status == http.StatusServiceUnavailable:
			writeLogoutError(w, e.Status, errors.New(e.Description), e.RetryAfter)
		default:
			writeLogoutError(w, http.StatusBadRequest, errors.New(e.Description), 0)
		}
		return
	}
	log.InfoContext(r.Context(), "bearer: back-channel logout", "token", Fingerprint(token))
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
}

// verifiedRefusal is the refusal of a logout token that the authority's
// keys verified: only the authority can cause one.
type verifiedRefusal struct{ error }

func (e verifiedRefusal) Unwrap() error { return e.error }

// logLogoutRefused logs a refused logout token. One the authority's keys
// verified, or a store failure, is worth a warning each time. Any other
// may be anyone's garbage, so a warning names the first of a run and then,
// at most once per logEvery, the one at hand with how many were refused
// since the last line; the rest are debug lines: a flood of made-up POSTs
// costs a few lines, while a misconfigured authority is still told.
func (v *Validator) logLogoutRefused(ctx context.Context, log *slog.Logger, token string, err error) {
	var verified verifiedRefusal
	if errors.As(err, &verified) || errors.Is(err, errStoreDown) {
		log.WarnContext(ctx, "bearer: back-channel logout refused", "token", Fingerprint(token), "error", err)
		return
	}
	if first, n, _ := v.logoutRefusals.event(time.Now()); first || n > 0 {
		log.WarnContext(ctx, "bearer: back-channel logout refused unverified (such refusals are told at most once a minute, with a count)",
			"token", Fingerprint(token), "error", err, "refused", n)
		return
	}
	log.DebugContext(ctx, "bearer: back-channel logout refused unverified", "token", Fingerprint(token), "error", err)
}

// readLogoutToken returns the one logout_token of a form body.
func readLogoutToken(w http.ResponseWriter, r *http.Request, maxTokenSize int) (string, error) {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/x-www-form-urlencoded" {
		return "", errLogoutRequest
	}
	r.Body = http.MaxBytesReader(w, r.Body, int64(maxTokenSize)+4096)
	if err := r.ParseForm(); err != nil {
		return "", errLogoutRequest
	}
	values := r.PostForm["logout_token"]
	switch {
	case len(values) > 1:
		return "", errLogoutRequest
	case len(values) == 0 || values[0] == "":
		return "", errNoLogoutToken
	}
	return values[0], nil
}

// writeLogoutError answers a logout request that failed, with the JSON
// error of §2.8.
func writeLogoutError(w http.ResponseWriter, status int, reason error, retryAfter time.Duration) {
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	code := codeInvalidRequest
	if status == http.StatusServiceUnavailable {
		code = "temporarily_unavailable"
		h.Set("Retry-After", strconv.Itoa(int((retryAfter+time.Second-1)/time.Second)))
	}
	w.WriteHeader(status)
	body, _ := json.Marshal(struct {
		Error       string `json:"error"`
		Description string `json:"error_description"`
	}{code, reason.Error()})
	_, _ = w.Write(append(body, '\n'))
}

// logoutToken is what a verified logout token says.
type logoutToken struct {
	issuer, subject, session, id string
	issuedAt, expires            time.Time
}

// logout verifies a logout token with a, the authority it names, and
// applies the revocations it calls for.
func (v *Validator) logout(ctx context.Context, a *authority, raw string) error {
	lt, err := a.verifyLogout(ctx, raw)
	if err != nil {
		return err
	}
	var revocations []Revocation
	if lt.session != "" {
		revocations = append(revocations, Revocation{Issuer: lt.issuer, SessionID: lt.session})
	}
	if lt.subject != "" && (lt.session == "" || !a.s.SessionOnlyLogout) {
		revocations = append(revocations, Revocation{Issuer: lt.issuer, Subject: lt.subject, IssuedBefore: lt.issuedAt, WithoutSession: lt.session != ""})
	}
	// The revocations come before the replay check: a verified logout
	// token revokes the same tokens however often it comes, so a replay
	// does no harm, while an authority's retry of a logout whose replay
	// check timed out after the store recorded its jti would otherwise be
	// refused as a replay and its revocations never made.
	var storeErr error
	now := time.Now()
	for _, r := range revocations {
		if ok, err := v.applyRevocation(&r, now); err != nil || !ok {
			continue
		}
		storeErr = joinErrors(storeErr, v.store.Revoke(ctx, r))
	}
	first, err := v.store.FirstSeen(ctx, lt.issuer+" "+lt.id, lt.expires.Add(a.s.leeway))
	switch {
	case err != nil:
		storeErr = joinErrors(storeErr, err)
	case !first:
		return verifiedRefusal{errInvalidToken(errLogoutReplayed)}
	}
	if storeErr != nil {
		// The revocations hold here; the other replicas may miss them.
		return fmt.Errorf("%w: %w", errStoreDown, storeErr)
	}
	return nil
}

// verifyLogout verifies a logout token twice: with go-oidc's VerifyLogout,
// and with the rules of this file, which read the payload with the
// decoder of access tokens. Both must accept it.
func (v *authority) verifyLogout(ctx context.Context, raw string) (*logoutToken, error) {
	// The reader's rules and typ first, to refuse before any key is
	// looked at; KeySet reads it again for go-oidc, with the same rules.
	var t jws
	if err := t.read(raw, &jwsPolicy{maxSize: v.s.MaxTokenSize, algs: v.s.algorithms, typ: logoutTypOK}); err != nil {
		return nil, invalid(err)
	}
	algs := v.s.asymmetricAlgorithms()
	r, err := v.p.get(ctx)
	if err != nil {
		return nil, err
	}
	var check keyCheck
	verifier := oidc.NewVerifier(r.issuer, authorityKeys{v}, &oidc.Config{
		ClientID:             v.s.ClientID,
		SupportedSigningAlgs: algs,
		// exp is checked below, with Leeway.
		SkipExpiryCheck: true,
	})
	_, oidcErr := verifier.VerifyLogout(context.WithValue(ctx, keyCheckKey{}, &check), raw)
	if check.err != nil {
		return nil, check.err
	}
	if !check.called {
		// go-jose refused the token before any key was looked at.
		v.s.Logger.DebugContext(ctx, "bearer: go-oidc refused a logout token unread", "token", Fingerprint(raw), "error", oidcErr)
		return nil, errInvalidToken(ErrMalformed)
	}
	lt, err := v.checkLogoutClaims(string(check.payload), r.issuer, time.Now())
	if err != nil {
		return nil, verifiedRefusal{err}
	}
	if oidcErr != nil {
		v.s.Logger.WarnContext(ctx, "bearer: go-oidc refused a logout token that passed the other checks", "token", Fingerprint(raw), "error", oidcErr)
		return nil, verifiedRefusal{errInvalidToken(errLogoutRefused)}
	}
	return lt, nil
}

// logoutTypOK reports whether typ, a media type compared
// case-insensitively (RFC 7515 §4.1.9), may head a logout token:
// logout+jwt, which Back-Channel Logout 1.0 §2.4 only recommends, JWT,
// which Keycloak before 25 and Authentik before 2025.12 send, or none.
// Any other explicit type (at+jwt, id_token+jwt, …) names another kind of
// JWT and is refused (RFC 8725 §3.11). A typ JWT leaves an ID token to
// the §4.1 defence, which checkLogoutClaims applies: the logout event
// required, a nonce refused.
func logoutTypOK(typ string) bool {
	switch strings.ToLower(typ) {
	case "", "logout+jwt", "application/logout+jwt", "jwt", "application/jwt":
		return true
	}
	return false
}

// logoutMembers are the claims a logout token's rules read beyond those
// of access tokens (claimMembers). A member whose name differs from one of
// them only in case is refused: encoding/json, which go-oidc uses, would
// read it as that claim.
var logoutMembers = []string{"events", "nonce"}

// logoutMembersRead is what a logout token's own rules read beyond the
// registered claims: events, as JSON, and whether there is a nonce.
type logoutMembersRead struct {
	events string
	nonce  bool
}

func (l *logoutMembersRead) member(s *jsonScanner, name []byte) (uint, error) {
	var err error
	switch string(name) {
	case "events":
		l.events, err = s.rawValue()
		return 1 << 0, err
	case "nonce":
		l.nonce = true
		return 1 << 1, s.skip(0)
	}
	return 0, s.skip(0)
}

// checkLogoutClaims applies OpenID Connect Back-Channel Logout 1.0 §2.4
// and §2.6 to a verified payload.
func (v *authority) checkLogoutClaims(payload, issuer string, now time.Time) (*logoutToken, error) {
	w, err := decodeClaims(payload)
	if err != nil {
		return nil, errInvalidToken(ErrMalformed)
	}
	// decodeClaims refused the registered claims in another case; this
	// reading refuses nonce's, and keeps events.
	var l logoutMembersRead
	m := readMembers(payload, logoutMembers)
	for m.next() {
		m.took(l.member(&m.s, m.name))
	}
	if m.end() != nil {
		return nil, errInvalidToken(ErrMalformed)
	}
	// events holds the logout event as an object; an ID token has a nonce.
	if !isObject(bytesOf(l.events)) || !isObject(bytesOf(rawMember(l.events, backchannelLogoutEvent))) || l.nonce {
		return nil, errInvalidToken(errNotLogoutToken)
	}
	if w.Jti == "" || w.Sub == "" && w.Sid == "" || !w.Iat.set || !w.Exp.set {
		return nil, errInvalidToken(ErrMalformed)
	}
	c := w.claims(payload)
	if c.Issuer != issuer {
		return nil, errInvalidToken(ErrIssuer)
	}
	if v.s.ClientID == "" || !slices.Contains(c.Audience, v.s.ClientID) {
		return nil, errInvalidToken(ErrAudience)
	}
	if err := v.checkTimes(c, now); err != nil {
		return nil, err
	}
	return &logoutToken{issuer: c.Issuer, subject: c.Subject, session: c.SessionID, id: c.ID, issuedAt: c.IssuedAt, expires: c.ExpiresAt}, nil
}
