package bench

import "github.com/accesstoken/bearer"

// Everything in bench that depends on the core's validated-token cache
// goes through these hooks.

// cacheOn returns cfg with the validated-token cache on, sized for size
// tokens (0: the core's default size, 10 000), and
// whether the core has one.
//
// The HTTP runs (cmd/httpbench) pass 0, so they measure the default size.
// cmd/memory passes its token count (100 000).
func cacheOn(cfg bearer.Config, size int) (bearer.Config, bool) {
	cfg.CacheSize = size
	return cfg, true
}

// cacheOff returns cfg with the validated-token cache off, for the cold
// path. (The cache is on by default.)
func cacheOff(cfg bearer.Config) bearer.Config {
	cfg.CacheSize = -1
	return cfg
}
