package mcpbearer

import (
	"errors"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/auth"

	"github.com/accesstoken/bearer"
)

// TestUserIDNeverCollides: distinct (issuer, subject, client) triples,
// built to collide under a naive join, get distinct UserIDs.
func TestUserIDNeverCollides(t *testing.T) {
	triples := [][3]string{
		{"https://a.example", "alice", ""},
		{"https://b.example", "alice", ""},
		{"https://a.example#alice", "", ""},   // iss#sub under plain "#"
		{"https://a.example", "", "alice"},    // no sub: the client names it
		{"https://a.example", "#alice", ""},   // sub starting with "#"
		{"https://a.example#", "alice", ""},   // iss ending with "#"
		{"https://a.example%23", "alice", ""}, // the escape of "#" itself
		{"https://a.example", "%23alice", ""},
		{"https://a.example", "", ""},
		{"https://a.example", "", "#"},
		{"", "https://a.example#alice", ""},
		{"https://login.example.com/tenant#x", "y", ""}, // a tenant path plays with the separator
		{"https://login.example.com/tenant", "x#y", ""},
	}
	seen := make(map[string][3]string)
	for _, tr := range triples {
		id := userID(tr[0], tr[1], tr[2])
		if other, ok := seen[id]; ok {
			t.Errorf("%q and %q share UserID %q", tr, other, id)
		}
		seen[id] = tr
	}
	if got := userID("https://login.example.com", "alice", "app"); got != "https://login.example.com#alice" {
		t.Errorf("readable form: %q", got)
	}
	if got := userID("https://login.example.com", "", "app"); got != "https://login.example.com##app" {
		t.Errorf("client form: %q", got)
	}
}

// TestRefusal: the SDK reads an invalid token as auth.ErrInvalidToken and
// an unavailable authority as something else; errors.Is still finds the
// library's kinds, and the text is the fixed description.
func TestRefusal(t *testing.T) {
	bad := refused(bearer.NewError(bearer.ErrExpired, ""))
	if !errors.Is(bad, auth.ErrInvalidToken) || !errors.Is(bad, bearer.ErrInvalidToken) || !errors.Is(bad, bearer.ErrExpired) || bad.Error() != "token expired" {
		t.Errorf("invalid token: %v", bad)
	}
	scope := refused(bearer.AllOf("x").Check(&bearer.Claims{}))
	if !errors.Is(scope, auth.ErrInvalidToken) || !errors.Is(scope, bearer.ErrInsufficientScope) {
		t.Errorf("insufficient scope: %v", scope)
	}
	down := refused(bearer.NewError(bearer.ErrUnavailable, ""))
	if errors.Is(down, auth.ErrInvalidToken) || errors.Is(down, auth.ErrOAuth) || !errors.Is(down, bearer.ErrUnavailable) || down.Error() != "authority unavailable" {
		t.Errorf("unavailable: %v", down)
	}
}
