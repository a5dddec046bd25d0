package protocol

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestPrintable(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"plain", "alice@pc1 /dev/pts/0", "alice@pc1 /dev/pts/0"},
		{"empty", "", ""},
		{"utf-8 kept", "jürgen 東京", "jürgen 東京"},
		{"newline", "root\n12:00:00 (lmgrd) forged", `root\x0a12:00:00 (lmgrd) forged`},
		{"escape sequence", "\x1b[2Jx", `\x1b[2Jx`},
		{"carriage return, tab kept", "a\r\tb", "a\\x0d\tb"},
		{"delete", "a\x7f", `a\x7f`},
		{"c1 control", "a\u0085b", `a\u0085b`},
		{"bad utf-8", "a\xff\xfeb", `a\xff\xfeb`},
		{"truncated rune", "a\xe6\x9d", `a\xe6\x9d`},
		{"nul", "a\x00b", `a\x00b`},
		{"replacement character kept", "a\uFFFDb", "a\uFFFDb"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Printable(tt.in); got != tt.want {
				t.Errorf("Printable(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func FuzzPrintable(f *testing.F) {
	f.Add("root\x1b[2J\n")
	f.Add("\xff\u0085ok")
	f.Fuzz(func(t *testing.T, s string) {
		got := Printable(s)
		if !utf8.ValidString(got) {
			t.Fatalf("Printable(%q) = %q, not valid UTF-8", s, got)
		}
		if i := strings.IndexFunc(got, unprintable); i >= 0 {
			t.Fatalf("Printable(%q) = %q keeps a control character at %d", s, got, i)
		}
	})
}
