package commands

import (
	"embed"
	"fmt"
	"golm/lmutil/protocol"
	"path"
	"sort"
	"strings"
)

// mantext holds the sources of the section 5 pages (the file formats):
// one NAME.5.txt each, in the small markup pageFromText reads, so that
// the prose is text an editor can reflow rather than Go strings.
//
//go:embed mantext/*.5.txt
var mantext embed.FS

// FormatPages returns the section 5 pages by file name
// ("golm-license.5"), rendered from their sources in mantext/.
func FormatPages() map[string]string {
	pages := map[string]string{}
	names, _ := mantext.ReadDir("mantext")
	for _, e := range names {
		src, err := mantext.ReadFile(path.Join("mantext", e.Name()))
		if err != nil {
			continue
		}
		name := strings.TrimSuffix(e.Name(), ".txt")
		pages[name] = pageFromText(strings.TrimSuffix(name, ".5"), string(src))
	}
	return pages
}

// formatPageNames lists the section 5 pages, "golm-license(5)" style.
func formatPageNames() []string {
	var out []string
	for n := range FormatPages() {
		out = append(out, strings.TrimSuffix(n, ".5"))
	}
	sort.Strings(out)
	return out
}

// pageFromText renders a section 5 page from its source:
//
//   - the first line is "name - summary" (the NAME section);
//   - "# TITLE" starts a section, "## Title" a subsection;
//   - paragraphs are separated by blank lines; a paragraph whose first
//     line is ": term" is a tagged paragraph (the term, then its text);
//   - a paragraph whose lines are all indented is an example, set as is;
//   - in other text *bold* and <italic> mark keywords and placeholders;
//     \* and \< are an asterisk and a less-than sign.
func pageFromText(name, src string) string {
	var b strings.Builder
	b.WriteString(".\\\" Generated from commands/mantext by \"make man\"; do not edit.\n")
	fmt.Fprintf(&b, ".TH %s 5 \"\" \"golm %s\" \"golm Manual\"\n", strings.ToUpper(name), protocol.Software)
	first, rest, _ := strings.Cut(strings.ReplaceAll(src, "\r\n", "\n"), "\n")
	n, summary, _ := strings.Cut(first, " - ")
	fmt.Fprintf(&b, ".SH NAME\n%s \\- %s\n", roffText(strings.TrimSpace(n)), roffText(strings.TrimSpace(summary)))
	for _, p := range strings.Split(strings.Trim(rest, "\n"), "\n\n") {
		p = strings.Trim(p, "\n")
		if strings.TrimSpace(p) == "" {
			continue
		}
		lines := strings.Split(p, "\n")
		if literalParagraph(lines) {
			b.WriteString(".PP\n.RS 4\n.nf\n")
			indent := commonIndent(lines)
			for _, l := range lines {
				b.WriteString(roffLine(l[min(indent, len(l)):]) + "\n")
			}
			b.WriteString(".fi\n.RE\n")
			continue
		}
		for len(lines) > 0 {
			l := lines[0]
			switch {
			case strings.HasPrefix(l, "## "):
				fmt.Fprintf(&b, ".SS %s\n", inline(strings.TrimPrefix(l, "## ")))
				lines = lines[1:]
				continue
			case strings.HasPrefix(l, "# "):
				fmt.Fprintf(&b, ".SH %s\n", roffText(strings.TrimPrefix(l, "# ")))
				lines = lines[1:]
				continue
			case strings.HasPrefix(l, ": "):
				fmt.Fprintf(&b, ".TP\n%s\n", inline(strings.TrimPrefix(l, ": ")))
				lines = lines[1:]
			default:
				b.WriteString(".PP\n")
			}
			for _, l := range lines {
				b.WriteString(inlineLine(strings.TrimSpace(l)) + "\n")
			}
			lines = nil
		}
	}
	return b.String()
}

func literalParagraph(lines []string) bool {
	for _, l := range lines {
		if !strings.HasPrefix(l, " ") && !strings.HasPrefix(l, "\t") {
			return false
		}
	}
	return true
}

// inline renders *bold* and <italic> in a line of text, escaping the
// rest for roff.
func inline(s string) string {
	var b strings.Builder
	for s != "" {
		i := strings.IndexAny(s, "*<\\")
		if i < 0 {
			b.WriteString(roffText(s))
			break
		}
		b.WriteString(roffText(s[:i]))
		if s[i] == '\\' {
			// \* and \< are the characters themselves.
			if i+1 < len(s) && strings.IndexByte("*<\\", s[i+1]) >= 0 {
				b.WriteString(roffText(s[i+1 : i+2]))
				s = s[i+2:]
			} else {
				b.WriteString(roffText(s[i : i+1]))
				s = s[i+1:]
			}
			continue
		}
		closer, font := "*", "\\fB"
		if s[i] == '<' {
			closer, font = ">", "\\fI"
		}
		j := strings.Index(s[i+1:], closer)
		if j <= 0 {
			b.WriteString(roffText(s[i : i+1]))
			s = s[i+1:]
			continue
		}
		b.WriteString(font + roffText(s[i+1:i+1+j]) + "\\fR")
		s = s[i+1+j+1:]
	}
	return b.String()
}

// inlineLine is inline for a whole text line: a leading dot or quote is
// protected from roff.
func inlineLine(s string) string {
	s = inline(s)
	if strings.HasPrefix(s, ".") || strings.HasPrefix(s, "'") {
		s = "\\&" + s
	}
	return s
}
