package mcpbearer

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"maps"
	"net/http"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/accesstoken/bearer"
	"github.com/accesstoken/bearer/middleware"
)

// RequireTools gives tools requirements of their own, on top of
// Config.RequiredScopes and middleware.Require: a tools/call of a tool
// named in tools needs its requirement, say a scope and a recent second
// factor for "transfer":
//
//	mcpbearer.New(v, middleware.ResourceMetadata(m.URL()), mcpbearer.RequireTools(map[string]bearer.Requirement{
//		"transfer": bearer.AllOf(bearer.AllOf("payments:write"), bearer.ACR("urn:example:mfa")),
//	}))
//
// A call that does not meet it is refused before the SDK sees it, as the
// MCP authorization specification asks: 403 insufficient_scope naming the
// scopes of that tool alone (never the others the server knows), or 401
// insufficient_user_authentication naming the acr_values and max_age the
// tool needs (RFC 9470), each with the resource_metadata of New's
// options. Other requests, and calls of other tools, need only the
// requirements they had.
//
// The tool is read from the JSON-RPC body (a batch, which protocol
// versions before 2025-06-18 allow, needs the requirements of every tool
// it calls). A body that cannot be read exactly the one way, or longer
// than 4 MiB (the SDK's default bound), needs the requirements of every
// tool, so that no reading of it can reach a tool its token may not call.
func RequireTools(tools map[string]bearer.Requirement) middleware.Option {
	tools = maps.Clone(tools)
	var every []bearer.Requirement
	for _, name := range slices.Sorted(maps.Keys(tools)) {
		every = append(every, tools[name])
	}
	all := bearer.AllOf(every...)
	return middleware.RequireFor(func(r *http.Request) bearer.Requirement {
		if r.Method != http.MethodPost || r.Body == nil || len(tools) == 0 {
			return bearer.Requirement{}
		}
		names, err := calledTools(r)
		if err != nil {
			return all
		}
		var need []bearer.Requirement
		for _, name := range names {
			need = append(need, tools[name])
		}
		return bearer.AllOf(need...)
	})
}

// maxBody is how much of a body calledTools reads: the SDK's
// DefaultMaxRequestBodyBytes.
const maxBody = 4 << 20

var errAmbiguous = errors.New("mcpbearer: the tool a message calls cannot be told")

// calledTools returns the names of the tools r's JSON-RPC body calls, and
// puts back the body for the handler.
func calledTools(r *http.Request) ([]string, error) {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	r.Body = readCloser{io.MultiReader(bytes.NewReader(body), r.Body), r.Body}
	if err != nil || len(body) > maxBody || !utf8.Valid(body) {
		return nil, errAmbiguous
	}
	body = bytes.TrimLeft(body, " \t\r\n")
	if len(body) > 0 && body[0] == '[' {
		var batch []json.RawMessage
		if err := json.Unmarshal(body, &batch); err != nil {
			return nil, errAmbiguous
		}
		var names []string
		for _, m := range batch {
			name, err := calledTool(m)
			if err != nil {
				return nil, err
			}
			if name != "" {
				names = append(names, name)
			}
		}
		return names, nil
	}
	name, err := calledTool(body)
	if err != nil || name == "" {
		return nil, err
	}
	return []string{name}, nil
}

// calledTool returns the tool one JSON-RPC message calls, or "" if it is
// no tools/call. The SDK reads messages with a decoder of its own, so any
// message two decoders might read differently is refused: a member named
// twice, or whose name differs from method, params or name only in case.
func calledTool(msg []byte) (string, error) {
	top, err := exactMembers(msg, "method", "params")
	if err != nil {
		return "", err
	}
	m, ok := top["method"]
	if !ok {
		return "", nil // a response to the server's request
	}
	var method string
	if json.Unmarshal(m, &method) != nil {
		return "", errAmbiguous
	}
	if method != "tools/call" {
		return "", nil
	}
	params, err := exactMembers(top["params"], "name")
	if err != nil {
		return "", err
	}
	var name string
	if err := json.Unmarshal(params["name"], &name); err != nil || name == "" {
		return "", errAmbiguous
	}
	return name, nil
}

// exactMembers returns the members of obj, a JSON object, that are named
// by names, refusing an object that holds one of them twice or a name
// equal to one of them only when case is folded (which encoding/json
// would take for it).
func exactMembers(obj []byte, names ...string) (map[string]json.RawMessage, error) {
	d := json.NewDecoder(bytes.NewReader(obj))
	if t, err := d.Token(); err != nil || t != json.Delim('{') {
		return nil, errAmbiguous
	}
	out := make(map[string]json.RawMessage, len(names))
	for d.More() {
		t, err := d.Token()
		if err != nil {
			return nil, errAmbiguous
		}
		key, _ := t.(string)
		var v json.RawMessage
		if err := d.Decode(&v); err != nil {
			return nil, errAmbiguous
		}
		for _, n := range names {
			switch {
			case key == n:
				if _, dup := out[n]; dup {
					return nil, errAmbiguous
				}
				out[n] = v
			case strings.EqualFold(key, n):
				return nil, errAmbiguous
			}
		}
	}
	if t, err := d.Token(); err != nil || t != json.Delim('}') {
		return nil, errAmbiguous
	}
	if _, err := d.Token(); err != io.EOF {
		return nil, errAmbiguous
	}
	return out, nil
}

// readCloser reads the body put back and closes the original.
type readCloser struct {
	io.Reader
	io.Closer
}
