// Command client is a Model Context Protocol client for examples/mcp: with
// an access token, it initializes a session, lists the tools and calls
// whoami, printing each step, which is what an MCP client such as an agent
// does before it uses a tool.
//
//	go run ./examples/mcp               # prints a token and this command
//	go run ./examples/mcp/client -url http://127.0.0.1:5100/mcp TOKEN
//
// A refusal is printed as the server sent it: the status and the
// WWW-Authenticate challenge, which names the server's protected-resource
// metadata.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"sync"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "client:", err)
		os.Exit(1)
	}
}

// run is the program without the process, so that tests can run it.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("client", flag.ContinueOnError)
	fs.SetOutput(stderr)
	endpoint := fs.String("url", "http://127.0.0.1:5100/mcp", "the MCP server's `URL`")
	timeout := fs.Duration("timeout", 10*time.Second, "how long the three requests may take")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: client [-url URL] TOKEN")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil // -h printed the usage: asking for it is no failure
		}
		return err
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return errors.New("want exactly one TOKEN argument")
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()

	tr := &bearerTransport{token: fs.Arg(0)}
	client := mcp.NewClient(&mcp.Implementation{Name: "bearer-example-client", Version: "1.0.0"}, nil)
	cs, err := client.Connect(ctx, &mcp.StreamableClientTransport{
		Endpoint:             *endpoint,
		HTTPClient:           &http.Client{Transport: tr},
		DisableStandaloneSSE: true, // three requests and done: no stream of server messages
		MaxRetries:           -1,   // a refusal is final
	}, nil)
	if err != nil {
		return tr.explain("initialize", err)
	}
	defer cs.Close()
	init := cs.InitializeResult()
	fmt.Fprintf(stdout, "initialize: %s %s, protocol %s\n", init.ServerInfo.Name, init.ServerInfo.Version, init.ProtocolVersion)

	tools, err := cs.ListTools(ctx, nil)
	if err != nil {
		return tr.explain("tools/list", err)
	}
	fmt.Fprintln(stdout, "tools/list:")
	for _, tool := range tools.Tools {
		fmt.Fprintf(stdout, "  %s: %s\n", tool.Name, tool.Description)
	}

	res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "whoami", Arguments: map[string]any{}})
	if err != nil {
		return tr.explain("tools/call whoami", err)
	}
	if res.IsError {
		b, _ := json.Marshal(res.Content)
		return fmt.Errorf("tools/call whoami: the tool failed: %s", b)
	}
	b, err := json.MarshalIndent(res.StructuredContent, "", "  ")
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "tools/call whoami:\n%s\n", b)
	return nil
}

// bearerTransport sends the token with every request and remembers the
// last refusal, whose challenge says more than the SDK's error.
type bearerTransport struct {
	token string

	mu      sync.Mutex
	refusal string // "401 Unauthorized, WWW-Authenticate: Bearer …"
}

func (tr *bearerTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	req = req.Clone(req.Context())
	req.Header.Set("Authorization", "Bearer "+tr.token)
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err == nil && resp.StatusCode >= 400 {
		refusal := resp.Status
		if c := resp.Header.Get("WWW-Authenticate"); c != "" {
			refusal += ", WWW-Authenticate: " + c
		}
		if ra := resp.Header.Get("Retry-After"); ra != "" {
			refusal += ", Retry-After: " + ra
		}
		tr.mu.Lock()
		tr.refusal = refusal
		tr.mu.Unlock()
	}
	return resp, err
}

// explain names the step that failed and, if the server refused it, the
// server's answer.
func (tr *bearerTransport) explain(step string, err error) error {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	if tr.refusal != "" {
		return fmt.Errorf("%s: the server answered %s", step, tr.refusal)
	}
	return fmt.Errorf("%s: %w", step, err)
}
