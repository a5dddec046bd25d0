package commands

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"golm/lmutil/licfile"
	"golm/lmutil/options"
)

// manDir is where the generated pages are committed.
var manDir = filepath.Join("..", "man")

// TestManPages fails when a page in man/ differs from what the registry
// generates, or when man/ holds a page for no command. Run
// "go test ./commands -run TestManPages -update" (make man) to rewrite.
func TestManPages(t *testing.T) {
	pages := manPages()
	if *update {
		if err := os.MkdirAll(manDir, 0o755); err != nil {
			t.Fatal(err)
		}
		old, _ := filepath.Glob(filepath.Join(manDir, "*.[15]"))
		for _, p := range old {
			if _, ok := pages[filepath.Base(p)]; !ok {
				if err := os.Remove(p); err != nil {
					t.Fatal(err)
				}
			}
		}
		for name, text := range pages {
			if err := os.WriteFile(filepath.Join(manDir, name), []byte(text), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	names := make([]string, 0, len(pages))
	for n := range pages {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			got, err := os.ReadFile(filepath.Join(manDir, name))
			if err != nil {
				t.Fatalf("%v (run make man)", err)
			}
			if string(got) != pages[name] {
				t.Errorf("man/%s is stale (run make man); first difference at line %d", name, firstDiffLine(string(got), pages[name]))
			}
		})
	}
	t.Run("no orphans", func(t *testing.T) {
		files, _ := filepath.Glob(filepath.Join(manDir, "*.[15]"))
		for _, f := range files {
			if _, ok := pages[filepath.Base(f)]; !ok {
				t.Errorf("man/%s documents no command (run make man)", filepath.Base(f))
			}
		}
	})
}

func firstDiffLine(a, b string) int {
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	for i := range min(len(al), len(bl)) {
		if al[i] != bl[i] {
			return i + 1
		}
	}
	return min(len(al), len(bl)) + 1
}

// TestManPageContent checks that each page documents what -help does: the
// name, every flag, the exit statuses and the lmutil form.
func TestManPageContent(t *testing.T) {
	for _, a := range Applets() {
		if a.Hidden {
			continue
		}
		t.Run(a.Name, func(t *testing.T) {
			page := ManPage(a)
			for _, want := range []string{
				".TH " + strings.ToUpper(a.Name) + " 1 ",
				"\n" + a.Name + " \\- ",
				".SH SYNOPSIS", ".SH OPTIONS", ".SH EXIT STATUS", ".SH SEE ALSO",
				"\\fBlmutil " + a.Name + "\\fR",
				".BR lmutil (1)",
			} {
				if !strings.Contains(page, want) {
					t.Errorf("page lacks %q", want)
				}
			}
			for _, f := range a.allFlags() {
				for _, n := range f.Names() {
					if !strings.Contains(page, "\\fB\\-"+roffText(n)+"\\fR") {
						t.Errorf("page lacks flag -%s", n)
					}
				}
			}
			checkRoff(t, page)
		})
	}
	t.Run("lmutil", func(t *testing.T) {
		page := LmutilManPage()
		for _, want := range []string{
			"LM_LICENSE_FILE", "_LICENSE_FILE", "$HOME/.flexlmrc", "FLEXLM_DIAGNOSTICS",
			"\\fB\\-help\\fR", "\\fB\\-v\\fR", "\\fB\\-verbose\\fR", "\\fB\\-e\\fR \\fIfilename\\fR",
			"\\fB256\\fR + \\fIcode\\fR", "241",
		} {
			if !strings.Contains(page, want) {
				t.Errorf("lmutil.1 lacks %q", want)
			}
		}
		for _, a := range Applets() {
			if !a.Hidden && !strings.Contains(page, ".BR "+a.Name+" (1)") {
				t.Errorf("lmutil.1 does not list %s", a.Name)
			}
		}
		checkRoff(t, page)
	})
}

// checkRoff catches what would make a page render wrongly: a text line
// starting with a control character, an unescaped dash in a flag, an
// unknown request.
func checkRoff(t *testing.T, page string) {
	t.Helper()
	known := map[string]bool{".\\\"": true, ".TH": true, ".SH": true, ".PP": true, ".TP": true,
		".B": true, ".BR": true, ".RS": true, ".RE": true, ".nf": true, ".fi": true, ".sp": true,
		".in": true, ".ti": true, ".nh": true, ".hy": true, ".ad": true}
	for i, l := range strings.Split(strings.TrimSuffix(page, "\n"), "\n") {
		if strings.HasPrefix(l, ".") || strings.HasPrefix(l, "'") {
			req, _, _ := strings.Cut(l, " ")
			if !known[req] {
				t.Errorf("line %d: unknown request %q", i+1, l)
			}
		}
		if strings.Contains(l, "\\fB-") {
			t.Errorf("line %d: unescaped dash in %q", i+1, l)
		}
	}
}

func TestRoffEscapes(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"dash", "-c", "\\-c"},
		{"backslash", `C:\flexlm`, `C:\eflexlm`},
		{"leading dot", ".lic files", "\\&.lic files"},
		{"leading quote", "'quoted'", "\\&'quoted'"},
		{"empty line", "", ".sp"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := roffLine(tt.in); got != tt.want {
				t.Errorf("roffLine(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestSynopsisLine(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		{"lmstat [-a] [-c license_file_list] [-f [feature]]",
			`\fBlmstat\fR [\fB\-a\fR] [\fB\-c\fR\ \fIlicense_file_list\fR] [\fB\-f\fR\ [\fIfeature\fR]]`},
		{"lmutil lmhostid [-n] [type]", `\fBlmutil\fR \fBlmhostid\fR [\fB\-n\fR] [\fItype\fR]`},
		{"lminstall [-overfmt {2 | 3}]", `\fBlminstall\fR [\fB\-overfmt\fR\ {\fI2\fR\ |\ \fI3\fR}]`},
		{"lmhostid [-ether|-long]", `\fBlmhostid\fR [\fB\-ether\fR|\fB\-long\fR]`},
		{"lmgrd [-l [+]debug_log] [-z]", `\fBlmgrd\fR [\fB\-l\fR\ [\fI+\fR]\fIdebug_log\fR] [\fB\-z\fR]`},
		{"lmwrap feature -- command [args...]", `\fBlmwrap\fR \fIfeature\fR \fB\-\-\fR \fIcommand\fR [\fIargs...\fR]`},
		{"lmtest ] [x", `\fBlmtest\fR ] [\fIx\fR`},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := synopsisLine(tt.in); got != tt.want {
				t.Errorf("synopsisLine(%q) =\n%s\nwant\n%s", tt.in, got, tt.want)
			}
		})
	}
}

// TestManPagesRender runs groff over every page when groff is installed
// (it is not required): no warnings, no errors.
func TestManPagesRender(t *testing.T) {
	groff, err := exec.LookPath("groff")
	if err != nil {
		t.Skip("groff not installed")
	}
	for name, page := range manPages() {
		t.Run(name, func(t *testing.T) {
			cmd := exec.Command(groff, "-man", "-ww", "-z", "-Tutf8")
			cmd.Stdin = strings.NewReader(page)
			out, err := cmd.CombinedOutput()
			if err != nil || len(out) > 0 {
				t.Errorf("groff: %v\n%s", err, out)
			}
		})
	}
}

// TestFormatPagesKeywords: the section 5 pages name every keyword their
// file format's parser knows, so a keyword added to a parser without its
// documentation fails here.
func TestFormatPagesKeywords(t *testing.T) {
	pages := FormatPages()
	for _, tt := range []struct {
		page     string
		keywords []string
	}{
		{"golm-license.5", licfile.Keywords()},
		{"golm-options.5", options.Keywords()},
	} {
		t.Run(tt.page, func(t *testing.T) {
			src, ok := pages[tt.page]
			if !ok {
				t.Fatalf("no page %s", tt.page)
			}
			text := strings.NewReplacer(`\-`, "-", `\fB`, "", `\fI`, "", `\fR`, "", `\e`, `\`).Replace(src)
			if len(tt.keywords) < 10 {
				t.Fatalf("only %d keywords: %v", len(tt.keywords), tt.keywords)
			}
			for _, k := range tt.keywords {
				re := regexp.MustCompile(`(^|[^A-Za-z0-9_])` + regexp.QuoteMeta(k) + `([^A-Za-z0-9_]|$)`)
				if !re.MatchString(text) {
					t.Errorf("%s does not mention %s", tt.page, k)
				}
			}
		})
	}
}

// TestFormatPageMarkup: the source markup of the section 5 pages.
func TestFormatPageMarkup(t *testing.T) {
	tests := []struct{ name, src, want string }{
		{"bold and italic", "*HOSTID=*<hostid>", `\fBHOSTID=\fR\fIhostid\fR`},
		{"escaped asterisk", `a \* b 1.2.\*`, `a * b 1.2.*`},
		{"dash and backslash", `-c a\b`, `\-c a\eb`},
		{"unclosed", "a * b < c", "a * b < c"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := inline(tt.src); got != tt.want {
				t.Errorf("inline(%q) = %q, want %q", tt.src, got, tt.want)
			}
		})
	}
	page := pageFromText("x", "x - a page\n# SECTION\n## Sub\n: *TERM*\nbody text\n.dot\n\n    literal *not bold*\n")
	for _, want := range []string{".TH X 5 ", ".SH NAME\nx \\- a page\n", ".SH SECTION\n", ".SS Sub\n", ".TP\n\\fBTERM\\fR\nbody text\n\\&.dot\n", ".nf\nliteral *not bold*\n.fi\n"} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q:\n%s", want, page)
		}
	}
}
