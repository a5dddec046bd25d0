package options

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golm/lmutil/protocol/lmerr"
)

// longNames is a USER list of n names of ten characters each.
func longNames(n int) string {
	var b strings.Builder
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, " user%06d", i)
	}
	return b.String()
}

// TestTypoNeverOpensAccess: a line that restricts access and fails to
// parse closes the features it names (all of them when it names none
// that can be read), where the old parser dropped it and so admitted
// the users it kept out; a bad line that restricts nothing closes
// nothing.
func TestTypoNeverOpensAccess(t *testing.T) {
	ann := Requester{User: "ann", Host: "h1"}
	bob := Requester{User: "bob", Host: "h2"}
	tests := []struct {
		name   string
		src    string
		closed []string // features served to nobody; "*" for every feature
		open   []string // features ann may use
		bobOK  bool     // whether bob may use f1 (when f1 is open)
	}{
		{"INCLUDE over the length limit", "INCLUDE f1 USER ann" + longNames(400) + "\n", []string{"f1"}, []string{"f2"}, false},
		{"INCLUDE over the limit only once continuations are joined",
			"INCLUDE f1 USER ann \\\n" + strings.Repeat(longNames(300)+" \\\n", 2) + "\n", []string{"f1"}, []string{"f2"}, false},
		{"INCLUDE just under the limit", "INCLUDE f1 USER ann" + longNames(360) + "\n", nil, []string{"f1", "f2"}, false},
		{"EXCLUDE with a misspelt type", "EXCLUDE f1 USR bob\n", []string{"f1"}, []string{"f2"}, false},
		{"EXCLUDE misspelt", "EXCLUD f1 USER bob\n", []string{"f1"}, []string{"f2"}, false},
		{"EXCLUDE truncated to its keyword", "EXCL\n", []string{"*"}, nil, false},
		{"EXCLUDE truncated after the feature", "EXCLUDE f1\n", []string{"f1"}, []string{"f2"}, false},
		{"INCLUDE misspelt", "INCLDUE f1 USER ann\n", []string{"f1"}, []string{"f2"}, false},
		{"EXCLUDEALL with a misspelt type", "EXCLUDEALL USR bob\n", []string{"*"}, nil, false},
		{"INCLUDEALL truncated", "INCLUDEALL\n", []string{"*"}, nil, false},
		{"a line that is not text", "\x00\xff\xfe f1 USER bob\n", []string{"*"}, nil, false},
		{"RESERVE with a bad count", "RESERVE two f1 USER ann\n", []string{"f1"}, []string{"f2"}, false},
		{"RESERVE misspelt", "RESERV 1 f1 USER ann\n", []string{"f1"}, []string{"f2"}, false},
		{"MAX with a bad limit", "MAX x f1 USER bob\n", []string{"f1"}, []string{"f2"}, false},
		{"MAX without its feature", "MAX 2\n", []string{"*"}, nil, false},
		{"MAX_OVERDRAFT with a bad number", "MAX_OVERDRAFT f1 -1\n", []string{"f1"}, []string{"f2"}, false},
		{"EXCLUDE with a bad INTERNET pattern", "EXCLUDE f1 INTERNET 10.1.1\n", []string{"f1"}, []string{"f2"}, false},
		{"EXCLUDE of an undefined group", "EXCLUDE f1 GROUP nobody\n", []string{"f1"}, []string{"f2"}, false},
		{"EXCLUDE with a bad selector", "EXCLUDE f1:VERSION=x USER bob\n", []string{"f1"}, []string{"f2"}, false},
		{"EXCLUDE with an unterminated quote", "EXCLUDE f1 USER \"bob\n", []string{"f1"}, []string{"f2"}, false},
		{"INCLUDE_BORROW with a misspelt type", "INCLUDE_BORROW f1 USR ann\n", []string{"f1"}, []string{"f2"}, false},
		{"INCLUDE_BORROW that parses changes nothing", "INCLUDE_BORROW f1 USER ann\n", nil, []string{"f1", "f2"}, true},
		{"an unknown INCLUDE_ keyword", "INCLUDE_ENTITLEMENT f1 USER ann\n", []string{"f1"}, []string{"f2"}, false},
		{"GROUP with a bad member used by EXCLUDE", "GROUP bad ann b\x01ob\nEXCLUDE f1 GROUP bad\n", []string{"f1"}, []string{"f2"}, false},
		{"GROUP with an unterminated quote used by EXCLUDE", "GROUP bad carl \"bob\nEXCLUDE f1 GROUP bad\n", []string{"f1"}, []string{"f2"}, false},
		{"GROUP with a bad member used by INCLUDE", "GROUP good ann bob\nGROUP good b\x01ob\nINCLUDE f1 GROUP good\n", []string{"f1"}, []string{"f2"}, false},
		{"GROUP broken inside a group EXCLUDE uses", "GROUP outer inner carl\nGROUP inner \"bob\nEXCLUDE f1 GROUP outer\n", []string{"f1"}, []string{"f2"}, false},
		{"GROUP over the limit used by EXCLUDEALL", "GROUP big bob" + longNames(400) + "\nEXCLUDEALL GROUP big\n", []string{"*"}, nil, false},
		{"HOST_GROUP broken used by RESERVE", "HOST_GROUP hs h2 \"x\nRESERVE 1 f1 HOST_GROUP hs\n", []string{"f1"}, []string{"f2"}, false},
		{"GROUP broken but used by nothing", "GROUP unused \"x\nEXCLUDE f1 USER bob\n", nil, []string{"f1", "f2"}, false},
		{"GROUPCASEINSENSITIVE broken with a GROUP in use", "GROUPCASEINSENSITIVE yes\nGROUP g BOB\nEXCLUDE f1 GROUP g\n", []string{"f1"}, []string{"f2"}, false},
		{"NOLOG misspelt item", "NOLOG INN\nEXCLUDE f1 USER bob\n", nil, []string{"f1", "f2"}, false},
		{"NOLOG misspelt", "NOLGO IN\nEXCLUDE f1 USER bob\n", nil, []string{"f1", "f2"}, false},
		{"TIMEOUT with a bad number", "TIMEOUT f1 ten\n", nil, []string{"f1", "f2"}, true},
		{"LINGER misspelt", "LINGRE f1 10\n", nil, []string{"f1", "f2"}, true},
		{"an unknown keyword of later releases", "FQDN_MATCHING exact\n", nil, []string{"f1", "f2"}, true},
		{"REPORTLOG over the limit", "REPORTLOG /" + strings.Repeat("x", 4100) + "\n", nil, []string{"f1", "f2"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o, err := Parse(strings.NewReader(tt.src), "test.opt")
			wantErr := !strings.Contains(tt.name, "changes nothing") && !strings.Contains(tt.name, "under the limit")
			if (err != nil) != wantErr {
				t.Fatalf("Parse error = %v, want an error: %v", err, wantErr)
			}
			for _, f := range tt.closed {
				if f == "*" {
					f = "f1"
					if c := o.Closed("any"); c == nil || c.Feature != "" {
						t.Errorf("Closed(any) = %v, want every feature closed", c)
					}
				}
				if c := o.Closed(f); c == nil {
					t.Errorf("Closed(%s) = nil, want a closure", f)
				}
				for _, r := range []Requester{ann, bob} {
					if ok, code := o.Allowed(f, nil, r); ok || code != lmerr.NotIncluded {
						t.Errorf("Allowed(%s, %s) = %v, %d; want false, %d", f, r.User, ok, code, lmerr.NotIncluded)
					}
				}
			}
			if len(tt.closed) == 0 && len(o.Closures) != 0 {
				t.Errorf("Closures = %v, want none", o.Closures)
			}
			for _, f := range tt.open {
				if c := o.Closed(f); c != nil {
					t.Errorf("Closed(%s) = %v, want nil", f, c)
				}
				if ok, code := o.Allowed(f, nil, ann); !ok {
					t.Errorf("Allowed(%s, ann) = false, %d; want true", f, code)
				}
			}
			if len(tt.closed) == 0 {
				if ok, _ := o.Allowed("f1", nil, bob); ok != tt.bobOK {
					t.Errorf("Allowed(f1, bob) = %v, want %v", ok, tt.bobOK)
				}
			}
			for _, c := range o.Closures {
				var pe *ParseError
				if !errors.As(c.Err, &pe) || pe.File != "test.opt" || pe.Line < 1 || pe.Code >= 0 {
					t.Errorf("closure %v: want a positioned ParseError of test.opt with a code", c)
				}
			}
		})
	}
}

// TestClosureNamesTheLineToFix: a feature closed through a broken group
// points at the GROUP line, the line the administrator must fix.
func TestClosureNamesTheLineToFix(t *testing.T) {
	o, _ := Parse(strings.NewReader("GROUP g ann\nGROUP g \"bob\nEXCLUDE f1 GROUP g\n"), "test.opt")
	c := o.Closed("f1")
	if c == nil {
		t.Fatal("f1 is not closed")
	}
	want := `f1 is served to nobody: test.opt:2:9: unterminated quote (-2)`
	if got := c.String(); got != want {
		t.Errorf("closure = %q, want %q", got, want)
	}
}

// TestClosedPackage: a closed package closes its components.
func TestClosedPackage(t *testing.T) {
	o, _ := Parse(strings.NewReader("EXCLUDE suite USR bob\n"), "test.opt")
	o.ExpandPackages(func(n string) []string {
		if n == "suite" {
			return []string{"c1", "c2"}
		}
		return nil
	})
	for _, f := range []string{"suite", "c1", "c2"} {
		if o.Closed(f) == nil {
			t.Errorf("%s is not closed", f)
		}
	}
	if o.Closed("other") != nil {
		t.Error("other is closed")
	}
}

// TestUnreadable: a file that cannot be read closes every feature, and
// says so without Go's wrapping.
func TestUnreadable(t *testing.T) {
	path := filepath.Join(t.TempDir(), "demo.opt")
	_, err := os.ReadFile(path)
	o := Unreadable(path, err)
	for _, f := range []string{"f1", "anything"} {
		if ok, code := o.Allowed(f, nil, Requester{User: "ann"}); ok || code != lmerr.NotIncluded {
			t.Errorf("Allowed(%s) = %v, %d; want false, %d", f, ok, code, lmerr.NotIncluded)
		}
	}
	c := o.Closed("f1")
	if c == nil {
		t.Fatal("f1 is not closed")
	}
	want := "every feature is served to nobody: " + path + ": cannot open options file: no such file or directory (-30)"
	if got := c.String(); got != want {
		t.Errorf("closure = %q\nwant %q", got, want)
	}
	if !errors.Is(c.Err, ErrUnreadable) || CodeOf(c.Err) != -30 {
		t.Errorf("closure error %v: want ErrUnreadable, code -30 (have %d)", c.Err, CodeOf(c.Err))
	}
}

// TestClassify pins which unknown keywords count as restricting.
func TestClassify(t *testing.T) {
	tests := []struct {
		line string
		want scope
	}{
		{"EXCLUDE f1:VERSION=2.0 USER bob", scope{restricts: true, feature: "f1"}},
		{"EXLCUDE f1 USER bob", scope{restricts: true, feature: "f1"}},
		{"RESERV 1 f2 USER bob", scope{restricts: true, feature: "f2"}},
		{"RES", scope{restricts: true, all: true}},
		{"MAXX 1 f3 USER bob", scope{restricts: true, feature: "f3"}},
		{"GRUOP g a b", scope{restricts: true, group: "g", groupType: TypeGroup}},
		{"HOST_GROPU g a b", scope{restricts: true, group: "g", groupType: TypeHostGroup}},
		{"EXCLUDEALL_BORROW USER bob", scope{restricts: true, all: true}},
		{"INCLUDE \x01f1 USER bob", scope{restricts: true, all: true}},
		{"NOLOGG IN", scope{}},
		{"TIMEOUTAL 900", scope{}},
		{"DEBUGLOG +x", scope{}},
		{"FQDN_MATCHING exact", scope{}},
		{"", scope{}},
	}
	for _, tt := range tests {
		t.Run(tt.line, func(t *testing.T) {
			if got := classify(tt.line); got != tt.want {
				t.Errorf("classify(%q) = %+v, want %+v", tt.line, got, tt.want)
			}
		})
	}
}
