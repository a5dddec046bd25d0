package licfile

// refSplitLines is the first implementation of splitLines, kept as the
// reference the faster one must match.

import (
	"fmt"
	"strings"
	"testing"
)

func refSplitLines(src string) []*logical {
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

// FuzzSplitLines checks that splitLines cuts any text into the same
// logical lines, with the same positions, as the reference. The seed
// corpus is every license file of testdata.
func FuzzSplitLines(f *testing.F) {
	addLicenseSeeds(f)
	f.Add("A \\\r\n\t\r\nB\\ \n  C \\\n\u0085\n# golm-manifest x\nD\\")
	f.Add(" \r \n\r\r\n\\\n\\")
	f.Fuzz(func(t *testing.T, src string) {
		got, want := splitLines(src, false), refSplitLines(src)
		if len(got) != len(want) {
			t.Fatalf("%d logical lines, want %d", len(got), len(want))
		}
		for i := range got {
			g, w := got[i], want[i]
			if g.text != w.text || g.offset != w.offset || g.end != w.end || fmt.Sprint(g.segs) != fmt.Sprint(w.segs) {
				t.Fatalf("line %d: %q %d:%d %v, want %q %d:%d %v", i, g.text, g.offset, g.end, g.segs, w.text, w.offset, w.end, w.segs)
			}
		}
	})
}
