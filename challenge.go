package bearer

// ChallengeParam is a parameter added to the WWW-Authenticate challenges
// WriteError and Error.Challenges render, after those of RFC 6750. Only
// this package makes them: see ResourceMetadata.
type ChallengeParam struct {
	name, value string
}

// ResourceMetadata is the resource_metadata parameter of RFC 9728 §5.1:
// the absolute URL of the protected resource's metadata, from which a
// client learns which authorities issue tokens for it (the resource
// package serves that document). Characters a quoted value cannot hold
// are dropped, as for every parameter.
func ResourceMetadata(url string) ChallengeParam {
	return ChallengeParam{name: "resource_metadata", value: url}
}
