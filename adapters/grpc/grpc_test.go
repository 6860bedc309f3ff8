package grpcbearer_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"maps"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/encoding"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/accesstoken/bearer"
	grpcbearer "github.com/accesstoken/bearer/adapters/grpc"
	"github.com/accesstoken/bearer/bearertest"
	"github.com/accesstoken/bearer/internal/conformance"
)

// The test service is written by hand, with a JSON codec, so that the
// tests need no protoc: conformance.Who has a unary method and a
// server-streaming one, both answering conformance.Body of the claims the
// handler finds on its context.
const (
	unary  = "/conformance.Who/Unary"
	stream = "/conformance.Who/Stream"
	other  = "/conformance.Who/Other"
)

type jsonCodec struct{}

func (jsonCodec) Marshal(v any) ([]byte, error)      { return json.Marshal(v) }
func (jsonCodec) Unmarshal(data []byte, v any) error { return json.Unmarshal(data, v) }
func (jsonCodec) Name() string                       { return "json" }

func init() { encoding.RegisterCodec(jsonCodec{}) }

func who(ctx context.Context) json.RawMessage {
	claims, _ := bearer.ClaimsFromContext(ctx)
	return json.RawMessage(conformance.Body(claims))
}

func unaryMethod(name string) grpc.MethodDesc {
	return grpc.MethodDesc{MethodName: name, Handler: func(srv any, ctx context.Context, dec func(any) error, interceptor grpc.UnaryServerInterceptor) (any, error) {
		var in json.RawMessage
		if err := dec(&in); err != nil {
			return nil, err
		}
		handler := func(ctx context.Context, _ any) (any, error) { return who(ctx), nil }
		if interceptor == nil {
			return handler(ctx, in)
		}
		return interceptor(ctx, in, &grpc.UnaryServerInfo{Server: srv, FullMethod: "/conformance.Who/" + name}, handler)
	}}
}

var whoService = grpc.ServiceDesc{
	ServiceName: "conformance.Who",
	HandlerType: (*any)(nil),
	Methods:     []grpc.MethodDesc{unaryMethod("Unary"), unaryMethod("Other")},
	Streams: []grpc.StreamDesc{{StreamName: "Stream", ServerStreams: true, Handler: func(_ any, s grpc.ServerStream) error {
		var in json.RawMessage
		if err := s.RecvMsg(&in); err != nil {
			return err
		}
		return s.SendMsg(who(s.Context()))
	}}},
}

// serve starts a gRPC server with the interceptors on a loopback port and
// returns a client connection to it.
func serve(t *testing.T, v *bearer.Validator, opts ...grpcbearer.Option) *grpc.ClientConn {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer(
		grpc.ChainUnaryInterceptor(grpcbearer.UnaryServerInterceptor(v, opts...)),
		grpc.ChainStreamInterceptor(grpcbearer.StreamServerInterceptor(v, opts...)),
	)
	srv.RegisterService(&whoService, struct{}{})
	go srv.Serve(l)
	t.Cleanup(srv.Stop)
	conn, err := grpc.NewClient(l.Addr().String(),
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.CallContentSubtype("json")))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

// result is what a call returned.
type result struct {
	body   string
	header metadata.MD
	err    error
}

func callUnary(ctx context.Context, conn *grpc.ClientConn, method string) result {
	var out json.RawMessage
	var r result
	r.err = conn.Invoke(ctx, method, json.RawMessage(`{}`), &out, grpc.Header(&r.header))
	r.body = string(out)
	return r
}

func callStream(ctx context.Context, conn *grpc.ClientConn) result {
	var r result
	s, err := conn.NewStream(ctx, &whoService.Streams[0], stream, grpc.Header(&r.header))
	if err != nil {
		r.err = err
		return r
	}
	if err := s.SendMsg(json.RawMessage(`{}`)); err != nil {
		r.err = err
		return r
	}
	if err := s.CloseSend(); err != nil {
		r.err = err
		return r
	}
	var out json.RawMessage
	r.err = s.RecvMsg(&out)
	r.body = string(out)
	return r
}

// withToken returns ctx sending the authorization values.
func withToken(ctx context.Context, values ...string) context.Context {
	for _, v := range values {
		ctx = metadata.AppendToOutgoingContext(ctx, "authorization", v)
	}
	return ctx
}

// codeFor maps the HTTP statuses of the conformance table to codes.
var codeFor = map[int]codes.Code{
	200: codes.OK,
	400: codes.InvalidArgument,
	401: codes.Unauthenticated,
	403: codes.PermissionDenied,
	503: codes.Unavailable,
}

// options translates a conformance guard: a scope requirement becomes a
// requirement of both guarded methods.
func options(g conformance.Guard) []grpcbearer.Option {
	opts := []grpcbearer.Option{grpcbearer.Logger(slog.New(slog.DiscardHandler))}
	for _, r := range []bearer.Requirement{g.Require, g.AlsoRequire} {
		if !r.IsZero() {
			opts = append(opts, grpcbearer.Require(unary, r), grpcbearer.Require(stream, r))
		}
	}
	if g.Optional {
		opts = append(opts, grpcbearer.Optional())
	}
	if g.Realm != "" {
		opts = append(opts, grpcbearer.Realm(g.Realm))
	}
	return opts
}

// TestConformance runs every case of the shared table that is not
// HTTP-only against the unary and the stream interceptor.
func TestConformance(t *testing.T) {
	env := conformance.NewEnv(t)
	ran := 0
	for _, c := range conformance.Cases() {
		if c.HTTP != nil {
			continue
		}
		ran++
		t.Run(c.Name, func(t *testing.T) {
			t.Parallel()
			conn := serve(t, env.Validator(c), options(c.Guard)...)
			ctx := withToken(t.Context(), c.AuthorizationValues(env.Token(c))...)
			t.Run("unary", func(t *testing.T) { check(t, callUnary(ctx, conn, unary), c.Want) })
			t.Run("stream", func(t *testing.T) { check(t, callStream(ctx, conn), c.Want) })
		})
	}
	if ran < 25 {
		t.Fatalf("only %d cases apply to gRPC", ran)
	}
}

func check(t *testing.T, r result, want conformance.Want) {
	t.Helper()
	st := status.Convert(r.err)
	if st.Code() != codeFor[want.Status] {
		t.Fatalf("code %v (%v), want %v for HTTP %d", st.Code(), r.err, codeFor[want.Status], want.Status)
	}
	if want.Status == 200 {
		if r.body != strings.TrimSpace(want.Body) {
			t.Errorf("body %s, want %s", r.body, want.Body)
		}
		return
	}
	if st.Message() != want.ErrorMessage() {
		t.Errorf("message %q, want %q", st.Message(), want.ErrorMessage())
	}
	checkDetails(t, st, want)
	if got := strings.Join(r.header.Get("www-authenticate"), ", "); got != want.Header["WWW-Authenticate"] {
		t.Errorf("www-authenticate %q, want %q", got, want.Header["WWW-Authenticate"])
	}
	if got := strings.Join(r.header.Get("retry-after"), ", "); got != want.Header["Retry-After"] {
		t.Errorf("retry-after %q, want %q", got, want.Header["Retry-After"])
	}
}

func TestRequireIsPerMethod(t *testing.T) {
	env := conformance.NewEnv(t)
	conn := serve(t, env.OK, grpcbearer.Require(unary, bearer.AllOf("admin")))
	ctx := withToken(t.Context(), "Bearer "+env.Authority.Token(bearertest.Payload{"aud": "api", "scope": "read"}))
	if r := callUnary(ctx, conn, unary); status.Code(r.err) != codes.PermissionDenied {
		t.Errorf("%s: %v, want PermissionDenied", unary, r.err)
	}
	if r := callUnary(ctx, conn, other); r.err != nil || r.body != `{"sub":"alice"}` {
		t.Errorf("%s: %v %s, want alice", other, r.err, r.body)
	}
}

func TestPublic(t *testing.T) {
	env := conformance.NewEnv(t)
	conn := serve(t, env.OK, grpcbearer.Public(other))
	for _, ctx := range []context.Context{t.Context(), withToken(t.Context(), "Bearer a b")} {
		if r := callUnary(ctx, conn, other); r.err != nil || r.body != `{"anonymous":true}` {
			t.Errorf("public method: %v %s", r.err, r.body)
		}
		if r := callUnary(ctx, conn, unary); r.err == nil {
			t.Error("guarded method admitted a call without a valid token")
		}
	}
}

func TestHooksAndLogs(t *testing.T) {
	env := conformance.NewEnv(t)
	var (
		mu        sync.Mutex
		logs      bytes.Buffer
		validated []string
		failed    []error
	)
	logger := slog.New(slog.NewTextHandler(&syncWriter{mu: &mu, w: &logs}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	conn := serve(t, env.OK,
		grpcbearer.Logger(logger),
		grpcbearer.OnValidated(func(_ context.Context, method string, c *bearer.Claims) {
			mu.Lock()
			defer mu.Unlock()
			validated = append(validated, method+" "+c.Subject)
		}),
		grpcbearer.OnFailed(func(_ context.Context, method string, err error) {
			mu.Lock()
			defer mu.Unlock()
			failed = append(failed, err)
		}),
	)
	good := env.Authority.Token(bearertest.Payload{"aud": "api"})
	bad := env.Authority.Token(bearertest.Payload{"aud": "other"})
	callUnary(withToken(t.Context(), "Bearer "+good), conn, unary)
	callStream(withToken(t.Context(), "Bearer "+bad), conn)

	mu.Lock()
	defer mu.Unlock()
	if len(validated) != 1 || validated[0] != unary+" alice" {
		t.Errorf("OnValidated calls: %q", validated)
	}
	if len(failed) != 1 || !errors.Is(failed[0], bearer.ErrAudience) {
		t.Errorf("OnFailed calls: %v", failed)
	}
	out := logs.String()
	if !strings.Contains(out, "method="+stream) || !strings.Contains(out, "code=Unauthenticated") || !strings.Contains(out, "token="+bearer.Fingerprint(bad)) {
		t.Errorf("log lacks method, code or fingerprint:\n%s", out)
	}
	for i := 0; i+20 <= len(bad); i += 10 {
		if strings.Contains(out, bad[i:i+20]) {
			t.Fatalf("log contains token material %q:\n%s", bad[i:i+20], out)
		}
	}
}

type syncWriter struct {
	mu *sync.Mutex
	w  *bytes.Buffer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}

func TestCode(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want codes.Code
	}{
		{bearer.NewError(bearer.ErrNoToken, ""), codes.Unauthenticated},
		{bearer.NewError(bearer.ErrInvalidToken, ""), codes.Unauthenticated},
		{bearer.NewError(bearer.ErrInvalidRequest, "x"), codes.InvalidArgument},
		{bearer.NewError(bearer.ErrInsufficientScope, ""), codes.PermissionDenied},
		{bearer.NewError(bearer.ErrUnavailable, ""), codes.Unavailable},
		{errors.New("not a bearer error"), codes.Unavailable},
		{bearer.NewError(bearer.ErrMalformed, ""), codes.Unauthenticated},
		{nil, codes.OK},
	} {
		if got := grpcbearer.Code(tc.err); got != tc.want {
			t.Errorf("Code(%v) = %v, want %v", tc.err, got, tc.want)
		}
	}
}

// TestDefaultLogger: without Logger the interceptors log to slog.Default.
func TestDefaultLogger(t *testing.T) {
	var mu sync.Mutex
	var logs bytes.Buffer
	prev := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(&syncWriter{mu: &mu, w: &logs}, &slog.HandlerOptions{Level: slog.LevelDebug})))
	t.Cleanup(func() { slog.SetDefault(prev) })
	env := conformance.NewEnv(t)
	conn := serve(t, env.OK)
	callUnary(t.Context(), conn, unary)
	mu.Lock()
	defer mu.Unlock()
	if !strings.Contains(logs.String(), "bearer: call refused") {
		t.Errorf("nothing logged to slog.Default: %q", logs.String())
	}
}

// checkDetails checks the ErrorInfo of a refusal against the error body
// the HTTP adapters answer: the code in upper case, and the challenge's
// scope, acr_values and max_age.
func checkDetails(t *testing.T, st *status.Status, want conformance.Want) {
	t.Helper()
	var body struct {
		Error     string `json:"error"`
		Scope     string `json:"scope"`
		ACRValues string `json:"acr_values"`
		MaxAge    int    `json:"max_age"`
	}
	_ = json.Unmarshal([]byte(want.Body), &body)
	var infos []*errdetails.ErrorInfo
	for _, d := range st.Details() {
		if info, ok := d.(*errdetails.ErrorInfo); ok {
			infos = append(infos, info)
		}
	}
	if body.Error == "" {
		if len(infos) != 0 {
			t.Errorf("details %v, want none", infos)
		}
		return
	}
	meta := map[string]string{}
	if body.Scope != "" {
		meta["scope"] = body.Scope
	}
	if body.ACRValues != "" {
		meta["acr_values"] = body.ACRValues
	}
	if body.MaxAge > 0 {
		meta["max_age"] = strconv.Itoa(body.MaxAge)
	}
	if len(infos) != 1 || infos[0].Reason != strings.ToUpper(body.Error) || infos[0].Domain != "github.com/accesstoken/bearer" || !maps.Equal(infos[0].Metadata, meta) {
		t.Errorf("details %v, want reason %s and metadata %v", infos, strings.ToUpper(body.Error), meta)
	}
}
