package server

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golm/lmutil/protocol/lmerr"
)

// twoFeatures is a license of f1 and f2 for vendor demo, with the VENDOR
// line given.
func twoFeatures(vendorLine string) string {
	return "SERVER this_host ANY 27000\n" + vendorLine + "\nFEATURE f1 demo 1.0 permanent 2\nFEATURE f2 demo 1.0 permanent 2\n"
}

// TestOptionsFailClosedAtStart: at start-up a bad line that restricts
// access serves the features it names to nobody (every feature when it
// names none that can be read), and so does an options file that exists
// but cannot be read or that the license file names and is not there;
// the debug log says file:line and why. A missing VENDOR.opt is no
// options file, and a bad line that restricts nothing closes nothing.
func TestOptionsFailClosedAtStart(t *testing.T) {
	t.Parallel() // a vendor daemon of its own, in this process
	const open, closed = 0, -39
	tests := []struct {
		name       string
		vendorLine string
		opts       string        // "" for no demo.opt; "<dir>" for a directory
		ann, bob   [2]lmerr.Code // codes for f1 and f2
		log        []string
	}{
		{"EXCLUDE with a misspelt type", "VENDOR demo", "EXCLUDE f1 USR bob\nEXCLUDE f2 USER bob\n",
			[2]lmerr.Code{closed, open}, [2]lmerr.Code{closed, -38},
			[]string{`demo.opt:1:12: EXCLUDE: unknown type "USR" (-90)`, `f1 is served to nobody until the options file is fixed: `}},
		{"INCLUDE over the length limit", "VENDOR demo", "INCLUDE f1 USER ann" + strings.Repeat(" someone", 500) + "\n",
			[2]lmerr.Code{closed, open}, [2]lmerr.Code{closed, open},
			[]string{`demo.opt:1:1: line of 4019 characters, longer than 4000 (-2)`}},
		{"a line cut short", "VENDOR demo", "EXCLUDE f1 USER bob\nEXCL",
			[2]lmerr.Code{closed, closed}, [2]lmerr.Code{closed, closed},
			[]string{`demo.opt:2:1: unknown keyword "EXCL" (-90)`, "Every feature is served to nobody until the options file is fixed"}},
		{"a GROUP with a bad member used by EXCLUDE", "VENDOR demo", "GROUP bad carl \"bob\nEXCLUDE f2 GROUP bad\n",
			[2]lmerr.Code{open, closed}, [2]lmerr.Code{open, closed},
			[]string{`demo.opt:1:16: unterminated quote (-2)`, "f2 is served to nobody"}},
		{"a misspelt NOLOG", "VENDOR demo", "NOLOG INN\nEXCLUDE f1 USER bob\n",
			[2]lmerr.Code{open, open}, [2]lmerr.Code{-38, open},
			[]string{`demo.opt:1:7: NOLOG: unknown item "INN"`}},
		{"an options file that cannot be read", "VENDOR demo", "<dir>",
			[2]lmerr.Code{closed, closed}, [2]lmerr.Code{closed, closed},
			[]string{`CANNOT OPEN options file "`, "Every feature is served to nobody"}},
		{"an options file the license names and is not there", "VENDOR demo options=gone.opt", "",
			[2]lmerr.Code{closed, closed}, [2]lmerr.Code{closed, closed},
			[]string{`CANNOT OPEN options file "`, `gone.opt": no such file or directory`}},
		{"no options file", "VENDOR demo", "",
			[2]lmerr.Code{open, open}, [2]lmerr.Code{open, open}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			p := signedLicense(t, dir, twoFeatures(tt.vendorLine))
			switch tt.opts {
			case "":
			case "<dir>":
				os.Mkdir(filepath.Join(dir, "demo.opt"), 0o755)
			default:
				os.WriteFile(filepath.Join(dir, "demo.opt"), []byte(tt.opts), 0o644)
			}
			h := newHarness(t, lic("FEATURE unused demo 1.0 permanent 1"), "", func(c *VendorConfig) { c.LicenseFiles = []string{p} })
			for i, f := range []string{"f1", "f2"} {
				h.client("ann", "pc", "d").want(f, "1.0", 1, tt.ann[i])
				h.client("bob", "pc", "d").want(f, "1.0", 1, tt.bob[i])
			}
			h.wantLog(tt.log...)
			if tt.opts == "" && !strings.Contains(tt.vendorLine, "options=") && strings.Contains(h.log.String(), "options file") {
				t.Errorf("the debug log mentions an options file:\n%s", h.log.String())
			}
		})
	}
}

// TestRereadBadOptionsKeepsPolicy: an lmreread of an options file with a
// bad restricting line (or one that cannot be read) keeps the options in
// force and says why; once the file is fixed, the reread applies. A bad
// line that restricts nothing does not stop the reread.
func TestRereadBadOptionsKeepsPolicy(t *testing.T) {
	t.Parallel() // a vendor daemon of its own, in this process
	tests := []struct {
		name     string
		start    string // the options file at start-up
		reread   string // the file lmreread finds; "<dir>" for a directory
		fails    bool
		ann, bob lmerr.Code // codes for f1 after the reread
		log      string
	}{
		{"good to bad", "EXCLUDE f1 USER bob\n", "EXCLUDE f1 USR ann\n", true, 0, -38,
			`Reread of options file failed: ` + "DIR" + `/demo.opt:1:12: EXCLUDE: unknown type "USR" (-90); still applying the options in force`},
		{"good to over the length limit", "INCLUDE f1 USER ann\n", "INCLUDE f1 USER ann bob" + strings.Repeat(" \\\n someone", 500) + "\n", true, 0, -39,
			"longer than 4000"},
		{"good to unreadable", "EXCLUDE f1 USER bob\n", "<dir>", true, 0, -38, "cannot open options file"},
		{"good to a bad NOLOG", "EXCLUDE f1 USER bob\n", "NOLOG INN\nEXCLUDE f1 USER ann\n", false, -38, 0, `NOLOG: unknown item "INN"`},
		{"bad to good", "EXCLUDE f1 USR bob\n", "EXCLUDE f1 USER bob\n", false, 0, -38, "Rereading license file"},
		{"bad to still bad", "EXCLUDE f1 USR bob\n", "EXCLUDE f1 USER bob\nEXCLUDE f1 USR ann\n", true, -39, -39, "Reread of options file failed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, lic("FEATURE f1 demo 1.0 permanent 2"), tt.start)
			opt := filepath.Join(h.dir, "demo.opt")
			if tt.reread == "<dir>" {
				os.Remove(opt)
				os.Mkdir(opt, 0o755)
			} else if err := os.WriteFile(opt, []byte(tt.reread), 0o644); err != nil {
				t.Fatal(err)
			}
			err := h.v.Reread()
			if tt.fails != (err != nil) {
				t.Fatalf("Reread = %v, want failure %v", err, tt.fails)
			}
			if err != nil && !errors.Is(err, ErrKeptOptions) {
				t.Errorf("Reread = %v, want ErrKeptOptions", err)
			}
			h.client("ann", "pc", "d").want("f1", "1.0", 1, tt.ann)
			h.client("bob", "pc", "d").want("f1", "1.0", 1, tt.bob)
			h.wantLog(strings.ReplaceAll(tt.log, "DIR", h.dir))
		})
	}
}

// TestCheckReread: lmgrd refuses an lmreread whose license or options
// file a vendor daemon would refuse, with file:line: message (code) for
// the caller; -vendor checks only that vendor's options file.
func TestCheckReread(t *testing.T) {
	tests := []struct {
		name    string
		opts    string
		license string // replaces the license file when set
		vendor  string
		code    lmerr.Code // 0: accepted
		detail  []string
	}{
		{"good", "EXCLUDE f1 USER bob\n", "", "", 0, nil},
		{"bad NOLOG only", "NOLOG INN\n", "", "", 0, nil},
		{"bad EXCLUDE", "EXCLUDE f1 USER bob\nEXCLUDE f1 USR ann\n", "", "", -2,
			[]string{`DIR/demo.opt:2:12: EXCLUDE: unknown type "USR" (-90)`}},
		{"bad EXCLUDE, -vendor demo", "EXCLUDE f1 USR ann\n", "", "demo", -2,
			[]string{`DIR/demo.opt:1:12: EXCLUDE: unknown type "USR" (-90)`}},
		{"bad EXCLUDE, -vendor other", "EXCLUDE f1 USR ann\n", "", "other", 0, nil},
		{"unreadable options", "<dir>", "", "", -30,
			[]string{`DIR/demo.opt: cannot open options file: is a directory (-30)`}},
		{"many bad lines", strings.Repeat("EXCLUDE f1 USR ann\n", 12), "", "", -2, nil},
		{"bad license", "", "SERVER this_host ANY 27000\nVENDOR demo\nFEATUR f1 demo 1.0 permanent 2\n", "", -2,
			[]string{`DIR/license.lic:3:1: unknown line keyword "FEATUR" (-90)`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			p := signedLicense(t, dir, twoFeatures("VENDOR demo"))
			if tt.license != "" {
				os.WriteFile(p, []byte(tt.license), 0o644)
			}
			opt := filepath.Join(dir, "demo.opt")
			switch tt.opts {
			case "":
			case "<dir>":
				os.Mkdir(opt, 0o755)
			default:
				os.WriteFile(opt, []byte(tt.opts), 0o644)
			}
			r := checkReread([]string{p}, tt.vendor)
			if tt.code == 0 {
				if r != nil {
					t.Fatalf("checkReread = %v, want nil", r.Err)
				}
				return
			}
			if r == nil {
				t.Fatalf("checkReread = nil, want %d", tt.code)
			}
			if r.Err.Code != tt.code {
				t.Errorf("code %d, want %d", r.Err.Code, tt.code)
			}
			if tt.detail != nil {
				got := strings.Join(r.Err.Detail, "\n")
				want := strings.ReplaceAll(strings.Join(tt.detail, "\n"), "DIR", dir)
				if got != want {
					t.Errorf("detail\n%s\nwant\n%s", got, want)
				}
			}
			if n := len(r.Err.Detail); n > maxRefusalDetail+1 {
				t.Errorf("%d detail lines, want at most %d", n, maxRefusalDetail+1)
			}
		})
	}
}
