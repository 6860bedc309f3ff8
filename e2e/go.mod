module github.com/accesstoken/bearer/e2e

go 1.25.0

replace github.com/accesstoken/bearer => ..

require (
	github.com/accesstoken/bearer v0.1.0
	github.com/cloudflare/circl v1.6.5
	github.com/go-jose/go-jose/v4 v4.1.4
)

require (
	github.com/MicahParks/jwkset v0.11.3 // indirect
	github.com/coreos/go-oidc/v3 v3.21.0 // indirect
	github.com/golang-jwt/jwt/v5 v5.3.1 // indirect
	github.com/hashicorp/golang-lru/v2 v2.0.7 // indirect
	golang.org/x/oauth2 v0.36.0 // indirect
	golang.org/x/sys v0.47.0 // indirect
	golang.org/x/time v0.12.0 // indirect
)
