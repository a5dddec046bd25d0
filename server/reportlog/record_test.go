package reportlog

import (
	"errors"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"
)

func TestEscape(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"plain", "alice", "alice"},
		{"empty", "", ""},
		{"tab", "a\tb", `a\tb`},
		{"newline forges a line", "x\nhash=00", `x\nhash=00`},
		{"carriage return", "a\rb", `a\rb`},
		{"backslash", `a\b`, `a\\b`},
		{"control", "a\x01\x7fb", `a\x01\x7fb`},
		{"utf8 kept", "jürgen", "jürgen"},
		{"invalid utf8", "a\xffb", `a\xffb`},
		{"equals kept", "a=b", "a=b"},
		{"path and host kept", "/dev/pts/1 ws1.example.com:0.0 a@b+c,d_e-f", `/dev/pts/1\x20ws1.example.com:0.0\x20a@b+c,d_e-f`},
		{"space", "air plane", `air\x20plane`},
		{"shell command", "x;id>/tmp/p;#", `x\x3bid\x3e/tmp/p\x3b\x23`},
		{"shell quoting and expansion", "$(rm -rf ~)`id`'\"*?[]{}|&<>!%^", `\x24\x28rm\x20-rf\x20\x7e\x29\x60id\x60\x27\x22\x2a\x3f\x5b\x5d\x7b\x7d\x7c\x26\x3c\x3e\x21\x25\x5e`},
		{"next line U+0085", "a\u0085b", `a\xc2\x85b`},
		{"C1 control U+009B", "a\u009bb", `a\xc2\x9bb`},
		{"line separator U+2028", "a\u2028hash=00", `a\xe2\x80\xa8hash=00`},
		{"paragraph separator U+2029", "a\u2029b", `a\xe2\x80\xa9b`},
		{"no-break space", "a\u00a0b", `a\xc2\xa0b`},
		{"ideographic space", "a\u3000b", `a\xe3\x80\x80b`},
		{"right-to-left override", "a\u202eb", `a\xe2\x80\xaeb`},
		{"byte order mark", "\ufeffa", `\xef\xbb\xbfa`},
		{"unassigned", "a\U000e0080b", `a\xf3\xa0\x82\x80b`},
		{"non-ASCII letters kept", "日本語 ß", `日本語\x20ß`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Escape(tt.in)
			if got != tt.want {
				t.Errorf("Escape(%q) = %q, want %q", tt.in, got, tt.want)
			}
			if bad := unsafeRune(got); bad >= 0 {
				t.Errorf("Escape(%q) = %q still holds %U raw", tt.in, got, bad)
			}
			back, err := Unescape(got)
			if err != nil || back != tt.in {
				t.Errorf("Unescape(%q) = %q, %v; want %q", got, back, err, tt.in)
			}
		})
	}
}

// unsafeRune returns the first rune of an escaped value that Escape must
// not leave raw, or -1.
func unsafeRune(s string) rune {
	for i, r := range s {
		switch {
		case r == utf8.RuneError && !strings.HasPrefix(s[i:], "\uFFFD"):
			return r
		case r < 0x80 && !(unicode.IsLetter(r) || unicode.IsDigit(r) || strings.ContainsRune("-_.,:/@+=\\", r)):
			return r
		case r >= 0x80 && (!unicode.IsPrint(r) || unicode.IsSpace(r) || r == 0x85 || r == 0x2028 || r == 0x2029):
			return r
		}
	}
	return -1
}

// FuzzEscape: every string escapes to a value of safe characters only,
// which Unescape turns back into the same bytes, and a record holding it
// in every free-text field parses back to the same record.
func FuzzEscape(f *testing.F) {
	for _, s := range []string{"", "alice", "x;id>/tmp/p;#", "a\u2028b\u0085c\u2029", "\xff\xfe", "a\\x41", "\t\n\r\x00\x7f", "日本 語", "\uFFFD"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		e := Escape(s)
		if bad := unsafeRune(e); bad >= 0 {
			t.Fatalf("Escape(%q) = %q holds %U raw", s, e, bad)
		}
		back, err := Unescape(e)
		if err != nil || back != s {
			t.Fatalf("Unescape(Escape(%q)) = %q, %v", s, back, err)
		}
		if len(s) > maxValue {
			s = s[:maxValue]
		}
		rec := Record{Time: time.Date(2026, 11, 23, 13, 9, 6, 0, time.UTC), Seq: 1, Event: EventDeny,
			Feature: s, Version: s, User: s, Host: s, Display: s, Project: s, Pool: s, Reason: s, Detail: s}
		rec.truncate()
		line := rec.Line(Genesis)
		if strings.Count(line, "\n") != 1 || strings.Count(line, "\t") != len(keys)-1 {
			t.Fatalf("line %q is not one line of %d fields", line, len(keys))
		}
		got, err := ParseRecord(strings.TrimSuffix(line, "\n"))
		if err != nil {
			t.Fatalf("ParseRecord(%q): %v", line, err)
		}
		if got != rec {
			t.Fatalf("record %+v read back as %+v", rec, got)
		}
	})
}

func TestUnescapeErrors(t *testing.T) {
	for _, in := range []string{`a\`, `\q`, `\x4`, `\xzz`} {
		t.Run(in, func(t *testing.T) {
			if _, err := Unescape(in); !errors.Is(err, ErrEscape) {
				t.Errorf("Unescape(%q) error = %v, want ErrEscape", in, err)
			}
		})
	}
}

func sampleRecord() Record {
	return Record{
		Time: time.Date(2026, 11, 23, 13, 9, 6, 123e6, time.UTC), Seq: 7, Event: EventOut,
		Feature: "f1", Version: "1.0", User: "bob\tx", Host: "h1", Display: "/dev/pts/1",
		Project: "air plane", Count: 2, Handle: 42, Pool: "3", Reason: "", Detail: "",
	}
}

func TestRecordRoundTrip(t *testing.T) {
	rec := sampleRecord()
	line := rec.Line(Genesis)
	if strings.Count(line, "\n") != 1 || !strings.HasSuffix(line, "\n") {
		t.Fatalf("Line = %q, want exactly one trailing newline", line)
	}
	got, err := ParseRecord(strings.TrimSuffix(line, "\n"))
	if err != nil {
		t.Fatalf("ParseRecord: %v", err)
	}
	if got != rec {
		t.Errorf("ParseRecord(Line) = %+v, want %+v", got, rec)
	}
	if h := ChainHash(Genesis, Body(strings.TrimSuffix(line, "\n"))); h != rec.Hash {
		t.Errorf("ChainHash = %s, want %s", h, rec.Hash)
	}
	other := sampleRecord()
	other.Line(strings.Repeat("1", HashLen))
	if other.Hash == rec.Hash {
		t.Errorf("hash does not depend on the previous hash")
	}
}

func TestParseRecordErrors(t *testing.T) {
	rec := sampleRecord()
	good := strings.TrimSuffix(rec.Line(Genesis), "\n")
	tests := []struct {
		name, line string
	}{
		{"empty", ""},
		{"header", Header{Seq: 1, Prev: Genesis}.Line()},
		{"missing field", strings.Replace(good, "\tpool=3", "", 1)},
		{"extra field", good + "\tx=1"},
		{"renamed key", strings.Replace(good, "user=", "usr=", 1)},
		{"bad time", strings.Replace(good, "time=2026", "time=20x6", 1)},
		{"zero seq", strings.Replace(good, "seq=7", "seq=0", 1)},
		{"bad event", strings.Replace(good, "event=OUT", "event=STEAL", 1)},
		{"bad count", strings.Replace(good, "count=2", "count=two", 1)},
		{"bad handle", strings.Replace(good, "handle=42", "handle=-1", 1)},
		{"bad escape", strings.Replace(good, "host=h1", `host=h\q`, 1)},
		{"short hash", good[:len(good)-1]},
		{"upper hash", good[:len(good)-HashLen] + strings.ToUpper(good[len(good)-HashLen:])},
		{"too long", good + strings.Repeat("x", MaxLine)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := ParseRecord(tt.line); !errors.Is(err, ErrFormat) {
				t.Errorf("ParseRecord error = %v, want ErrFormat", err)
			}
		})
	}
}

func TestParseHeader(t *testing.T) {
	h := Header{Seq: 12, Prev: strings.Repeat("a", HashLen), Vendor: "de\tmo"}
	got, err := ParseHeader(strings.TrimSuffix(h.Line(), "\n"))
	if err != nil || got != h {
		t.Fatalf("ParseHeader(Line) = %+v, %v; want %+v", got, err, h)
	}
	bad := []struct {
		name, line string
		want       error
	}{
		{"not a header", "time=x", ErrHeader},
		{"future version", "#golm-reportlog v2\tseq=1\tprev=" + Genesis + "\tvendor=", ErrVersion},
		{"zero seq", "#golm-reportlog v1\tseq=0\tprev=" + Genesis + "\tvendor=", ErrHeader},
		{"bad prev", "#golm-reportlog v1\tseq=1\tprev=xyz\tvendor=", ErrHeader},
		{"missing vendor", "#golm-reportlog v1\tseq=1\tprev=" + Genesis, ErrHeader},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := ParseHeader(tt.line); !errors.Is(err, tt.want) {
				t.Errorf("ParseHeader error = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestTruncateLongValues(t *testing.T) {
	rec := sampleRecord()
	rec.User = strings.Repeat("é", maxValue) // 2 bytes a rune
	rec.truncate()
	if len(rec.User) > maxValue || !strings.HasPrefix(strings.Repeat("é", maxValue), rec.User) {
		t.Errorf("truncated user has %d bytes, want at most %d and whole runes", len(rec.User), maxValue)
	}
}
