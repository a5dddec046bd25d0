package options

import "strings"

// An options file is read in two steps, like a license file: splitLines
// joins \ continuations into logical lines and drops blank lines and #
// comments; tokenize cuts a logical line into words, keeping the file
// position of each.

// MaxLineLength is the longest logical line (continuations joined) an
// options file may have. The 7.1 manual allows 2048; later vendor
// daemons 4000, which golm follows.
const MaxLineLength = 4000

// segment maps a stretch of a logical line back to the file: text from
// offset off on comes from file line line, starting at column col.
type segment struct {
	off, line, col int
}

// logical is one logical line: its physical lines joined, each \ and line
// break replaced by a single space.
type logical struct {
	text string
	segs []segment
}

// pos returns the file position of byte i of the logical line.
func (l *logical) pos(file string, i int) Pos {
	s := l.segs[0]
	for _, g := range l.segs[1:] {
		if g.off > i {
			break
		}
		s = g
	}
	return Pos{File: file, Line: s.line, Column: s.col + i - s.off}
}

func isBlank(c byte) bool {
	return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f'
}

const blanks = " \t\r\v\f"

// splitLines returns the logical lines of src. A line whose last
// non-blank character is \ continues on the next physical line unless
// that line is blank or the file ends. A line whose first non-blank
// character is # is a comment. CRLF line ends are accepted.
func splitLines(src string) []*logical {
	phys := strings.Split(src, "\n")
	if len(phys) > 0 && phys[len(phys)-1] == "" {
		phys = phys[:len(phys)-1]
	}
	var out []*logical
	for i := 0; i < len(phys); i++ {
		text := strings.TrimRight(phys[i], blanks)
		lead := len(text) - len(strings.TrimLeft(text, blanks))
		if lead == len(text) || text[lead] == '#' {
			continue
		}
		l := &logical{segs: []segment{{off: 0, line: i + 1, col: 1 + lead}}}
		var b strings.Builder
		cur := text[lead:]
		for {
			if !strings.HasSuffix(cur, `\`) {
				b.WriteString(cur)
				break
			}
			b.WriteString(cur[:len(cur)-1])
			if i+1 >= len(phys) || strings.TrimLeft(phys[i+1], blanks) == "" {
				break
			}
			b.WriteByte(' ')
			i++
			cur = strings.TrimRight(phys[i], blanks)
			l.segs = append(l.segs, segment{off: b.Len(), line: i + 1, col: 1})
		}
		l.text = b.String()
		out = append(out, l)
	}
	return out
}

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
