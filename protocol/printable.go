package protocol

import (
	"strings"
	"unicode/utf8"
)

// Printable returns s with every control character but tab (C0, DEL and
// C1) and every byte that is not valid UTF-8 replaced by a Go-style
// escape (\x1b, \u0085), so that a string a peer sent (a user, host or display
// name, a feature, a path) cannot forge log lines, move a terminal's
// cursor or break a parser of lmstat's output when it is printed. A string
// with none of those is returned as is.
func Printable(s string) string {
	i := strings.IndexFunc(s, unprintable)
	if i < 0 && utf8.ValidString(s) {
		return s
	}
	if i < 0 || !utf8.ValidString(s[:i]) {
		i = 0
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	b.WriteString(s[:i])
	for s = s[i:]; s != ""; {
		r, n := utf8.DecodeRuneInString(s)
		switch {
		case r == utf8.RuneError && n == 1:
			b.WriteString(`\x`)
			b.WriteByte(hexDigit[s[0]>>4])
			b.WriteByte(hexDigit[s[0]&0xf])
		case r < 0x80 && unprintable(r):
			b.WriteString(`\x`)
			b.WriteByte(hexDigit[r>>4])
			b.WriteByte(hexDigit[r&0xf])
		case unprintable(r):
			b.WriteString(`\u00`)
			b.WriteByte(hexDigit[(r>>4)&0xf])
			b.WriteByte(hexDigit[r&0xf])
		default:
			b.WriteString(s[:n])
		}
		s = s[n:]
	}
	return b.String()
}

const hexDigit = "0123456789abcdef"

// unprintable reports whether r is a control character other than tab,
// which lmstat's own output uses and which cannot split a line.
func unprintable(r rune) bool {
	return (r < 0x20 && r != '\t') || r == 0x7f || (r >= 0x80 && r < 0xa0)
}
