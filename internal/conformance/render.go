package conformance

import (
	"encoding/json"
	"net/http"
	"strconv"

	"github.com/accesstoken/bearer"
)

// The error handlers of the table's rendering cases: what applications
// give middleware.ErrorHandler.

// problem renders e as an RFC 9457 problem details object.
func problem(w http.ResponseWriter, _ *http.Request, e *bearer.Error) {
	w.Header().Set("Content-Type", problemType)
	w.WriteHeader(e.Status)
	body, _ := json.Marshal(struct {
		Type   string `json:"type"`
		Title  string `json:"title"`
		Status int    `json:"status"`
		Detail string `json:"detail"`
	}{"about:blank", http.StatusText(e.Status), e.Status, e.Description})
	_, _ = w.Write(append(body, '\n'))
}

// ownChallenge replaces the library's challenge, on purpose, before
// rendering a problem.
func ownChallenge(w http.ResponseWriter, r *http.Request, e *bearer.Error) {
	w.Header().Set("WWW-Authenticate", `Bearer realm="mine"`)
	problem(w, r, e)
}

// silent writes nothing at all.
func silent(http.ResponseWriter, *http.Request, *bearer.Error) {}

const problemType = "application/problem+json"

// problemBody is what problem writes for status and detail.
func problemBody(status int, detail string) string {
	return `{"type":"about:blank","title":"` + http.StatusText(status) + `","status":` + strconv.Itoa(status) + `,"detail":"` + detail + `"}` + "\n"
}

// rendered is want, a response of bearer.WriteError, as problem renders
// it: the same status and headers but for the body and its type.
func rendered(want Want, detail string) Want {
	want = with(want, "Content-Type", problemType)
	want.Body = problemBody(want.Status, detail)
	return want
}

// bodiless is want without a body, as when the error handler writes
// nothing: the status and the library's headers, no Content-Type.
func bodiless(want Want) Want {
	want = with(want, "Content-Type", "")
	delete(want.Header, "Content-Type")
	want.Body = ""
	return want
}
