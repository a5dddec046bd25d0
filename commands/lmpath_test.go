package commands

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestSetFlexlmrcVar(t *testing.T) {
	tests := []struct {
		name, in, varName, value, want string
	}{
		{"empty file", "", "LM_LICENSE_FILE", "/a", "LM_LICENSE_FILE=/a\n"},
		{"appended", "# mine\nFOO=1\n", "LM_LICENSE_FILE", "/a", "# mine\nFOO=1\nLM_LICENSE_FILE=/a\n"},
		{"no final newline", "FOO=1", "LM_LICENSE_FILE", "/a", "FOO=1\nLM_LICENSE_FILE=/a\n"},
		{"replaced in place", "A=1\nLM_LICENSE_FILE=/old\nB=2\n", "LM_LICENSE_FILE", "/new", "A=1\nLM_LICENSE_FILE=/new\nB=2\n"},
		{"last of two replaced", "LM_LICENSE_FILE=/x\nLM_LICENSE_FILE=/y\n", "LM_LICENSE_FILE", "/z", "LM_LICENSE_FILE=/x\nLM_LICENSE_FILE=/z\n"},
		{"spaces and quotes", "  LM_LICENSE_FILE = \"/old\"  \nB=2", "LM_LICENSE_FILE", "/new", "LM_LICENSE_FILE=/new\nB=2"},
		{"crlf kept", "A=1\r\nDEMO_LICENSE_FILE=/d\r\nB=2\r\n", "DEMO_LICENSE_FILE", "/e", "A=1\r\nDEMO_LICENSE_FILE=/e\r\nB=2\r\n"},
		{"comment not replaced", "#LM_LICENSE_FILE=/c\n", "LM_LICENSE_FILE", "/a", "#LM_LICENSE_FILE=/c\nLM_LICENSE_FILE=/a\n"},
		{"prefix name not replaced", "LM_LICENSE_FILE_X=1\n", "LM_LICENSE_FILE", "/a", "LM_LICENSE_FILE_X=1\nLM_LICENSE_FILE=/a\n"},
		{"last line without newline", "A=1\nLM_LICENSE_FILE=/x", "LM_LICENSE_FILE", "/y", "A=1\nLM_LICENSE_FILE=/y"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := string(setFlexlmrcVar([]byte(tt.in), tt.varName, tt.value))
			if got != tt.want {
				t.Errorf("setFlexlmrcVar(%q, %s, %s) = %q, want %q", tt.in, tt.varName, tt.value, got, tt.want)
			}
		})
	}
}

func TestLmpathGolden(t *testing.T) {
	const rc = "# my settings\nFOO=bar\r\nLM_LICENSE_FILE=/opt/site.lic\nGSI_LICENSE_FILE=27000@gsi\n"
	tests := []struct {
		name  string
		rc    string // initial .flexlmrc; "-" for none
		args  []string
		env   map[string]string
		after string // expected .flexlmrc afterwards; "" means unchanged
	}{
		{name: "status-no-flexlmrc", rc: "-", args: []string{"-status"}},
		{name: "status", rc: rc, args: []string{"-status"}},
		{name: "status-environment-first", rc: rc, args: []string{"-status"},
			env: map[string]string{"LM_LICENSE_FILE": "/env/a.lic", "GSI_LICENSE_FILE": "@gsihost"}},
		{name: "add-all", rc: rc, args: []string{"-add", "all", "lic/new.lic:27001@srv:/opt/site.lic"},
			after: "# my settings\nFOO=bar\r\nLM_LICENSE_FILE=$DIR/lic/new.lic:27001@srv:/opt/site.lic\nGSI_LICENSE_FILE=27000@gsi\n"},
		{name: "add-vendor-new", rc: rc, args: []string{"-add", "demo", "/opt/demo.lic"},
			after: rc + "DEMO_LICENSE_FILE=/opt/demo.lic\n"},
		{name: "add-no-flexlmrc", rc: "-", args: []string{"-add", "demo", "/opt/demo.lic"},
			after: "DEMO_LICENSE_FILE=/opt/demo.lic\n"},
		{name: "override-vendor", rc: rc, args: []string{"-override", "gsi", "/opt/gsi.lic"},
			after: "# my settings\nFOO=bar\r\nLM_LICENSE_FILE=/opt/site.lic\nGSI_LICENSE_FILE=/opt/gsi.lic\n"},
		{name: "override-env-set", rc: rc, args: []string{"-override", "all", "/x.lic"},
			env:   map[string]string{"LM_LICENSE_FILE": "/env/a.lic"},
			after: "# my settings\nFOO=bar\r\nLM_LICENSE_FILE=/x.lic\nGSI_LICENSE_FILE=27000@gsi\n"},
		{name: "no-mode", rc: rc, args: nil},
		{name: "two-modes", rc: rc, args: []string{"-status", "-add", "all", "/x"}},
		{name: "add-no-path", rc: rc, args: []string{"-add", "all"}},
		{name: "bad-vendor", rc: rc, args: []string{"-add", "de/mo", "/x"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			home := filepath.Join(dir, "home")
			if err := os.Mkdir(home, 0o755); err != nil {
				t.Fatal(err)
			}
			rcPath := filepath.Join(home, ".flexlmrc")
			if tt.rc != "-" {
				if err := os.WriteFile(rcPath, []byte(tt.rc), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			vars := map[string]string{"HOME": home}
			for k, v := range tt.env {
				vars[k] = v
			}
			env := &Env{Dir: dir, Getenv: func(k string) string { return vars[k] }}
			got := runAppletGolden(t, lmpathApplet(), "lmpath", tt.args, env)
			got = strings.ReplaceAll(got, dir, "$DIR")
			checkGolden(t, filepath.Join("lmpath", tt.name+".golden"), got)

			data, err := os.ReadFile(rcPath)
			switch {
			case tt.after == "" && tt.rc == "-":
				if err == nil {
					t.Errorf(".flexlmrc created: %q", data)
				}
			case tt.after == "":
				if string(data) != tt.rc {
					t.Errorf(".flexlmrc = %q, want it unchanged %q", data, tt.rc)
				}
			default:
				want := strings.ReplaceAll(tt.after, "$DIR", dir)
				if string(data) != want {
					t.Errorf(".flexlmrc = %q, want %q", data, want)
				}
				fi, err := os.Stat(rcPath)
				if err != nil || fi.Mode().Perm() != 0o644 {
					t.Errorf(".flexlmrc mode %v, %v; want 0644", fi.Mode().Perm(), err)
				}
				ents, _ := os.ReadDir(home)
				if len(ents) != 1 {
					t.Errorf("home holds %d files after the write, want only .flexlmrc", len(ents))
				}
			}
		})
	}
}

func TestLmpathKeepsSymlink(t *testing.T) {
	dir := t.TempDir()
	real := filepath.Join(dir, "dotfiles-flexlmrc")
	if err := os.WriteFile(real, []byte("A=1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	home := filepath.Join(dir, "home")
	os.Mkdir(home, 0o755)
	if err := os.Symlink(real, filepath.Join(home, ".flexlmrc")); err != nil {
		t.Fatal(err)
	}
	env := &Env{Dir: dir, Getenv: func(k string) string { return map[string]string{"HOME": home}[k] }}
	runAppletGolden(t, lmpathApplet(), "lmpath", []string{"-override", "all", "/x.lic"}, env)
	if fi, err := os.Lstat(filepath.Join(home, ".flexlmrc")); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Errorf(".flexlmrc is no longer a symbolic link (%v)", err)
	}
	if data, _ := os.ReadFile(real); string(data) != "A=1\nLM_LICENSE_FILE=/x.lic\n" {
		t.Errorf("link target = %q, want the setting added", data)
	}
}
