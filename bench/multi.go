package bench

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/accesstoken/bearer"
)

// Contenders of several authorities, not in Names (the tables compare
// peers, which have no such thing): bearer-multiN-warm and
// bearer-multiN-cold are bearer-warm and bearer-cold on a
// bearer.NewMulti Validator of N authorities, the token's last. Measure
// them against their single-authority counterpart:
//
//	go run ./cmd/paired -baseline bearer-warm -contenders bearer-multi100-warm -introspection=false
const multiPrefix = "bearer-multi"

// parseMulti reads N and warm from a bearer-multiN-warm/cold name.
func parseMulti(name string) (n int, warm, ok bool) {
	rest, ok := strings.CutPrefix(name, multiPrefix)
	if !ok {
		return 0, false, false
	}
	count, mode, ok := strings.Cut(rest, "-")
	n, err := strconv.Atoi(count)
	if !ok || err != nil || n < 1 || (mode != "warm" && mode != "cold") {
		return 0, false, false
	}
	return n, mode == "warm", true
}

// newBearerMulti is a Validator of n authorities: n-1 with static keys
// of their own (they start no servers and never verify the token) and
// t's authority last.
func newBearerMulti(ctx context.Context, t Target, n int, warm bool) (*Contender, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	der, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		return nil, err
	}
	static := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
	cfgs := make([]bearer.Config, 0, n)
	for i := range n - 1 {
		cfgs = append(cfgs, bearer.Config{Authority: fmt.Sprintf("https://tenant-%d.example", i), Audience: []string{Audience}, StaticKeys: static})
	}
	cfgs = append(cfgs, BearerConfig(t))
	mc := bearer.MultiConfig{Authorities: cfgs}
	if !warm {
		mc.CacheSize = -1
	}
	v, err := bearer.NewMulti(context.Background(), mc)
	if err != nil {
		return nil, err
	}
	ready, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := v.Ready(ready); err != nil {
		v.Close()
		return nil, err
	}
	validate := func(ctx context.Context, token string) error {
		_, err := v.Validate(ctx, token)
		return err
	}
	return &Contender{Validate: validate, validator: v, close: func() { v.Close() }}, nil
}
