// Package grpcbearer protects gRPC services with a bearer.Validator.
//
//	srv := grpc.NewServer(
//		grpc.ChainUnaryInterceptor(grpcbearer.UnaryServerInterceptor(v,
//			grpcbearer.Require("/orders.Orders/Cancel", bearer.AllOf("orders:write")),
//			grpcbearer.Public("/grpc.health.v1.Health/Check"),
//		)),
//		grpc.ChainStreamInterceptor(grpcbearer.StreamServerInterceptor(v)),
//	)
//
// The token is read from the "authorization" metadata, as
// "Bearer <token>", which is where grpc-go's per-RPC credentials
// (oauth.TokenSource and the like) put it. Every method is guarded unless
// listed with Public. Handlers find the claims with
// bearer.ClaimsFromContext(ctx).
//
// Failures are the net/http middleware's, mapped to codes: a missing or
// invalid token, or a sign-in that does not meet a step-up requirement
// (bearer.ACR, bearer.MaxAge), is codes.Unauthenticated, insufficient
// scope codes.PermissionDenied, a malformed request
// codes.InvalidArgument and an unreachable authority codes.Unavailable.
// The status message is the error's fixed description (and the scopes
// required, if any); the RFC 6750 challenge goes in the
// "www-authenticate" header metadata and, for Unavailable, "retry-after"
// in seconds.
//
// A refusal with an error code also carries, in the status details, an
// errdetails.ErrorInfo of domain "github.com/accesstoken/bearer" whose
// Reason is the code in upper case (INSUFFICIENT_SCOPE,
// INSUFFICIENT_USER_AUTHENTICATION, INVALID_TOKEN, INVALID_REQUEST) and
// whose Metadata holds what the challenge names, for clients that read
// details rather than headers: "scope" (the scopes of the method refused,
// never others), "acr_values" and "max_age" (RFC 9470 §3).
//
// A token bound to a client certificate (cnf x5t#S256, RFC 8705) is
// accepted only on a TLS connection with that certificate. DPoP (RFC 9449)
// binds a proof to an HTTP method and URI, which gRPC calls do not have:
// a DPoP-bound token is refused (invalid_token), as a Bearer token would be.
package grpcbearer

import (
	"context"
	"crypto/x509"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"

	"github.com/accesstoken/bearer"
	"github.com/accesstoken/bearer/middleware"
)

// UnaryServerInterceptor returns an interceptor that admits only calls
// with a valid token and passes the handler a context carrying its claims.
func UnaryServerInterceptor(v *bearer.Validator, opts ...Option) grpc.UnaryServerInterceptor {
	g := newGuard(v, opts)
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		ctx, md, err := g.check(ctx, info.FullMethod)
		if err != nil {
			_ = grpc.SetHeader(ctx, md)
			return nil, err
		}
		return handler(ctx, req)
	}
}

// StreamServerInterceptor returns an interceptor that admits only streams
// with a valid token; the handler's stream.Context() carries the claims.
func StreamServerInterceptor(v *bearer.Validator, opts ...Option) grpc.StreamServerInterceptor {
	g := newGuard(v, opts)
	return func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
		ctx, md, err := g.check(ss.Context(), info.FullMethod)
		if err != nil {
			_ = ss.SetHeader(md)
			return err
		}
		return handler(srv, &serverStream{ServerStream: ss, ctx: ctx})
	}
}

// serverStream replaces the context of a stream.
type serverStream struct {
	grpc.ServerStream
	ctx context.Context
}

func (s *serverStream) Context() context.Context { return s.ctx }

type guard struct {
	v *bearer.Validator
	options
}

func newGuard(v *bearer.Validator, opts []Option) *guard {
	g := &guard{v: v, options: options{realm: DefaultRealm}}
	for _, opt := range opts {
		opt(&g.options)
	}
	if g.logger == nil {
		g.logger = slog.Default()
	}
	return g
}

// check validates the call's token for method. On success it returns ctx
// with the claims (or ctx itself for anonymous calls); on failure a status
// error and the header metadata that goes with it.
func (g *guard) check(ctx context.Context, method string) (context.Context, metadata.MD, error) {
	if g.public[method] {
		return ctx, nil, nil
	}
	md, _ := metadata.FromIncomingContext(ctx)
	token, err := middleware.TokenFromAuthorization(md.Get("authorization"))
	if err == nil && token == "" && g.optional {
		return ctx, nil, nil
	}
	// A certificate-bound token (RFC 8705) needs the TLS client
	// certificate; DPoP has no place in gRPC, so a DPoP-bound token is
	// refused as a Bearer token would be (RFC 9449 §7.2). A call refused
	// already, and the method's requirements, go there too, so that an
	// Observer counts every refusal.
	claims, err := g.v.ValidatePresentation(ctx, bearer.Presentation{Token: token, ClientCertificate: peerCertificate(ctx), Require: g.require[method], Err: err})
	if err != nil {
		md, err := g.fail(ctx, method, token, err)
		return ctx, md, err
	}
	if g.onValidated != nil {
		g.onValidated(ctx, method, claims)
	}
	return bearer.NewContext(ctx, claims), nil, nil
}

// peerCertificate returns the client certificate of the call's TLS
// connection, or nil.
func peerCertificate(ctx context.Context) *x509.Certificate {
	p, ok := peer.FromContext(ctx)
	if !ok {
		return nil
	}
	if info, ok := p.AuthInfo.(credentials.TLSInfo); ok && len(info.State.PeerCertificates) > 0 {
		return info.State.PeerCertificates[0]
	}
	return nil
}

// fail logs and reports a refused call, and turns err into a status.
func (g *guard) fail(ctx context.Context, method, token string, err error) (metadata.MD, error) {
	e := bearer.AsError(err)
	if g.onFailed != nil {
		g.onFailed(ctx, method, e)
	}
	code := Code(e)
	// At debug, as in the HTTP middleware: the Validator logs an outage
	// once, not once per call.
	const level = slog.LevelDebug
	if g.logger.Enabled(ctx, level) {
		attrs := []any{"method", method, "code", code.String(), "error", e.Error()}
		if token != "" {
			attrs = append(attrs, "token", bearer.Fingerprint(token))
		}
		g.logger.Log(ctx, level, "bearer: call refused", attrs...)
	}
	md := metadata.MD{}
	if code == codes.Unavailable {
		md.Set("retry-after", strconv.Itoa(int((e.RetryAfter+time.Second-1)/time.Second)))
	} else {
		md.Set("www-authenticate", e.Challenges(g.realm)...)
	}
	msg := e.Description
	if e.Scope != "" {
		msg += ": " + e.Scope
	}
	return md, withDetails(status.New(code, msg), e).Err()
}

// errorDomain is the ErrorInfo domain of refusals.
const errorDomain = "github.com/accesstoken/bearer"

// withDetails adds to st an ErrorInfo with e's code and the parameters of
// its challenge; st alone if e has no code (no token, unavailable).
func withDetails(st *status.Status, e *bearer.Error) *status.Status {
	if e.Code == "" {
		return st
	}
	meta := map[string]string{}
	for name, value := range map[string]string{"scope": e.Scope, "acr_values": e.ACRValues} {
		if value != "" {
			meta[name] = value
		}
	}
	if e.MaxAge > 0 {
		meta["max_age"] = strconv.FormatInt(int64(e.MaxAge/time.Second), 10)
	}
	info := &errdetails.ErrorInfo{Reason: strings.ToUpper(e.Code), Domain: errorDomain, Metadata: meta}
	if d, err := st.WithDetails(info); err == nil {
		return d
	}
	return st
}

// Code returns the gRPC code for a validation error, as the interceptors
// answer it: codes.InvalidArgument, codes.Unauthenticated,
// codes.PermissionDenied or codes.Unavailable (also for errors that are
// no *bearer.Error, which fail closed as bearer.AsError says), and
// codes.OK for nil.
func Code(err error) codes.Code {
	if err == nil {
		return codes.OK
	}
	switch bearer.AsError(err).Status {
	case http.StatusBadRequest:
		return codes.InvalidArgument
	case http.StatusForbidden:
		return codes.PermissionDenied
	case http.StatusServiceUnavailable:
		return codes.Unavailable
	}
	return codes.Unauthenticated
}
