package bearer

import (
	"strings"
	"sync/atomic"
)

// headerMemo remembers the protected headers of access tokens that
// verified, each by the exact text of its encoded segment: every token one
// key signs carries the same header, and decoding and reading it again
// (base64url, UTF-8, the strict JSON reader) is a good part of what a cold
// validation adds to the signature check.
//
// What it holds is what reading those bytes gives (alg, kid, typ), which
// depends on nothing else: an entry is served only for a segment equal to
// its own, compared whole, and the allow-list of algorithms, typ, the key
// lookup and the signature are applied to every token as before, so no key
// choice outlives a change of the key set. Only headers of tokens that
// verified enter it, so tokens nobody signed cannot churn it; it holds at
// most headerSlots entries of at most maxMemoHeader bytes, replaced in
// turn, and is read without a lock.
type headerMemo struct {
	slots [headerSlots]atomic.Pointer[memoHeader]
	next  atomic.Uint32
}

// headerSlots is how many headers a memo holds: an authority's keys, one
// header or two each, fit in it.
const headerSlots = 16

// maxMemoHeader bounds the encoded header an entry keeps; a longer one is
// read every time.
const maxMemoHeader = 512

// memoHeader is one header read: seg, the encoded segment, and its members.
type memoHeader struct {
	seg           string
	alg, kid, typ string
}

// get returns the header read from seg, or nil if m holds none (or m is
// nil).
func (m *headerMemo) get(seg string) *memoHeader {
	if m == nil {
		return nil
	}
	for i := range m.slots {
		if h := m.slots[i].Load(); h != nil && h.seg == seg {
			return h
		}
	}
	return nil
}

// put remembers the header of t, a token that read accepted and whose
// signature verified, unless m already holds it.
func (m *headerMemo) put(t *jws) {
	seg := t.token[:t.dot1]
	if m == nil || len(seg) > maxMemoHeader || t.jwk != "" || m.get(seg) != nil {
		return
	}
	// One copy for all four strings: the token is the caller's, and the
	// members may be slices of a buffer that would keep more alive.
	s := strings.Join([]string{seg, t.alg, t.kid, t.typ}, "")
	a, k := len(seg), len(seg)+len(t.alg)
	h := &memoHeader{seg: s[:a], alg: s[a:k], kid: s[k : k+len(t.kid)], typ: s[k+len(t.kid):]}
	m.slots[m.next.Add(1)%headerSlots].Store(h)
}
