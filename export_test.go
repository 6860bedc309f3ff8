package bearer

import "slices"

// The defaults, under the names the external tests use.
var DefaultAlgorithms = defaultAlgorithms

const DefaultCacheDuration = defaultCacheDuration
const DefaultCacheSize = defaultCacheSize

var DefaultDPoPAlgorithms = defaultDPoPAlgorithms

const DefaultLeeway = defaultLeeway
const DefaultMaxTokenSize = defaultMaxTokenSize
const DefaultResolveBurst = defaultResolveBurst
const DefaultTimeout = defaultTimeout

// Supports reports whether this build verifies tokens signed with alg.
func Supports(alg string) bool { return slices.Contains(supportedAlgorithms, alg) }
