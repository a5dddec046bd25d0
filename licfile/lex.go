package licfile

import (
	"strings"
)

// A license file is read in two steps. splitLines joins \ continuations
// into logical lines and drops blank lines and # comments; appendTokens cuts
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
	// manifest marks a golm-manifest comment line (text is the comment),
	// returned only when splitLines is asked for them.
	manifest bool
	seg0     [1]segment // segs of a line without continuations
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

// trimBlanksRight trims spaces, tabs, carriage returns, vertical tabs
// and form feeds from the end of s.
func trimBlanksRight(s string) string {
	i := len(s)
	for i > 0 && isSpace(s[i-1]) {
		i--
	}
	return s[:i]
}

// physLine returns the physical line of src that starts at off, without
// its newline, and the offset of the next line (len(src)+1 after the
// last). A final line without a newline counts; an empty tail does not.
func physLine(src string, off int) (text string, next int) {
	nl := strings.IndexByte(src[off:], '\n')
	if nl < 0 {
		return src[off:], len(src) + 1
	}
	return src[off : off+nl], off + nl + 1
}

// splitLines returns the logical lines of src. A line whose last
// non-blank character is \ continues on the next physical line, unless
// that line is blank or the file ends: then the \ just ends the line.
// Leading blanks before the keyword are allowed; a line whose first
// non-blank character is # is a comment. CRLF line ends are accepted.
// With manifests, comment lines that start with the golm-manifest tag
// in column 1 come back too, marked.
func splitLines(src string, manifests bool) []*logical {
	// One logical per physical line at most, allocated together.
	slab := make([]logical, 0, strings.Count(src, "\n")+1)
	out := make([]*logical, 0, cap(slab))
	lineNo := 0
	for off := 0; off < len(src); {
		raw, next := physLine(src, off)
		lineNo++
		text := strings.TrimRight(raw, "\r")
		lead := 0
		for lead < len(text) && (text[lead] == ' ' || text[lead] == '\t' || text[lead] == '\v' || text[lead] == '\f') {
			lead++
		}
		if lead == len(text) || text[lead] == '#' {
			if manifests && lead == 0 && strings.HasPrefix(text, manifestTag) {
				slab = append(slab, logical{text: text, offset: off, end: off + len(text), manifest: true})
				l := &slab[len(slab)-1]
				l.seg0[0] = segment{off: 0, line: lineNo, col: 1}
				l.segs = l.seg0[:]
				out = append(out, l)
			}
			off = next
			continue
		}
		slab = append(slab, logical{offset: off + lead})
		l := &slab[len(slab)-1]
		l.seg0[0] = segment{off: 0, line: lineNo, col: 1 + lead}
		l.segs = l.seg0[:]
		cur := text[lead:]
		curOff := off + lead
		trimmed := trimBlanksRight(cur)
		if !strings.HasSuffix(trimmed, `\`) {
			// The common case: one physical line, its text a piece of src.
			l.text = trimmed
			l.end = curOff + len(trimmed)
			out = append(out, l)
			off = next
			continue
		}
		var b strings.Builder
		for {
			trimmed := trimBlanksRight(cur)
			if !strings.HasSuffix(trimmed, `\`) {
				b.WriteString(trimmed)
				l.end = curOff + len(trimmed)
				break
			}
			b.WriteString(trimmed[:len(trimmed)-1])
			l.end = curOff + len(trimmed)
			if next >= len(src) {
				break
			}
			nraw, nnext := physLine(src, next)
			if strings.TrimSpace(nraw) == "" {
				break
			}
			b.WriteByte(' ')
			lineNo++
			cur = strings.TrimRight(nraw, "\r")
			curOff = next
			next = nnext
			l.segs = append(l.segs, segment{off: b.Len(), line: lineNo, col: 1})
		}
		l.text = b.String()
		out = append(out, l)
		off = next
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

// appendTokens cuts a logical line into tokens, appended to toks so that
// a caller can reuse one slice for every line. A token is a "quoted
// string", a keyword="quoted value", or a run of non-blank characters; a
// double quote anywhere else is an error, so quoted values never hold a
// quote and unquoted ones never hold a blank. On error it returns the
// offset of the offending character.
func appendTokens(toks []token, s string) ([]token, int, error) {
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
	ls := splitLines(src, false)
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
