package bearer_test

import (
	"net/http/httptest"
	"testing"

	"github.com/accesstoken/bearer"
)

// TestResourceMetadataChallenge: RFC 9728 §5.1's parameter follows those
// of RFC 6750 in every challenge, the bare one included, and a 503 still
// has no challenge.
func TestResourceMetadataChallenge(t *testing.T) {
	const url = "https://api.example/.well-known/oauth-protected-resource/mcp"
	rm := bearer.ResourceMetadata(url)
	cases := []struct {
		err  error
		want string
	}{
		{bearer.NewError(bearer.ErrNoToken, ""), `Bearer realm="api", resource_metadata="` + url + `"`},
		{bearer.NewError(bearer.ErrExpired, ""), `Bearer realm="api", error="invalid_token", error_description="token expired", resource_metadata="` + url + `"`},
		{bearer.AllOf("a", "b").Check(&bearer.Claims{}), `Bearer realm="api", error="insufficient_scope", error_description="insufficient scope", scope="a b", resource_metadata="` + url + `"`},
		{bearer.NewError(bearer.ErrInvalidRequest, "more than one Authorization field"), `Bearer realm="api", error="invalid_request", error_description="more than one Authorization field", resource_metadata="` + url + `"`},
	}
	for _, c := range cases {
		rec := httptest.NewRecorder()
		bearer.WriteError(rec, "api", c.err, rm)
		if got := rec.Header().Get("WWW-Authenticate"); got != c.want {
			t.Errorf("%v:\n got %s\nwant %s", c.err, got, c.want)
		}
		if got := bearer.AsError(c.err).Challenges("api", rm)[0]; got != c.want {
			t.Errorf("Challenge: %s", got)
		}
	}

	rec := httptest.NewRecorder()
	bearer.WriteError(rec, "api", bearer.NewError(bearer.ErrUnavailable, ""), rm)
	if got := rec.Header().Values("WWW-Authenticate"); rec.Code != 503 || len(got) != 0 {
		t.Errorf("503: status %d, challenge %q", rec.Code, got)
	}
}

// TestChallengeParamQuoting: a value cannot break out of its quoted
// string, and a parameter without a value is left out.
func TestChallengeParamQuoting(t *testing.T) {
	e := bearer.NewError(bearer.ErrNoToken, "")
	if got, want := e.Challenges("", bearer.ResourceMetadata("https://x/\"a\\b\r\n"))[0], `Bearer resource_metadata="https://x/ab"`; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
	if got, want := e.Challenges("api", bearer.ChallengeParam{}, bearer.ResourceMetadata(""))[0], `Bearer realm="api"`; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
}
