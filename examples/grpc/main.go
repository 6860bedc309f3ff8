// Command grpc is a small gRPC service guarded by grpcbearer, and a client
// that calls it with tokens from an embedded test authority.
//
//	go run ./examples/grpc                      # embedded authority, then the client's calls
//	go run ./examples/grpc -authority https://login.example.com -audience api
//
// The service, values.Values, has three unary methods: Get answers two
// random digits, Identity the token's claims, both to any caller with a
// valid token carrying one of -scopes; Reset also needs the scope
// values:admin. The standard health service is public.
//
// The service is described by hand (a grpc.ServiceDesc) and its messages
// are JSON, through a codec registered under the content-subtype "json",
// so that the example needs no .proto file and no protoc. A real service
// would use generated code; the interceptors are the same either way.
package main

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/big"
	"net"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/encoding"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/accesstoken/bearer"
	grpcbearer "github.com/accesstoken/bearer/adapters/grpc"
	"github.com/accesstoken/bearer/bearertest"
)

func main() {
	// SIGINT or SIGTERM ends ctx, and run stops the server gracefully.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "grpc:", err)
		os.Exit(1)
	}
}

// run is the program without the process, so that tests can run it: it
// serves until ctx ends.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("grpc", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:5001", "listen address `HOST:PORT`")
	authority := fs.String("authority", "", "issuer `URL` of the authority; empty starts an embedded test authority")
	audience := fs.String("audience", "", "accepted `aud` value (empty: not checked, scopes bind tokens to this API)")
	scopes := fs.String("scopes", "api", "required scopes, space-separated, any of them `\"a b\"`")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil // -h printed the usage: asking for it is no failure
		}
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments: %q", fs.Args())
	}

	var embedded *bearertest.Authority
	if *authority == "" {
		embedded = bearertest.NewAuthority()
		defer embedded.Close()
		*authority = embedded.Issuer()
		fmt.Fprintf(stdout, "embedded test authority at %s (use -authority for a real one)\n", embedded.URL)
	}
	// JWTs only: the service has no credentials for an introspection
	// endpoint, so anything else is refused as malformed.
	cfg := bearer.Config{Authority: *authority, RequiredScopes: bearer.AnyOf(strings.Fields(*scopes)...), Mode: bearer.ModeJWT}
	if *audience != "" {
		cfg.Audience = []string{*audience}
	}
	// New checks the configuration and returns at once; discovery runs in
	// the background. Close, deferred, runs after the server has stopped.
	v, err := bearer.New(ctx, cfg)
	if err != nil {
		return err
	}
	defer v.Close()

	opts := []grpcbearer.Option{
		grpcbearer.Require("/values.Values/Reset", bearer.AllOf("values:admin")),
		grpcbearer.Public(healthpb.Health_Check_FullMethodName, healthpb.Health_Watch_FullMethodName),
	}
	srv := grpc.NewServer(
		grpc.ChainUnaryInterceptor(grpcbearer.UnaryServerInterceptor(v, opts...)),
		grpc.ChainStreamInterceptor(grpcbearer.StreamServerInterceptor(v, opts...)),
	)
	srv.RegisterService(&valuesService, nil)
	healthpb.RegisterHealthServer(srv, health.NewServer())

	l, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	// Ready waits for the authority's metadata and keys. A service may
	// start while its authority is down (calls get Unavailable until it
	// answers), so a failure here is a warning; fail instead to fail fast.
	readyCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	if err := v.Ready(readyCtx); err != nil {
		fmt.Fprintf(stderr, "grpc: the authority is not answering yet, calls get Unavailable until it does: %v\n", err)
	}
	cancel()
	fmt.Fprintf(stdout, "listening on %s (gRPC)\n", l.Addr())
	served := make(chan error, 1)
	go func() { served <- srv.Serve(l) }()

	if embedded != nil {
		claims := bearertest.Payload{"scope": *scopes}
		if *audience != "" {
			claims["aud"] = *audience
		}
		if err := demoCalls(ctx, l.Addr().String(), embedded, claims, stdout); err != nil {
			srv.Stop()
			return err
		}
	}

	select {
	case err := <-served:
		return err
	case <-ctx.Done():
		srv.GracefulStop()
		return nil
	}
}

// demoCalls is the client: it calls the service as a user would, with
// tokens the embedded authority mints, and prints what happens.
func demoCalls(ctx context.Context, addr string, a *bearertest.Authority, claims bearertest.Payload, out io.Writer) error {
	conn, err := grpc.NewClient(addr,
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.CallContentSubtype(jsonCodec{}.Name())))
	if err != nil {
		return err
	}
	defer conn.Close()

	user := a.Token(claims)
	// Built once, not go run: go run exits 1 whatever the command's exit
	// status (docs/cli.md).
	fmt.Fprintf(out, "the bearer command checks a token as the service does:\n  go build -o bearer ./cmd/bearer   # once, at the repository's root\n  ./bearer validate -authority %s -scopes '%s' %s\n", a.Issuer(), claims["scope"], user)
	admin := a.Token(merge(claims, bearertest.Payload{"scope": claims["scope"].(string) + " values:admin"}))
	for _, c := range []struct{ method, token string }{
		{"/values.Values/Get", ""},
		{"/values.Values/Get", "not-a-valid-token"},
		{"/values.Values/Get", user},
		{"/values.Values/Identity", user},
		{"/values.Values/Reset", user},
		{"/values.Values/Reset", admin},
	} {
		// Over TLS a client would rather use grpc.WithPerRPCCredentials
		// with oauth.TokenSource, which refuses insecure connections.
		callCtx := ctx
		if c.token != "" {
			callCtx = metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+c.token)
		}
		var reply json.RawMessage
		err := conn.Invoke(callCtx, c.method, struct{}{}, &reply)
		with := "without token"
		if c.token != "" {
			with = "with token " + bearer.Fingerprint(c.token)
		}
		if err != nil {
			s := status.Convert(err)
			fmt.Fprintf(out, "client: %s %s: %s: %s\n", c.method, with, s.Code(), s.Message())
			continue
		}
		fmt.Fprintf(out, "client: %s %s: %s\n", c.method, with, reply)
	}
	fmt.Fprintln(out, "client: done")
	return nil
}

// values is the walkthrough's answer: two random digits as strings.
func values() []string {
	digit := func() string {
		n, _ := rand.Int(rand.Reader, big.NewInt(10))
		return n.String()
	}
	return []string{digit(), digit()}
}

func merge(a, b bearertest.Payload) bearertest.Payload {
	m := bearertest.Payload{}
	for k, v := range a {
		m[k] = v
	}
	for k, v := range b {
		m[k] = v
	}
	return m
}

// valuesService describes values.Values by hand, as protoc would generate
// it from:
//
//	service Values {
//	  rpc Get(Empty) returns (Values);
//	  rpc Identity(Empty) returns (Claims);
//	  rpc Reset(Empty) returns (Empty);
//	}
var valuesService = grpc.ServiceDesc{
	ServiceName: "values.Values",
	HandlerType: (*any)(nil),
	Methods: []grpc.MethodDesc{
		unary("Get", func(ctx context.Context) (any, error) {
			return map[string][]string{"values": values()}, nil
		}),
		unary("Identity", func(ctx context.Context) (any, error) {
			claims, ok := bearer.ClaimsFromContext(ctx)
			if !ok {
				return nil, errors.New("no claims") // unreachable: the interceptor guards Identity
			}
			return claims, nil
		}),
		unary("Reset", func(ctx context.Context) (any, error) {
			return struct{}{}, nil
		}),
	},
}

// unary adapts f to a method that takes an empty request.
func unary(name string, f func(context.Context) (any, error)) grpc.MethodDesc {
	return grpc.MethodDesc{
		MethodName: name,
		Handler: func(srv any, ctx context.Context, dec func(any) error, interceptor grpc.UnaryServerInterceptor) (any, error) {
			var req json.RawMessage
			if err := dec(&req); err != nil {
				return nil, err
			}
			handler := func(ctx context.Context, _ any) (any, error) { return f(ctx) }
			if interceptor == nil {
				return handler(ctx, req)
			}
			info := &grpc.UnaryServerInfo{Server: srv, FullMethod: "/values.Values/" + name}
			return interceptor(ctx, req, info, handler)
		},
	}
}

// jsonCodec carries messages as JSON (content-type application/grpc+json).
type jsonCodec struct{}

func (jsonCodec) Marshal(v any) ([]byte, error)      { return json.Marshal(v) }
func (jsonCodec) Unmarshal(data []byte, v any) error { return json.Unmarshal(data, v) }
func (jsonCodec) Name() string                       { return "json" }

func init() { encoding.RegisterCodec(jsonCodec{}) }
