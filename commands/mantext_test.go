package commands

import (
	"io/fs"
	"path"
	"regexp"
	"strings"
	"testing"
)

// TestManTextFiles checks that every page's prose is there: each visible
// applet has a description file, each {{key}} in one is given a value or
// names a shared passage, and no prose file is left unused.
func TestManTextFiles(t *testing.T) {
	used := map[string]bool{}
	for _, a := range Applets() {
		if a.Hidden {
			continue
		}
		file := a.Name + ".1.txt"
		used[file] = true
		if a.Description == "" {
			t.Errorf("%s: no description (mantext/%s)", a.Name, file)
		}
		if strings.Contains(a.Description, "{{") {
			t.Errorf("%s: description has a key left: %q", a.Name, regexp.MustCompile(`\{\{[^}]*\}\}`).FindString(a.Description))
		}
		for _, k := range regexp.MustCompile(`\{\{([^}]*)\}\}`).FindAllStringSubmatch(readManProse(file), -1) {
			used[k[1]+".part.txt"] = true
		}
	}
	for _, name := range []string{"lmutil-description", "lmutil-options", "lmutil-exit-status", "lmutil-environment", "lmutil-files"} {
		used[name+".1.roff"] = true
		if manRoff(name) == "" {
			t.Errorf("mantext/%s.1.roff is missing", name)
		}
	}
	files, err := fs.Glob(manProse, "mantext/*")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if !used[path.Base(f)] {
			t.Errorf("%s: used by no page", f)
		}
	}
}

func TestExpandManText(t *testing.T) {
	tests := []struct {
		text string
		vars []string
		want string
	}{
		{"plain", nil, "plain"},
		{"$" + "{{X}} sets it", []string{"X", "GOLM_X"}, "$GOLM_X sets it"},
		{"{{A}}{{B}}", []string{"A", "1", "B", "2"}, "12"},
		{"open {{", nil, "open {{"},
		{"{{no-such-part}}.", nil, "."},
	}
	for _, tt := range tests {
		if got := expandManText(tt.text, tt.vars); got != tt.want {
			t.Errorf("expandManText(%q, %q) = %q, want %q", tt.text, tt.vars, got, tt.want)
		}
	}
}
