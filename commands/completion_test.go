package commands

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// completeBash runs the bash completion for words (the last one being
// completed) and returns COMPREPLY.
func completeBash(t *testing.T, bash, script string, words ...string) []string {
	t.Helper()
	quoted := make([]string, len(words))
	for i, w := range words {
		quoted[i] = "'" + w + "'"
	}
	prog := "source " + script + "\nCOMP_WORDS=(" + strings.Join(quoted, " ") + ")\nCOMP_CWORD=" + strconv.Itoa(len(words)-1) +
		"\n_golm_lmutil\nprintf '%s\\n' \"${COMPREPLY[@]}\"\n"
	out, err := exec.Command(bash, "--norc", "--noprofile", "-c", prog).CombinedOutput()
	if err != nil {
		t.Fatalf("bash: %v\n%s", err, out)
	}
	var got []string
	for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if l != "" {
			got = append(got, l)
		}
	}
	return got
}

func TestBashCompletion(t *testing.T) {
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("no bash")
	}
	script := filepath.Join(t.TempDir(), "lmutil.bash")
	if err := os.WriteFile(script, []byte(BashCompletion()), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(bash, "-n", script).CombinedOutput(); err != nil {
		t.Fatalf("bash -n: %v\n%s", err, out)
	}
	for _, tt := range []struct {
		name  string
		words []string
		want  []string // all in COMPREPLY
		none  bool     // COMPREPLY empty (file names)
	}{
		{"command names", []string{"lmutil", "lmst"}, []string{"lmstat"}, false},
		{"lmstat flags", []string{"lmstat", "-"}, []string{"-a", "-json", "-c", "-help"}, false},
		{"lmstat -j", []string{"lmstat", "-j"}, []string{"-json"}, false},
		{"through lmutil", []string{"lmutil", "lmgrd", "-ht"}, []string{"-http"}, false},
		{"alias", []string{"lmutil", "stat", "-as"}, []string{"-asec"}, false},
		{"value of -c: file names", []string{"lmstat", "-c", ""}, nil, true},
		{"installed path", []string{"/usr/local/bin/lmdown", "-fo"}, []string{"-force"}, false},
		{"unknown command", []string{"lmutil", "nosuch", "-"}, nil, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := completeBash(t, bash, script, tt.words...)
			if tt.none && len(got) != 0 {
				t.Errorf("got %q, want nothing", got)
			}
			for _, w := range tt.want {
				found := false
				for _, g := range got {
					found = found || g == w
				}
				if !found {
					t.Errorf("got %q, want %s among them", got, w)
				}
			}
		})
	}
}

func TestZshCompletion(t *testing.T) {
	script := ZshCompletion()
	first, _, _ := strings.Cut(script, "\n")
	for _, a := range completionApplets() {
		if !strings.Contains(" "+first+" ", " "+a.Name+" ") {
			t.Errorf("#compdef lacks %s", a.Name)
		}
		if !strings.Contains(script, "\t"+a.Name+"|") {
			t.Errorf("no case for %s", a.Name)
		}
	}
	for _, want := range []string{`'-json[print everything -a shows as one JSON document]'`, `'-c[use the license files or servers of license_file_list]:value:_files'`, `'-f[list the users of \[feature\], of every feature without one]::value:'`, `'lmremove:free a user'\''s license of a feature'`} {
		if !strings.Contains(script, want) {
			t.Errorf("the zsh completion lacks %s", want)
		}
	}
	if zsh, err := exec.LookPath("zsh"); err == nil {
		if out, err := exec.Command(zsh, "-n", "-c", script).CombinedOutput(); err != nil {
			t.Errorf("zsh -n: %v\n%s", err, out)
		}
	}
}

func TestCompletionApplet(t *testing.T) {
	for _, tt := range []struct {
		args   []string
		status int
		want   string
	}{
		{[]string{"lmutil", "-completion", "bash"}, 0, "complete -o default -F _golm_lmutil lmutil"},
		{[]string{"lmutil", "-completion", "zsh"}, 0, "#compdef lmutil"},
		{[]string{"lmutil", "-completion", "fish"}, 1, ""},
		{[]string{"lmutil", "-completion"}, 1, ""},
	} {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			st := Main(t.Context(), tt.args, &Env{Stdout: &stdout, Stderr: &stderr})
			if st != tt.status || !strings.Contains(stdout.String(), tt.want) {
				t.Errorf("got status %d, %.80q; want %d, %q", st, stdout.String(), tt.status, tt.want)
			}
			if st != 0 && !strings.Contains(stderr.String(), "usage: lmutil -completion bash|zsh") {
				t.Errorf("stderr: got %q, want the usage", stderr.String())
			}
		})
	}
}
