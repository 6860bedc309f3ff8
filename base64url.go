package bearer

import "encoding/binary"

// decodeB64 decodes src, base64url without padding, into dst, which must
// hold b64.DecodedLen(len(src)) bytes, and reports whether src is
// canonical: the alphabet's 64 characters only (not even the line breaks
// encoding/base64 skips), no lone last character, no bits set beyond the
// last byte. It is b64's decoding of a segment the shape check passed
// (FuzzDecodeB64 holds it to that), in about half the instructions:
// a cold validation decodes its payload and signature, 600 bytes or so,
// with it.
func decodeB64(dst []byte, src string) (int, bool) {
	t0, t1, t2, t3 := &b64Bits[0], &b64Bits[1], &b64Bits[2], &b64Bits[3]
	n := 0
	for len(src) >= 8 && len(dst)-n >= 8 {
		x := t0[src[0]] | t1[src[1]] | t2[src[2]] | t3[src[3]]
		y := t0[src[4]] | t1[src[5]] | t2[src[6]] | t3[src[7]]
		if (x|y)&notB64 != 0 {
			return n, false
		}
		// Six bytes, and two that the next quantum, or nothing, overwrites.
		binary.BigEndian.PutUint64(dst[n:], uint64(x)<<40|uint64(y)<<16)
		n += 6
		src = src[8:]
	}
	for len(src) >= 4 {
		x := t0[src[0]] | t1[src[1]] | t2[src[2]] | t3[src[3]]
		if x&notB64 != 0 {
			return n, false
		}
		dst[n], dst[n+1], dst[n+2] = byte(x>>16), byte(x>>8), byte(x)
		n += 3
		src = src[4:]
	}
	switch len(src) {
	case 1:
		return n, false
	case 2:
		x := t0[src[0]] | t1[src[1]]
		if x&(notB64|0xffff) != 0 {
			return n, false
		}
		dst[n] = byte(x >> 16)
		n++
	case 3:
		x := t0[src[0]] | t1[src[1]] | t2[src[2]]
		if x&(notB64|0xff) != 0 {
			return n, false
		}
		dst[n], dst[n+1] = byte(x>>16), byte(x>>8)
		n += 2
	}
	return n, true
}

// notB64 marks, in b64Bits, a byte outside the alphabet.
const notB64 = 0xff000000

// b64Bits holds, for each place in a quantum of four characters, the bits
// each byte contributes to the quantum's 24, in their place, or notB64.
var b64Bits = func() (t [4][256]uint32) {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	for p := range t {
		for c := range t[p] {
			t[p][c] = notB64
		}
		for v := range len(alphabet) {
			t[p][alphabet[v]] = uint32(v) << (18 - 6*p)
		}
	}
	return t
}()
