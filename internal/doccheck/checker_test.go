package doccheck

import (
	"slices"
	"strings"
	"testing"
)

// The checks find what a stale page names and leave alone what is not
// this repository's Go: another package's middleware, metric names, Go
// that does not parse.
func TestCheckerFindsStaleNames(t *testing.T) {
	api := loadAPI(t, root)
	md := "Set `Config.Audience` and `bearer.Config.Leeway`, not `Config.Audiences` nor `bearer.Nope`;\n" +
		"`bearer.validation.duration` is a metric, `stores/redis.sock` a file.\n" +
		"```go\n" +
		"v, err := bearer.New(ctx, bearer.Config{Authority: a, Audiences: nil})\n" +
		"mux.Handle(\"/\", middleware.New(v, middleware.Realmm(\"x\"))(h))\n" +
		"```\n" +
		"```go\n" +
		"import \"github.com/labstack/echo/v4/middleware\"\n\n" +
		"func setup(e *echo.Echo) { e.Use(middleware.CORS()) }\n" +
		"```\n" +
		"```go\n" +
		"if err != nil { … } // does not parse as Go; read as text\n" +
		"bearertest.Gone(t)\n" +
		"```\n" +
		"```sh\n" +
		"go run ./examples/api | bearer decode -\n" +
		"$ bearer fetch -authority x\n" +
		"```\n" +
		"`bearer validate -authority URL TOKEN`, `bearer COMMAND -h`\n"
	p := parsePage("x.md", ".", md)

	var got []string
	for _, b := range p.blocks {
		if b.lang == "go" {
			for _, pr := range api.checkGo(b.text) {
				got = append(got, pr.msg)
			}
		}
	}
	for _, s := range p.spans() {
		for _, pr := range api.checkText(s.text, scope{api: api}, false) {
			got = append(got, pr.msg)
		}
	}
	want := []string{
		"bearer.Config has no field Audiences",
		"middleware.Realmm does not exist",
		"bearertest.Gone does not exist",
		"Config.Audiences does not exist",
		"bearer.Nope does not exist",
	}
	if !slices.Equal(got, want) {
		t.Errorf("found\n\t%s\nwant\n\t%s", strings.Join(got, "\n\t"), strings.Join(want, "\n\t"))
	}

	var cmds []string
	for _, l := range p.shellLines() {
		for _, m := range command.FindAllStringSubmatch(l.text, -1) {
			cmds = append(cmds, m[1])
		}
	}
	if want := []string{"decode", "fetch", "validate"}; !slices.Equal(cmds, want) {
		t.Errorf("commands %q, want %q", cmds, want)
	}
}
