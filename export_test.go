package bearer

// The defaults, under the names the external tests use.
var DefaultAlgorithms = defaultAlgorithms

const DefaultCacheDuration = defaultCacheDuration
const DefaultCacheSize = defaultCacheSize

var DefaultDPoPAlgorithms = defaultDPoPAlgorithms

const DefaultLeeway = defaultLeeway
const DefaultMaxTokenSize = defaultMaxTokenSize
const DefaultResolveBurst = defaultResolveBurst
const DefaultTimeout = defaultTimeout
