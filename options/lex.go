package options

import "strings"

// An options file is read in two steps, like a license file:
// licfile.SplitLogical joins \ continuations into logical lines and drops
// blank lines and # comments; tokenize cuts a logical line into words,
// keeping the file position of each.

// MaxLineLength is the longest logical line (continuations joined) an
// options file may have. The 7.1 manual allows 2048; later vendor
// daemons 4000, which golm follows.
const MaxLineLength = 4000

// token is one word of a logical line.
type token struct {
	off   int    // byte offset in the logical line
	raw   string // as written, quotes included
	value string // the word with its double quotes removed
}

// tokenize cuts a logical line into words separated by blanks. A double
// quote starts a quoted stretch, blanks included, that ends at the next
// double quote; quotes may sit anywhere in a word (f1:NOTICE="a b").
// An unterminated quote returns the offset of the opening quote.
func tokenize(s string) (toks []token, badQuote int, ok bool) {
	i := 0
	for i < len(s) {
		for i < len(s) && isBlank(s[i]) {
			i++
		}
		if i == len(s) {
			break
		}
		start := i
		quoted := false
		var b strings.Builder
		for i < len(s) {
			c := s[i]
			if c == '"' {
				q := strings.IndexByte(s[i+1:], '"')
				if q < 0 {
					return toks, i, false
				}
				b.WriteString(s[i+1 : i+1+q])
				i += q + 2
				quoted = true
				continue
			}
			if isBlank(c) {
				break
			}
			b.WriteByte(c)
			i++
		}
		t := token{off: start, raw: s[start:i]}
		if quoted {
			t.value = b.String()
		} else {
			t.value = t.raw
		}
		toks = append(toks, t)
	}
	return toks, 0, true
}

func isBlank(c byte) bool {
	return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f'
}
