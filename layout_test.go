package main

import (
	"flag"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the README's package graph")

// TestReadmePackageGraph: the package graph in the README's Layout
// section is the one `go list` gives, so a new package or a new import
// between packages shows in the README. Run with -update to rewrite it.
func TestReadmePackageGraph(t *testing.T) {
	out, err := exec.Command("go", "list", "-f", "{{.ImportPath}}:{{range .Imports}} {{.}}{{end}}", "./...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	want := packageGraph(string(out))
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	block := regexp.MustCompile("(?s)<!-- package graph -->\n```\n(.*?)```\n")
	m := block.FindSubmatchIndex(readme)
	if m == nil {
		t.Fatal("README.md has no package graph block")
	}
	got := string(readme[m[2]:m[3]])
	if got == want {
		return
	}
	if *update {
		fixed := string(readme[:m[2]]) + want + string(readme[m[3]:])
		if err := os.WriteFile("README.md", []byte(fixed), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	t.Errorf("README.md's package graph is stale (go test -run TestReadmePackageGraph -update)\ngot:\n%s\nwant:\n%s", got, want)
}

// packageGraph turns go list's "path: imports" lines into the README's
// lines: each project package, then "→" and what it imports from the
// project, paths relative to the module.
func packageGraph(list string) string {
	const module = "golm/lmutil"
	rel := func(p string) (string, bool) {
		if p == module {
			return ".", true
		}
		r, ok := strings.CutPrefix(p, module+"/")
		return r, ok
	}
	var b strings.Builder
	for _, line := range strings.Split(strings.TrimSpace(list), "\n") {
		path, imports, _ := strings.Cut(line, ":")
		name, _ := rel(path)
		var deps []string
		for _, imp := range strings.Fields(imports) {
			if r, ok := rel(imp); ok {
				deps = append(deps, r)
			}
		}
		b.WriteString(name)
		if len(deps) > 0 {
			b.WriteString(strings.Repeat(" ", max(1, 28-len(name))) + "→ " + strings.Join(deps, " "))
		}
		b.WriteString("\n")
	}
	return b.String()
}
