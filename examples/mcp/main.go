// Command mcp is a Model Context Protocol server over streamable HTTP,
// guarded by bearer. It has two tools: whoami, which tells the caller who
// the token says they are, and forget_me, which needs a step-up (RFC
// 9470): the user must have signed in with a second factor (acr) in the
// last ten minutes, or the call is refused with a 401 that says so. As the
// MCP authorization specification asks, it publishes its OAuth 2.0
// protected-resource metadata (RFC 9728), names it in every 401 and 403,
// and accepts only tokens of its authority issued for it (aud is the
// server's URL) with the mcp:tools scope.
//
//	go run ./examples/mcp    # embedded test authority; prints tokens, two curl lines and a client command
//	go run ./examples/mcp/client -url http://127.0.0.1:5100/mcp TOKEN   # initialize, tools/list, call whoami
//	go run ./examples/mcp -authority https://login.example.com -resource https://mcp.example.com/mcp
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/accesstoken/bearer"
	mcpbearer "github.com/accesstoken/bearer/adapters/mcp"
	"github.com/accesstoken/bearer/bearertest"
	"github.com/accesstoken/bearer/middleware"
	"github.com/accesstoken/bearer/resource"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "mcp:", err)
		stop()
		os.Exit(1)
	}
}

// run is the program without the process: it serves until ctx ends.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("mcp", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:5100", "listen address `HOST:PORT`")
	authority := fs.String("authority", "", "issuer `URL` of the authority; empty starts an embedded test authority")
	resourceURL := fs.String("resource", "", "the server's `URL` as clients call it, its resource identifier (default http://ADDR/mcp)")
	audience := fs.String("audience", "", "accepted `aud` value (default: the resource URL, as MCP requires)")
	scope := fs.String("scope", "mcp:tools", "the `scope` a token needs")
	acr := fs.String("acr", "urn:example:mfa", "the `acr` value forget_me needs")
	maxAge := fs.Duration("max-age", 10*time.Minute, "how recent a sign-in forget_me needs")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil // -h printed the usage: asking for it is no failure
		}
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments: %q", fs.Args())
	}
	if *resourceURL == "" {
		*resourceURL = "http://" + *addr + "/mcp"
	}
	if *audience == "" {
		*audience = *resourceURL
	}

	var embedded *bearertest.Authority
	if *authority == "" {
		embedded = bearertest.NewAuthority()
		defer embedded.Close()
		*authority = embedded.Issuer()
		fmt.Fprintf(stdout, "embedded test authority at %s (use -authority for a real one)\n", embedded.URL)
	}
	v, err := bearer.New(ctx, bearer.Config{
		Authority:      *authority,
		Audience:       []string{*audience},
		RequiredScopes: bearer.AllOf(*scope),
	})
	if err != nil {
		return err
	}
	defer v.Close()

	stepUp := bearer.AllOf(bearer.ACR(*acr), bearer.MaxAge(*maxAge))
	h, err := handler(v, *resourceURL, *scope, stepUp)
	if err != nil {
		return err
	}
	if embedded != nil {
		token := embedded.Token(bearertest.Payload{"aud": *audience, "scope": *scope})
		fmt.Fprintf(stdout, "a token for MCP clients (Authorization: Bearer …):\n  %s\n", token)
		fmt.Fprintf(stdout, "try:\n  curl -i %s\n", *resourceURL)
		fmt.Fprintf(stdout, "  curl -i %s -H \"Authorization: Bearer %s\" -H 'Content-Type: application/json' -H 'Accept: application/json, text/event-stream' -d '%s'\n",
			*resourceURL, token, `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"curl","version":"1"}}}`)
		fmt.Fprintf(stdout, "and the whole way to the tool (initialize, tools/list, tools/call whoami) with the Go SDK's client:\n  go run ./examples/mcp/client -url %s %s\n", *resourceURL, token)
		stepped := embedded.Token(bearertest.Payload{"aud": *audience, "scope": *scope, "acr": *acr, "auth_time": time.Now()})
		fmt.Fprintf(stdout, "forget_me refuses that token (401 insufficient_user_authentication); this one, signed in with %s just now, may call it:\n  %s\n", *acr, stepped)
	}
	srv := &http.Server{Addr: *addr, Handler: h, ReadHeaderTimeout: 10 * time.Second}
	fmt.Fprintf(stdout, "listening on http://%s\n", *addr)
	return serve(ctx, srv)
}

// handler routes the MCP endpoint, at the resource's path, and its
// metadata, at the well-known path RFC 9728 derives from the resource.
func handler(v *bearer.Validator, resourceURL, scope string, stepUp bearer.Requirement) (http.Handler, error) {
	m, err := resource.New(resourceURL, v)
	if err != nil {
		return nil, err
	}
	m.ScopesSupported = []string{scope}
	m.ResourceName = "bearer's example MCP server"
	u, _ := url.Parse(resourceURL) // resource.New parsed it
	path := u.Path
	if path == "" {
		path = "/"
	}

	mux := http.NewServeMux()
	mux.Handle(m.Path(), m) // public: clients read it before they have a token
	// The guard answers every refusal, then hands the SDK the claims: a
	// session stays bound to the user who opened it. A call of forget_me
	// also needs the step-up; refused, it names that alone.
	guard := mcpbearer.New(v, middleware.ResourceMetadata(m.URL()),
		mcpbearer.RequireTools(map[string]bearer.Requirement{"forget_me": stepUp}))
	s := newServer()
	mux.Handle(path, guard(mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return s }, nil)))
	return mux, nil
}

// identity is what whoami answers.
type identity struct {
	Subject string   `json:"subject" jsonschema:"the token's sub claim"`
	UserID  string   `json:"user_id" jsonschema:"the user as issuer#subject, to whom the MCP session is bound"`
	Scopes  []string `json:"scopes" jsonschema:"the scopes granted to the token"`
}

// forgotten is what forget_me answers.
type forgotten struct {
	Forgotten string `json:"forgotten" jsonschema:"the subject forgotten (not really)"`
}

// newServer is the MCP server and its tools.
func newServer() *mcp.Server {
	s := mcp.NewServer(&mcp.Implementation{Name: "bearer-example", Version: "1.0.0"}, nil)
	mcp.AddTool(s, &mcp.Tool{Name: "whoami", Description: "Tells who the access token says the caller is."},
		func(_ context.Context, req *mcp.CallToolRequest, _ struct{}) (*mcp.CallToolResult, identity, error) {
			// Behind mcpbearer.New, every call carries the TokenInfo of
			// its request's validated token.
			ti := req.Extra.TokenInfo
			sub, _ := ti.Extra["sub"].(string)
			return nil, identity{Subject: sub, UserID: ti.UserID, Scopes: ti.Scopes}, nil
		})
	mcp.AddTool(s, &mcp.Tool{Name: "forget_me", Description: "Pretends to forget everything about the caller; needs a recent second factor."},
		func(_ context.Context, req *mcp.CallToolRequest, _ struct{}) (*mcp.CallToolResult, forgotten, error) {
			sub, _ := req.Extra.TokenInfo.Extra["sub"].(string)
			return nil, forgotten{Forgotten: sub}, nil
		})
	return s
}

// serve runs srv until ctx ends, then shuts it down; streams still open
// after five seconds are cut.
func serve(ctx context.Context, srv *http.Server) error {
	errc := make(chan error, 1)
	go func() { errc <- srv.ListenAndServe() }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdown); err != nil {
		srv.Close()
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
