// Command bearer inspects OAuth 2.0 access tokens from the command line,
// with the library an API would use.
//
//	bearer introspect -authority URL -client-id ID [-client-secret S] TOKEN
//	bearer introspect -authority URL -client-id ID -auth private_key_jwt -key FILE TOKEN
//	bearer validate -authority URL [-audience A] [-scopes "a b"] TOKEN
//	bearer decode TOKEN
//
// introspect asks the authority's introspection endpoint (RFC 7662) and
// prints its answer as JSON; the secret is best given in the environment
// variable BEARER_CLIENT_SECRET, which keeps it out of shell history, or
// the API authenticates with a private key (private_key_jwt, RFC 7523).
// validate checks a JWT locally against the authority's published keys and
// prints its claims, or the error with its RFC 6750 code. decode prints a
// JWT's header and payload without verifying anything.
//
// Flags may come before or after TOKEN; a TOKEN that begins with "-" goes
// after "--". A TOKEN of "-" is read from standard input, which keeps it
// out of shell history and process listings. "bearer COMMAND -h" prints a
// command's usage and flags.
//
// Each command ends with one line on standard error that says the
// outcome: "valid", "active", or why not and what an API would answer
// ("invalid token: token expired (an API answers 401 invalid_token)").
// The library's own logs are shown only with -v.
//
// Exit status: 0 valid or active, 1 refused (invalid, inactive or
// insufficient scope), 2 usage error, 3 the authority could not be reached
// or did not answer properly (the token was not judged). "go run" exits 1
// whatever the command's status: build the command once
// ("go build -o bearer ./cmd/bearer") where the status matters.
package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/accesstoken/bearer"
)

// Exit statuses.
const (
	exitValid       = 0
	exitInvalid     = 1 // the token was judged and refused
	exitUsage       = 2
	exitUnavailable = 3
)

// secretEnv names the environment variable that holds the client secret.
const secretEnv = "BEARER_CLIENT_SECRET"

// The usage line of each command.
const (
	introspectUsage = `bearer introspect -authority URL -client-id ID [-client-secret S | -auth private_key_jwt -key FILE] [flags] TOKEN`
	validateUsage   = `bearer validate -authority URL [-audience A] [-scopes "a b"] [flags] TOKEN`
	decodeUsage     = `bearer decode TOKEN`
)

const usage = `usage:
  ` + introspectUsage + `
  ` + validateUsage + `
  ` + decodeUsage + `

introspect  ask the authority's introspection endpoint (RFC 7662); print its answer
validate    validate a JWT locally with the authority's keys; print its claims
decode      print a JWT's header and payload, UNVERIFIED

Flags may come before or after TOKEN; a TOKEN that begins with "-" goes
after "--". TOKEN "-" reads the token from standard input. The client
secret is read from $BEARER_CLIENT_SECRET unless -client-secret is given.
Run "bearer COMMAND -h" for a command's flags.

exit status: 0 valid/active, 1 refused, 2 usage, 3 authority unavailable
("go run" exits 1 whatever the status: build once, go build -o bearer ./cmd/bearer)
`

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// run is the whole command, minus the process: tests call it directly.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return exitUsage
	}
	switch args[0] {
	case "introspect":
		return introspect(args[1:], stdin, stdout, stderr)
	case "validate":
		return validate(args[1:], stdin, stdout, stderr)
	case "decode":
		return decode(args[1:], stdin, stdout, stderr)
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, usage)
		return exitValid
	}
	fmt.Fprintf(stderr, "bearer: unknown command %q\n\n%s", args[0], usage)
	return exitUsage
}

// usageError is a mistake in the command line; run prints it and exits 2.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

// newFlagSet returns the flag set of a command whose -h prints its usage
// line, then notes if any, then its flags.
func newFlagSet(name, usageLine, notes string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: %s\n", usageLine)
		if notes != "" {
			fmt.Fprintf(fs.Output(), "\n%s\n", notes)
		}
		fmt.Fprint(fs.Output(), "\nFlags may come before or after TOKEN; a TOKEN that begins with \"-\" goes\nafter \"--\". TOKEN \"-\" reads the token from standard input.\n")
		n := 0
		fs.VisitAll(func(*flag.Flag) { n++ })
		if n > 0 {
			fmt.Fprintln(fs.Output(), "\nflags:")
			fs.PrintDefaults()
		}
	}
	return fs
}

// parse parses a command's flags, before or after its one TOKEN argument,
// and returns the token. It returns -1 as the exit status when the caller
// should go on. Help, asked for, goes to stdout; mistakes to stderr.
func parse(fs *flag.FlagSet, args []string, stdin io.Reader, stdout, stderr io.Writer) (string, int) {
	fs.SetOutput(stderr)
	for _, a := range args {
		if a == "--" {
			break
		}
		if a == "-h" || a == "-help" || a == "--help" {
			fs.SetOutput(stdout)
		}
	}
	// The flag package stops at the first argument that is not a flag;
	// parsing resumes after it, so that flags may follow the token, until
	// "--", after which everything is an argument.
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return "", exitValid
			}
			return "", exitUsage
		}
		rest := fs.Args()
		if consumed := args[:len(args)-len(rest)]; len(consumed) > 0 && consumed[len(consumed)-1] == "--" {
			positional = append(positional, rest...)
			break
		}
		if len(rest) == 0 {
			break
		}
		positional, args = append(positional, rest[0]), rest[1:]
	}
	if len(positional) != 1 {
		fmt.Fprintf(stderr, "bearer %s: want exactly one TOKEN argument, got %d\n", fs.Name(), len(positional))
		fs.Usage()
		return "", exitUsage
	}
	token := positional[0]
	if token == "-" {
		line, err := bufio.NewReader(io.LimitReader(stdin, maxTokenSize+2)).ReadString('\n')
		if err != nil && err != io.EOF {
			fmt.Fprintf(stderr, "bearer %s: reading the token: %v\n", fs.Name(), err)
			return "", exitUsage
		}
		token = strings.TrimSpace(line)
	}
	if token == "" {
		fmt.Fprintf(stderr, "bearer %s: the token is empty\n", fs.Name())
		return "", exitUsage
	}
	return token, -1
}

// logger passes on the library's logs with -v, and nothing without: the
// command says every outcome itself, once.
func logger(stderr io.Writer, verbose bool) *slog.Logger {
	if !verbose {
		return slog.New(slog.DiscardHandler)
	}
	return slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// verboseUsage is the -v flag's help.
const verboseUsage = "also print the library's logs (discovery, key fetches, refused credentials)"

func introspect(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := newFlagSet("introspect", introspectUsage, "Asks the authority's introspection endpoint (RFC 7662) whether TOKEN is active\nand prints its answer as JSON.")
	authority := fs.String("authority", "", "issuer `URL` of the authority, whose discovery document names the introspection endpoint")
	endpoint := fs.String("endpoint", "", "introspection endpoint `URL`, instead of discovery")
	clientID := fs.String("client-id", "", "the API's client `ID` at the authority (required)")
	secret := fs.String("client-secret", "", "the API's client `secret` (default $"+secretEnv+")")
	auth := fs.String("auth", "basic", "client authentication `method`: basic (client_secret_basic), post (client_secret_post) or private_key_jwt")
	keyFile := fs.String("key", "", "with -auth private_key_jwt: the API's private key, a PEM `file` (PKCS #8, PKCS #1 or SEC 1)")
	keyID := fs.String("key-id", "", "with -auth private_key_jwt: the `kid` of the key, if the authority needs one")
	signed := fs.Bool("jwt", false, "ask for a signed JWT response (RFC 9701) and verify it with the authority's keys")
	timeout := fs.Duration("timeout", 10*time.Second, "how long to wait for the authority")
	verbose := fs.Bool("v", false, verboseUsage)
	token, code := parse(fs, args, stdin, stdout, stderr)
	if code >= 0 {
		return code
	}
	cfg := bearer.Config{
		Authority:             *authority,
		IntrospectionEndpoint: *endpoint,
		ClientID:              *clientID,
		ClientSecret:          *secret,
		IntrospectionJWT:      *signed,
		Timeout:               *timeout,
		Logger:                logger(stderr, *verbose),
	}
	switch *auth {
	case "basic", "client_secret_basic":
		cfg.ClientAuth = bearer.ClientSecretBasic
	case "post", "client_secret_post":
		cfg.ClientAuth = bearer.ClientSecretPost
	case "private_key_jwt":
		cfg.ClientAuth = bearer.PrivateKeyJWT
	default:
		return fail(stderr, "introspect", usageError{fmt.Sprintf("-auth %q: want basic, post or private_key_jwt", *auth)})
	}
	if cfg.ClientID == "" {
		return fail(stderr, "introspect", usageError{"-client-id is required"})
	}
	if cfg.ClientAuth == bearer.PrivateKeyJWT {
		if cfg.ClientSecret != "" {
			return fail(stderr, "introspect", usageError{"-client-secret is not used with -auth private_key_jwt"})
		}
		if *keyFile == "" {
			return fail(stderr, "introspect", usageError{"-auth private_key_jwt needs -key"})
		}
		key, err := readPrivateKey(*keyFile)
		if err != nil {
			return fail(stderr, "introspect", usageError{"-key: " + err.Error()})
		}
		cfg.ClientKey, cfg.ClientKeyID = key, *keyID
	} else {
		if *keyFile != "" || *keyID != "" {
			return fail(stderr, "introspect", usageError{"-key and -key-id are for -auth private_key_jwt"})
		}
		if cfg.ClientSecret == "" {
			cfg.ClientSecret = os.Getenv(secretEnv)
		}
		if cfg.ClientSecret == "" {
			return fail(stderr, "introspect", usageError{"no client secret: set $" + secretEnv + " or -client-secret"})
		}
	}
	in, err := bearer.NewIntrospector(cfg)
	if err != nil {
		return fail(stderr, "introspect", usageError{err.Error()})
	}
	defer in.Close()

	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	res, err := in.Introspect(ctx, token)
	if err != nil {
		return fail(stderr, "introspect", err)
	}
	raw, err := json.Marshal(res)
	if err != nil {
		return fail(stderr, "introspect", err)
	}
	if err := printJSON(stdout, raw); err != nil {
		return fail(stderr, "introspect", err)
	}
	if !res.Active {
		fmt.Fprintln(stderr, "bearer introspect: not active (an API answers 401 invalid_token)")
		return exitInvalid
	}
	fmt.Fprintln(stderr, "bearer introspect: active")
	return exitValid
}

// readPrivateKey reads the first private key of a PEM file: PKCS #8,
// PKCS #1 (RSA) or SEC 1 (EC).
func readPrivateKey(file string) (crypto.Signer, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	for rest := data; ; {
		var block *pem.Block
		if block, rest = pem.Decode(rest); block == nil {
			return nil, errors.New("no PRIVATE KEY, RSA PRIVATE KEY or EC PRIVATE KEY block")
		}
		var key any
		switch block.Type {
		case "PRIVATE KEY":
			key, err = x509.ParsePKCS8PrivateKey(block.Bytes)
		case "RSA PRIVATE KEY":
			key, err = x509.ParsePKCS1PrivateKey(block.Bytes)
		case "EC PRIVATE KEY":
			key, err = x509.ParseECPrivateKey(block.Bytes)
		default:
			continue
		}
		if err != nil {
			return nil, err
		}
		signer, ok := key.(crypto.Signer)
		if !ok {
			return nil, fmt.Errorf("a %T cannot sign", key)
		}
		return signer, nil
	}
}

// listFlag is a flag that may be repeated.
type listFlag []string

func (l *listFlag) String() string { return strings.Join(*l, ",") }

func (l *listFlag) Set(v string) error {
	*l = append(*l, v)
	return nil
}

func validate(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := newFlagSet("validate", validateUsage, "Validates the JWT TOKEN locally with the authority's published keys and prints\nits claims. Without -audience and -scopes, any audience the token names is\naccepted: the token is checked for everything but being meant for a given API.")
	authority := fs.String("authority", "", "issuer `URL` of the authority (required)")
	var audience listFlag
	fs.Var(&audience, "audience", "an accepted `audience`; repeat for several (default: any, see above)")
	scopes := fs.String("scopes", "", "space-separated `scopes`, at least one of which the token must have")
	timeout := fs.Duration("timeout", 10*time.Second, "how long to wait for the authority")
	verbose := fs.Bool("v", false, verboseUsage)
	token, code := parse(fs, args, stdin, stdout, stderr)
	if code >= 0 {
		return code
	}
	if *authority == "" {
		return fail(stderr, "validate", usageError{"-authority is required"})
	}
	if strings.Count(token, ".") != 2 {
		fmt.Fprintln(stderr, "bearer validate: not a JWT; a reference token can only be introspected (bearer introspect)")
		return exitInvalid
	}
	cfg := bearer.Config{
		Authority:      *authority,
		Audience:       audience,
		RequiredScopes: bearer.AnyOf(*scopes),
		Mode:           bearer.ModeJWT,
		Timeout:        *timeout,
		Logger:         logger(stderr, *verbose),
	}
	valid := "valid"
	if len(cfg.Audience) == 0 && cfg.RequiredScopes.IsZero() {
		// The library insists on binding tokens to an API; a person at a
		// terminal may want to check everything else. The token's own aud,
		// read unverified, is then what is accepted.
		aud, err := unverifiedAudience(token)
		if err != nil {
			return fail(stderr, "validate", usageError{"give -audience or -scopes: " + err.Error()})
		}
		cfg.Audience = aud
		valid = fmt.Sprintf("valid, for the audience it names %q (give -audience or -scopes to check it is meant for your API)", aud)
	}
	v, err := bearer.New(context.Background(), cfg)
	if err != nil {
		return fail(stderr, "validate", usageError{err.Error()})
	}
	defer v.Close()

	// Not Ready, which waits out the timeout while discovery retries: the
	// first attempt's failure, a refused connection say, is the answer.
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	claims, err := v.Validate(ctx, token)
	if err != nil {
		return fail(stderr, "validate", err)
	}
	raw, err := json.Marshal(claims)
	if err != nil {
		return fail(stderr, "validate", err)
	}
	if err := printJSON(stdout, raw); err != nil {
		return fail(stderr, "validate", err)
	}
	fmt.Fprintln(stderr, "bearer validate: "+valid)
	return exitValid
}

// unverifiedAudience reads aud from a JWT's payload without verifying it.
func unverifiedAudience(token string) ([]string, error) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return nil, errors.New("the token is not a JWT")
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return nil, errors.New("the token's payload is not base64url")
	}
	var p struct {
		Aud json.RawMessage `json:"aud"`
	}
	if err := json.Unmarshal(payload, &p); err != nil {
		return nil, errors.New("the token's payload is not a JSON object")
	}
	var one string
	if json.Unmarshal(p.Aud, &one) == nil && one != "" {
		return []string{one}, nil
	}
	var list []string
	if json.Unmarshal(p.Aud, &list) == nil && len(list) > 0 && !slices.Contains(list, "") {
		return list, nil
	}
	return nil, errors.New("the token has no aud")
}

func decode(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := newFlagSet("decode", decodeUsage, "Prints the header and payload of the JWT TOKEN, UNVERIFIED: nothing is checked.")
	token, code := parse(fs, args, stdin, stdout, stderr)
	if code >= 0 {
		return code
	}
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		fmt.Fprintf(stderr, "bearer decode: not a JWT (a JWT has 3 dot-separated parts, this has %d); a reference token can only be introspected (bearer introspect)\n", len(parts))
		return exitInvalid
	}
	for i, label := range []string{"header", "payload"} {
		raw, err := base64.RawURLEncoding.DecodeString(parts[i])
		if err != nil {
			fmt.Fprintf(stderr, "bearer decode: the %s is not base64url: %v\n", label, err)
			return exitInvalid
		}
		fmt.Fprintf(stdout, "UNVERIFIED %s:\n", label)
		if err := printJSON(stdout, raw); err != nil {
			fmt.Fprintf(stderr, "bearer decode: the %s is not JSON: %v\n", label, err)
			return exitInvalid
		}
		if label == "payload" {
			printTimes(stdout, raw, time.Now())
		}
	}
	fmt.Fprintln(stdout, "The signature was NOT checked: use bearer validate for that.")
	return exitValid
}

// printTimes spells out the NumericDate claims, which are hard to read.
func printTimes(w io.Writer, payload []byte, now time.Time) {
	var p map[string]any
	if json.Unmarshal(payload, &p) != nil {
		return
	}
	for _, name := range []string{"iat", "nbf", "exp"} {
		f, ok := p[name].(float64)
		if !ok {
			continue
		}
		t := time.Unix(int64(f), 0).UTC()
		rel := t.Sub(now).Round(time.Second)
		when := "in " + rel.String()
		if rel < 0 {
			when = (-rel).String() + " ago"
		}
		fmt.Fprintf(w, "%s: %s (%s)\n", name, t.Format(time.RFC3339), when)
	}
}

func printJSON(w io.Writer, raw []byte) error {
	var out bytes.Buffer
	if err := json.Indent(&out, raw, "", "  "); err != nil {
		return err
	}
	out.WriteByte('\n')
	_, err := w.Write(out.Bytes())
	return err
}

// fail prints the one line that says why err ended the command, and
// returns the exit status for it.
func fail(stderr io.Writer, cmd string, err error) int {
	var ue usageError
	var e *bearer.Error
	switch {
	case errors.As(err, &ue):
		fmt.Fprintf(stderr, "bearer %s: %s\n", cmd, oneLine(strings.TrimPrefix(ue.msg, "bearer: ")))
		return exitUsage
	case errors.As(err, &e):
		fmt.Fprintf(stderr, "bearer %s: %s\n", cmd, refusal(e))
		if errors.Is(err, bearer.ErrUnavailable) {
			return exitUnavailable
		}
		return exitInvalid
	default:
		fmt.Fprintf(stderr, "bearer %s: %s\n", cmd, oneLine(err.Error()))
		return exitUnavailable
	}
}

// refusal says why the library refused, then what an API would answer:
// "invalid token: token expired (an API answers 401 invalid_token)".
func refusal(e *bearer.Error) string {
	var why string
	switch {
	case errors.Is(e, bearer.ErrInsufficientScope):
		if scopes := strings.Fields(e.Scope); len(scopes) == 1 {
			why = "insufficient scope: needs " + scopes[0]
		} else {
			why = "insufficient scope: needs one of " + strings.Join(scopes, ", ")
		}
	case errors.Is(e, bearer.ErrUnavailable):
		// The cause, which Error would prefix with the kind again.
		why = e.Description
		for _, err := range e.Unwrap() {
			if err != bearer.ErrUnavailable {
				why += ": " + err.Error()
			}
		}
	case errors.Is(e, bearer.ErrInvalidToken):
		why = "invalid token: " + e.Description
	default:
		why = e.Description
	}
	answer := strconv.Itoa(e.Status)
	if e.Code != "" {
		answer += " " + e.Code
	}
	return oneLine(why) + " (an API answers " + answer + ")"
}

// oneLine joins the lines of s (errors.Join makes several) with "; ".
func oneLine(s string) string {
	var lines []string
	for line := range strings.Lines(s) {
		if line = strings.TrimSpace(line); line != "" {
			lines = append(lines, line)
		}
	}
	return strings.Join(lines, "; ")
}

// maxTokenSize is the core's default Config.MaxTokenSize: a token read
// from stdin is cut a little beyond it, to be refused as too large.
const maxTokenSize = 16 << 10
