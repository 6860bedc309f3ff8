// Package doccheck holds no code: its tests check that README.md, the
// pages of docs/, SECURITY.md, BENCHMARKS.md and RELEASING.md name only
// what exists, so that a rename elsewhere fails CI until the docs follow.
// (CHANGELOG.md names what was removed, on purpose.) They check
//
//   - Go identifiers of this repository's packages (bearer.Config,
//     middleware.Realm, Config.DPoP, the fields of a bearer.Config{…}
//     literal), in Go blocks and in inline code;
//   - "bearer COMMAND" lines, against the bearer command built from
//     cmd/bearer;
//   - the directories of "go run ./…" and "go test ./…" lines (after a
//     "cd DIR &&", from DIR);
//   - relative links to files of the repository.
//
// Names of other packages (net/http's, echo's middleware imported in a
// block, metric names such as bearer.validation.duration) are left alone.
package doccheck
