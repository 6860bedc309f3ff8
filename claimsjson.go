package bearer

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// This file decodes a JWT payload into wireClaims in one pass, without
// reflection. It exists for speed (the payload is decoded on every cache
// miss) and for strictness encoding/json lacks, so that two parsers, or
// two views of one token (Claims' fields, Claims.Decode, Claims.Map), can
// never read two different tokens from one payload:
//   - member names are matched exactly (RFC 7519 §4: claim names are
//     case-sensitive), and a top-level name that equals a registered claim
//     only when case is folded ("SUB", "iſs") is refused, since
//     encoding/json, and so Claims.Decode, would read it as that claim;
//   - in every object, at every depth, two names that are equal when case
//     is folded as encoding/json folds it are refused (RFC 7515 §4, RFC
//     8725 §3.2 for exact duplicates): which one encoding/json keeps is an
//     accident of order;
//   - strings must be UTF-8 without escaped lone surrogates (I-JSON, RFC
//     7493 §2.1): decoding either into U+FFFD would read two different
//     tokens as one.
//
// Its answers are checked against encoding/json by FuzzDecodeClaims.

var (
	errJSON            = errors.New("malformed JSON")
	errDuplicateMember = errors.New("a member is named twice")
	errMemberCase      = errors.New("a member name differs from a registered one only in case")
	errNotIJSON        = errors.New("a string is not UTF-8 or escapes a lone surrogate")
)

// maxDepth bounds nesting in values we skip, so a payload of brackets
// cannot exhaust the stack.
const maxDepth = 64

// jsonScanner reads src. Values are slices of src, so a caller that keeps
// one string of the input keeps all the strings read from it in one
// allocation.
type jsonScanner struct {
	src string
	b   []byte // src's bytes, only read
	i   int
}

func newScanner(src string) jsonScanner { return jsonScanner{src: src, b: bytesOf(src)} }

func (s *jsonScanner) ws() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

func (s *jsonScanner) peek() byte {
	s.ws()
	if s.i < len(s.b) {
		return s.b[s.i]
	}
	return 0
}

func (s *jsonScanner) expect(c byte) error {
	if s.peek() != c {
		return errJSON
	}
	s.i++
	return nil
}

// name reads a member name. Plain names, nearly all of them, are
// returned as a slice of the input, so reading them allocates nothing.
func (s *jsonScanner) name() ([]byte, error) {
	if s.peek() != '"' {
		return nil, errJSON
	}
	start := s.i + 1
	if end := s.plain(start); end < len(s.b) && s.b[end] == '"' {
		s.i = end + 1
		return s.b[start:end], nil
	}
	for j := start; j < len(s.b); j++ {
		c := s.b[j]
		if c == '"' {
			if raw := s.b[start:j]; utf8.Valid(raw) {
				s.i = j + 1
				return raw, nil
			}
			break
		}
		if c == '\\' || c < 0x20 {
			break
		}
	}
	v, err := s.str()
	return []byte(v), err
}

// plainASCII holds the bytes a JSON string holds as they are and that are
// UTF-8 on their own: printable ASCII but for '"' and '\\'.
var plainASCII = func() (t [256]bool) {
	for c := 0x20; c < 0x80; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// plain returns the index of the first byte from i on that is not in
// plainASCII: a string made of those alone needs neither decoding nor a
// UTF-8 check.
func (s *jsonScanner) plain(i int) int {
	for i < len(s.b) && plainASCII[s.b[i]] {
		i++
	}
	return i
}

// str reads a JSON string and returns its value. Strings without escapes
// and in valid UTF-8, nearly all of them, are sliced, not rebuilt.
func (s *jsonScanner) str() (string, error) {
	if s.peek() != '"' {
		return "", errJSON
	}
	start := s.i
	if end := s.plain(start + 1); end < len(s.b) && s.b[end] == '"' {
		s.i = end + 1
		return s.src[start+1 : end], nil
	}
	s.i++
	simple := true
	for s.i < len(s.b) {
		c := s.b[s.i]
		switch {
		case c == '"':
			s.i++
			raw := s.b[start+1 : s.i-1]
			if !utf8.Valid(raw) {
				return "", errNotIJSON
			}
			if simple {
				return s.src[start+1 : s.i-1], nil
			}
			if !pairedSurrogates(raw) {
				return "", errNotIJSON
			}
			// Escapes: encoding/json's rules, exactly.
			var v string
			if err := json.Unmarshal(s.b[start:s.i], &v); err != nil {
				return "", errJSON
			}
			return v, nil
		case c == '\\':
			simple = false
			s.i += 2
		case c < 0x20:
			return "", errJSON
		default:
			s.i++
		}
	}
	return "", errJSON
}

// number reads a JSON number as float64.
func (s *jsonScanner) number() (float64, error) {
	s.ws()
	start := s.i
	if s.i < len(s.b) && s.b[s.i] == '-' {
		s.i++
	}
	digits := s.i
	for s.i < len(s.b) && s.b[s.i] >= '0' && s.b[s.i] <= '9' {
		s.i++
	}
	if s.i == digits || (s.b[digits] == '0' && s.i-digits > 1) {
		return 0, errJSON
	}
	if s.i < len(s.b) && s.b[s.i] == '.' {
		s.i++
		frac := s.i
		for s.i < len(s.b) && s.b[s.i] >= '0' && s.b[s.i] <= '9' {
			s.i++
		}
		if s.i == frac {
			return 0, errJSON
		}
	}
	if s.i < len(s.b) && (s.b[s.i] == 'e' || s.b[s.i] == 'E') {
		s.i++
		if s.i < len(s.b) && (s.b[s.i] == '+' || s.b[s.i] == '-') {
			s.i++
		}
		exp := s.i
		for s.i < len(s.b) && s.b[s.i] >= '0' && s.b[s.i] <= '9' {
			s.i++
		}
		if s.i == exp {
			return 0, errJSON
		}
	}
	f, err := strconv.ParseFloat(s.src[start:s.i], 64)
	if err != nil {
		return 0, errJSON
	}
	return f, nil
}

func (s *jsonScanner) literal(word string) error {
	s.ws()
	if !strings.HasPrefix(s.src[s.i:], word) {
		return errJSON
	}
	s.i += len(word)
	return nil
}

// skip passes over any JSON value, checking its syntax.
func (s *jsonScanner) skip(depth int) error {
	if depth > maxDepth {
		return errJSON
	}
	switch s.peek() {
	case '"':
		_, err := s.str()
		return err
	case '{':
		s.i++
		if s.peek() == '}' {
			s.i++
			return nil
		}
		var names nameSet
		for {
			name, err := s.name()
			if err != nil {
				return err
			}
			if !names.add(name) {
				return errDuplicateMember
			}
			if err := s.expect(':'); err != nil {
				return err
			}
			if err := s.skip(depth + 1); err != nil {
				return err
			}
			switch s.peek() {
			case ',':
				s.i++
			case '}':
				s.i++
				return nil
			default:
				return errJSON
			}
		}
	case '[':
		s.i++
		if s.peek() == ']' {
			s.i++
			return nil
		}
		for {
			if err := s.skip(depth + 1); err != nil {
				return err
			}
			switch s.peek() {
			case ',':
				s.i++
			case ']':
				s.i++
				return nil
			default:
				return errJSON
			}
		}
	case 't':
		return s.literal("true")
	case 'f':
		return s.literal("false")
	case 'n':
		return s.literal("null")
	default:
		_, err := s.number()
		return err
	}
}

// isNull consumes a null if one is next.
func (s *jsonScanner) isNull() bool {
	if s.peek() == 'n' && s.literal("null") == nil {
		return true
	}
	return false
}

// strings reads a string or an array of strings; null is no value.
func (s *jsonScanner) strings() (list []string, single bool, err error) {
	if s.isNull() {
		return nil, false, nil
	}
	if s.peek() == '"' {
		v, err := s.str()
		return []string{v}, true, err
	}
	if err := s.expect('['); err != nil {
		return nil, false, err
	}
	list = []string{}
	if s.peek() == ']' {
		s.i++
		return list, false, nil
	}
	for {
		v, err := s.str()
		if err != nil {
			return nil, false, err
		}
		list = append(list, v)
		switch s.peek() {
		case ',':
			s.i++
		case ']':
			s.i++
			return list, false, nil
		default:
			return nil, false, errJSON
		}
	}
}

// optString reads a string claim; null leaves it empty, as encoding/json
// does.
func (s *jsonScanner) optString() (string, error) {
	if s.isNull() {
		return "", nil
	}
	return s.str()
}

// seconds reads a NumericDate written as a whole number of at most 12
// digits (under 1<<40, as date requires), as they nearly always are,
// without strconv; anything else is left to number.
func (s *jsonScanner) seconds() (int64, bool) {
	s.ws()
	var v int64
	j := s.i
	for ; j < len(s.b) && j-s.i <= 12 && '0' <= s.b[j] && s.b[j] <= '9'; j++ {
		v = v*10 + int64(s.b[j]-'0')
	}
	n := j - s.i
	if n == 0 || n > 12 || n > 1 && s.b[s.i] == '0' {
		return 0, false
	}
	if j < len(s.b) {
		switch s.b[j] {
		case '.', 'e', 'E':
			return 0, false
		}
	}
	s.i = j
	return v, true
}

// date reads a NumericDate into d; null, like absence, leaves it unset.
func (s *jsonScanner) date(d *numericDate) error {
	if s.isNull() {
		*d = numericDate{}
		return nil
	}
	if sec, ok := s.seconds(); ok {
		*d = numericDate{t: unixTime(sec, 0), set: true}
		return nil
	}
	f, err := s.number()
	if err != nil || math.Abs(f) > 1<<40 {
		return errNumericDate
	}
	sec, frac := math.Modf(f)
	*d = numericDate{t: unixTime(int64(sec), int64(frac*1e9)), set: true}
	return nil
}

// Bits of the registered members seen, to refuse duplicates.
const (
	seenIss = 1 << iota
	seenSub
	seenAud
	seenExp
	seenIat
	seenNbf
	seenJti
	seenClientID
	seenScope
	seenScp
	seenSid
	seenCnf
	seenDetails
	seenAct
	seenMayAct
	seenEvents // the last: the bits of an introspection answer's own members follow it
)

// nameSet holds the member names of an object, to refuse duplicates, two
// names being the same if they are equal when case is folded (see the top
// of this file): a list while it is short, as ordinary objects are, then a
// map of folded names, so that a header of thousands of members (it is
// read before the signature is checked) costs linear time, not quadratic.
// The list is held inline, so a set on the caller's stack stays there.
type nameSet struct {
	list [16][]byte
	n    int
	m    map[string]struct{}
}

// add records name and reports whether it was not there yet.
func (n *nameSet) add(name []byte) bool {
	if n.m != nil {
		key := foldName(name)
		if _, dup := n.m[key]; dup {
			return false
		}
		n.m[key] = struct{}{}
		return true
	}
	for _, o := range n.list[:n.n] {
		if bytes.EqualFold(o, name) {
			return false
		}
	}
	if n.n < len(n.list) {
		n.list[n.n] = name
		n.n++
		return true
	}
	n.m = make(map[string]struct{}, 4*len(n.list))
	for _, o := range n.list {
		n.m[foldName(o)] = struct{}{}
	}
	n.m[foldName(name)] = struct{}{}
	return true
}

// foldName returns a key that two names share exactly when bytes.EqualFold
// finds them equal, which is how encoding/json matches names to fields:
// ASCII in upper case, any other rune as the least of its case-folding
// orbit (so "ſ" and "s" both become "S", and the Kelvin sign "K").
func foldName(name []byte) string {
	out := make([]byte, 0, len(name))
	for i := 0; i < len(name); {
		if c := name[i]; c < utf8.RuneSelf {
			if 'a' <= c && c <= 'z' {
				c -= 'a' - 'A'
			}
			out = append(out, c)
			i++
			continue
		}
		r, size := utf8.DecodeRune(name[i:])
		for {
			f := unicode.SimpleFold(r)
			if f <= r {
				r = f
				break
			}
			r = f
		}
		out = utf8.AppendRune(out, r)
		i += size
	}
	return string(out)
}

// variantOf reports whether name, which is none of members, equals one of
// them when case is folded: encoding/json would read it as that member.
func variantOf(name []byte, members []string) bool {
	ascii := true
	for _, c := range name {
		ascii = ascii && c < utf8.RuneSelf
	}
	for _, m := range members {
		// An ASCII name folds to an ASCII name of its own length.
		if (!ascii || len(m) == len(name)) && bytes.EqualFold(name, []byte(m)) {
			return true
		}
	}
	return false
}

// pairedSurrogates reports whether every \u escape of a surrogate in raw,
// a string's body, is a high one followed at once by a low one, the only
// way JSON can spell a character beyond U+FFFF. Malformed escapes are
// left to the decoder to refuse.
func pairedSurrogates(raw []byte) bool {
	for i := 0; i < len(raw); i++ {
		if raw[i] != '\\' {
			continue
		}
		i++
		if i >= len(raw) || raw[i] != 'u' {
			continue // \", \n, …: i now skips the escaped byte
		}
		r, ok := hex4(raw[i+1:])
		switch {
		case !ok || r < 0xd800 || r > 0xdfff:
		case r >= 0xdc00: // a low surrogate first
			return false
		default:
			rest := raw[i+5:]
			lo, ok := hex4(rest[min(2, len(rest)):])
			if len(rest) < 2 || rest[0] != '\\' || rest[1] != 'u' || !ok || lo < 0xdc00 || lo > 0xdfff {
				return false
			}
			i += 6 // the low surrogate's escape
		}
		i += 4
	}
	return true
}

// hex4 reads the four hex digits of a \u escape at the start of b.
func hex4(b []byte) (rune, bool) {
	if len(b) < 4 {
		return 0, false
	}
	var r rune
	for _, c := range b[:4] {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c -= 'a' - 10
		case 'A' <= c && c <= 'F':
			c -= 'A' - 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
}

// decodeClaims decodes a payload that must be a JSON object.
func decodeClaims(payload string) (wireClaims, error) {
	var w wireClaims
	err := decodeObject(payload, &w, nil)
	return w, err
}

// claimMembers are the top-level members wireClaims.member reads.
var claimMembers = []string{"iss", "sub", "aud", "exp", "iat", "nbf", "jti", "client_id", "scope", "scp", "sid", "cnf",
	"authorization_details", "act", "may_act", "events"}

// decodeObject walks payload, which must be a JSON object, decoding its
// members into r if r is not nil (an introspection response), else into
// w. Direct calls rather than a func value keep the scanner off the heap.
func decodeObject(payload string, w *wireClaims, r *wireResult) error {
	members := claimMembers
	if r != nil {
		members = resultMembers
	}
	m := readMembers(payload, members)
	for m.next() {
		if r != nil {
			m.took(r.member(&m.s, m.name))
		} else {
			m.took(w.member(&m.s, m.name))
		}
	}
	return m.end()
}

// members reads one JSON object and nothing else, member by member, under
// this file's rules: every object of every signed JSON the library reads
// (claims, introspection answers, JWS headers, DPoP proofs and their keys)
// is read so:
//
//	m := readMembers(src, known)
//	for m.next() {
//		m.took(x.member(&m.s, m.name)) // reads the value, or skips it
//	}
//	err := m.end()
//
// member returns a bit of its own for each name of known it reads, and 0
// for any other name, whose value it skips. A name read twice, or two
// names equal when case is folded, is refused (errDuplicateMember); so is
// a name that equals one of known only when case is folded
// (errMemberCase): encoding/json, and so another reader, would take it for
// that member.
type members struct {
	s      jsonScanner
	known  []string
	name   []byte // the member at hand; s is at its value
	seen   uint   // the bits of the known members read
	others nameSet
	state  uint8 // 0 before the object, 1 in it, 2 after it
	err    error
}

func readMembers(src string, known []string) members {
	return members{s: newScanner(src), known: known}
}

// next moves to the next member and reports whether there is one.
func (m *members) next() bool {
	if m.err != nil || m.state == 2 {
		return false
	}
	s := &m.s
	if m.state == 0 {
		if m.err = s.expect('{'); m.err != nil {
			return false
		}
		m.state = 1
		if s.peek() == '}' {
			s.i++
			m.state = 2
			return false
		}
	} else {
		switch s.peek() {
		case ',':
			s.i++
		case '}':
			s.i++
			m.state = 2
			return false
		default:
			m.err = errJSON
			return false
		}
	}
	if m.name, m.err = s.name(); m.err == nil {
		m.err = s.expect(':')
	}
	return m.err == nil
}

// took records what reading the member at hand gave: the bit of a known
// member, or 0 for one skipped, or an error.
func (m *members) took(bit uint, err error) {
	switch {
	case err != nil:
		m.err = err
	case bit != 0:
		if m.seen&bit != 0 {
			m.err = errDuplicateMember
		}
		m.seen |= bit
	case variantOf(m.name, m.known):
		m.err = errMemberCase
	case !m.others.add(m.name):
		m.err = errDuplicateMember
	}
}

// end reports the first error met, if any, or whether the input holds
// anything after the object.
func (m *members) end() error {
	if m.err != nil {
		return m.err
	}
	if m.state != 2 {
		return errJSON
	}
	if m.s.ws(); m.s.i != len(m.s.b) {
		return errJSON
	}
	return nil
}

// member decodes the value of the member name into w and returns its bit,
// or 0 for a member w does not hold (its value is skipped).
func (w *wireClaims) member(s *jsonScanner, name []byte) (uint, error) {
	var err error
	switch string(name) {
	case "iss":
		w.Iss, err = s.optString()
		return seenIss, err
	case "sub":
		w.Sub, err = s.optString()
		return seenSub, err
	case "jti":
		w.Jti, err = s.optString()
		return seenJti, err
	case "client_id":
		w.ClientID, err = s.optString()
		return seenClientID, err
	case "sid":
		w.Sid, err = s.optString()
		return seenSid, err
	case "aud":
		if s.peek() == '"' {
			w.audOne, err = s.str()
			w.audIsOne = true
			return seenAud, err
		}
		var list []string
		list, _, err = s.strings()
		w.Aud = list
		return seenAud, err
	case "scope", "scp":
		if string(name) == "scope" && s.peek() == '"' {
			var v string
			if v, err = s.str(); err == nil {
				w.scopeInline = w.inlineScopes(v)
				if !w.scopeInline {
					w.Scope = splitScopes(v)
				}
			}
			return seenScope, err
		}
		list, err := s.scopes()
		if string(name) == "scope" {
			w.Scope = list
			return seenScope, err
		}
		w.Scp = list
		return seenScp, err
	case "exp":
		err = s.date(&w.Exp)
		return seenExp, err
	case "iat":
		err = s.date(&w.Iat)
		return seenIat, err
	case "nbf":
		err = s.date(&w.Nbf)
		return seenNbf, err
	case "cnf":
		start := s.i
		if s.isNull() {
			return seenCnf, nil
		}
		if err := s.skip(0); err != nil {
			return 0, err
		}
		// A copy: Confirmation is the caller's to change, the input is not.
		w.Cnf = []byte(strings.TrimLeft(s.src[start:s.i], " \t\n\r"))
		return seenCnf, nil
	case "authorization_details", "act", "may_act":
		// Checked here, kept only in the claims as issued: Claims reads
		// them again when asked, so that a token without them costs
		// nothing more, cached or not.
		raw, err := s.rawValue()
		if err != nil {
			return 0, err
		}
		switch string(name) {
		case "authorization_details":
			_, err = parseDetails(raw)
			return seenDetails, err
		case "act":
			_, err = parseActors(raw, nil)
			return seenAct, err
		}
		_, _, err = parseActor(raw)
		return seenMayAct, err
	case "acr":
		start := s.i
		if w.Acr, err = s.optString(); err != nil {
			s.i, w.Acr = start, ""
			return 0, s.skip(0)
		}
		return 0, nil
	case "auth_time":
		start := s.i
		if err = s.date(&w.AuthTime); err != nil {
			s.i, w.AuthTime = start, numericDate{}
			return 0, s.skip(0)
		}
		return 0, nil
	case "events":
		// Only its presence matters: it marks a security event token.
		if s.isNull() {
			return seenEvents, nil
		}
		if err := s.skip(0); err != nil {
			return 0, err
		}
		w.Events = true
		return seenEvents, nil
	}
	return 0, s.skip(0)
}

// inlineScopes splits a space-separated scope into scopeBuf, under
// cutScope's rules, and reports whether it fitted.
func (w *wireClaims) inlineScopes(v string) bool {
	n := 0
	for f, rest, ok := cutScope(v); ok; f, rest, ok = cutScope(rest) {
		if n == len(w.scopeBuf) {
			return false
		}
		w.scopeBuf[n] = f
		n++
	}
	w.scopeN = n
	return true
}

// scopes reads a scope list under scopeList's rules: a string is split by
// cutScope, array elements are taken whole and kept if scope-tokens.
func (s *jsonScanner) scopes() ([]string, error) {
	if s.peek() == '"' {
		v, err := s.str()
		return splitScopes(v), err
	}
	list, _, err := s.strings()
	return scopeTokens(list), err
}

func unixTime(sec, nsec int64) time.Time { return time.Unix(sec, nsec) }

// rawMember returns the value, as JSON, of the top-level member of object
// named exactly name, or "" if there is none. object must be one that
// decodeObject accepted, so that name is there at most once.
func rawMember(object, name string) string {
	sc := newScanner(object)
	s := &sc
	if s.expect('{') != nil || s.peek() == '}' {
		return ""
	}
	for {
		n, err := s.name()
		if err != nil || s.expect(':') != nil {
			return ""
		}
		s.ws()
		start := s.i
		if s.skip(0) != nil {
			return ""
		}
		if string(n) == name {
			return object[start:s.i]
		}
		if s.peek() != ',' {
			return ""
		}
		s.i++
	}
}

// objectMembers reads src, one JSON object, as payloads are read here, and
// returns its members' values as JSON by their exact names: what
// internal/strict's Object promises, for package signals.
func objectMembers(src []byte) (map[string]json.RawMessage, error) {
	m := readMembers(string(src), nil)
	out := map[string]json.RawMessage{}
	for m.next() {
		v, err := m.s.rawValue()
		if m.took(0, err); m.err == nil {
			out[string(m.name)] = json.RawMessage(v)
		}
	}
	if err := m.end(); err != nil {
		return nil, err
	}
	return out, nil
}

// rawValue skips the value at s and returns it as JSON.
func (s *jsonScanner) rawValue() (string, error) {
	s.ws()
	start := s.i
	err := s.skip(0)
	return s.src[start:s.i], err
}
