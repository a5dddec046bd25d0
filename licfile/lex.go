package licfile

import (
	"strings"
)

// A license file is read in two steps. splitLines joins \ continuations
// into logical lines and drops blank lines and # comments; tokenize cuts
// a logical line into words, "quoted strings" and keyword=value pairs,
// keeping for each the file position it came from.

// segment maps a stretch of a logical line back to the file: text from
// offset off on comes from file line line, starting at column col.
type segment struct {
	off  int
	line int
	col  int
}

// logical is one logical line: its physical lines joined, each \ and line
// break replaced by a single space.
type logical struct {
	text   string
	segs   []segment
	offset int // file byte offset of the first non-blank character
	end    int // file byte offset just past the last character
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

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f'
}

// splitLines returns the logical lines of src. A line whose last
// non-blank character is \ continues on the next physical line, unless
// that line is blank or the file ends: then the \ just ends the line.
// Leading blanks before the keyword are allowed; a line whose first
// non-blank character is # is a comment. CRLF line ends are accepted.
func splitLines(src string) []*logical {
	var out []*logical
	type phys struct {
		text   string
		offset int
	}
	var lines []phys
	for off := 0; off <= len(src); {
		nl := strings.IndexByte(src[off:], '\n')
		if nl < 0 {
			if off < len(src) {
				lines = append(lines, phys{src[off:], off})
			}
			break
		}
		lines = append(lines, phys{src[off : off+nl], off})
		off += nl + 1
	}
	for i := 0; i < len(lines); i++ {
		p := lines[i]
		text := strings.TrimRight(p.text, "\r")
		lead := len(text) - len(strings.TrimLeft(text, " \t\v\f"))
		if lead == len(text) || text[lead] == '#' {
			continue
		}
		l := &logical{offset: p.offset + lead}
		var b strings.Builder
		l.segs = append(l.segs, segment{off: 0, line: i + 1, col: 1 + lead})
		cur := text[lead:]
		curOff := p.offset + lead
		for {
			trimmed := strings.TrimRight(cur, " \t\r\v\f")
			if !strings.HasSuffix(trimmed, `\`) {
				b.WriteString(trimmed)
				l.end = curOff + len(trimmed)
				break
			}
			body := trimmed[:len(trimmed)-1]
			b.WriteString(body)
			l.end = curOff + len(trimmed)
			if i+1 >= len(lines) || strings.TrimSpace(lines[i+1].text) == "" {
				break
			}
			b.WriteByte(' ')
			i++
			cur = strings.TrimRight(lines[i].text, "\r")
			curOff = lines[i].offset
			l.segs = append(l.segs, segment{off: b.Len(), line: i + 1, col: 1})
		}
		l.text = b.String()
		out = append(out, l)
	}
	return out
}

// token is one word of a logical line.
type token struct {
	off    int    // byte offset in the logical line
	text   string // as written, quotes included
	key    string // for keyword=value: the keyword
	value  string // the value, without quotes; for other tokens the word itself
	hasEq  bool   // a keyword=value pair
	quoted bool   // the value (or the whole token) was written in double quotes
}

// plain reports whether t is a bare unquoted word without "=".
func (t *token) plain() bool { return !t.hasEq && !t.quoted }

// tokenize cuts a logical line into tokens. A token is a "quoted string",
// a keyword="quoted value", or a run of non-blank characters; a double
// quote anywhere else is an error, so quoted values never hold a quote
// and unquoted ones never hold a blank. On error it returns the offset
// of the offending character.
func tokenize(s string) ([]token, int, error) {
	var toks []token
	i := 0
	for {
		for i < len(s) && isSpace(s[i]) {
			i++
		}
		if i >= len(s) {
			return toks, 0, nil
		}
		start := i
		if s[i] == '"' {
			j := strings.IndexByte(s[i+1:], '"')
			if j < 0 {
				return nil, start, errorf(ErrSyntax, "unterminated quoted string")
			}
			end := i + 1 + j + 1
			if end < len(s) && !isSpace(s[end]) {
				return nil, end, errorf(ErrSyntax, "missing blank after quoted string")
			}
			toks = append(toks, token{off: start, text: s[start:end], value: s[i+1 : end-1], quoted: true})
			i = end
			continue
		}
		t := token{off: start}
		for i < len(s) && !isSpace(s[i]) {
			c := s[i]
			if c == '=' && !t.hasEq {
				t.hasEq = true
				t.key = s[start:i]
				if t.key == "" {
					return nil, i, errorf(ErrSyntax, "missing keyword before =")
				}
				if i+1 < len(s) && s[i+1] == '"' {
					j := strings.IndexByte(s[i+2:], '"')
					if j < 0 {
						return nil, i + 1, errorf(ErrSyntax, "unterminated quoted string")
					}
					t.quoted = true
					t.value = s[i+2 : i+2+j]
					i = i + 2 + j + 1
					if i < len(s) && !isSpace(s[i]) {
						return nil, i, errorf(ErrSyntax, "missing blank after quoted string")
					}
					break
				}
				i++
				continue
			}
			if c == '"' {
				return nil, i, errorf(ErrSyntax, "unexpected quote")
			}
			i++
		}
		t.text = s[start:i]
		if t.hasEq && !t.quoted {
			t.value = s[start+len(t.key)+1 : i]
		} else if !t.hasEq {
			t.value = t.text
		}
		toks = append(toks, t)
	}
}

// LogicalLine is one logical line of a FLEXlm-style text file: its
// physical lines joined at \ continuations, blank lines and # comments
// dropped. The options file has the same line rules and reads its lines
// through SplitLogical too.
type LogicalLine struct{ l *logical }

// SplitLogical returns the logical lines of src.
func SplitLogical(src string) []LogicalLine {
	ls := splitLines(src)
	out := make([]LogicalLine, len(ls))
	for i, l := range ls {
		out[i] = LogicalLine{l}
	}
	return out
}

// Text is the logical line with each \ and line break replaced by a space.
func (l LogicalLine) Text() string { return l.l.text }

// Pos is the file position of byte i of Text.
func (l LogicalLine) Pos(file string, i int) Pos { return l.l.pos(file, i) }
