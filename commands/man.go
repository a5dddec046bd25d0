package commands

import (
	"fmt"
	"sort"
	"strings"

	"github.com/urfave/cli/v2"
	"golm/lmutil/protocol"
)

// The man pages are generated from the applet registry, so -help and the
// pages never disagree. They carry golm's version, never the date, so the
// same tree always generates the same bytes ("make man" rewrites man/,
// TestManPages fails when a committed page is stale).

// manPages returns every man page by file name: "lmutil.1", one
// "<applet>.1" per visible applet, and the section 5 pages of the file
// formats (FormatPages).
func manPages() map[string]string {
	pages := map[string]string{"lmutil.1": LmutilManPage()}
	for _, a := range Applets() {
		if !a.Hidden {
			pages[a.Name+".1"] = ManPage(a)
		}
	}
	for name, text := range FormatPages() {
		pages[name] = text
	}
	return pages
}

// ManPage returns the roff source of applet a's man page.
func ManPage(a *Applet) string {
	var b strings.Builder
	th(&b, a.Name)
	b.WriteString(".SH NAME\n")
	fmt.Fprintf(&b, "%s \\- %s\n", a.Name, roffText(a.Summary))

	// Each usage line is filled with a hanging indent after the command
	// name, without hyphenation; bracketed groups never break.
	b.WriteString(".SH SYNOPSIS\n.nh\n.ad l\n")
	for _, prefix := range []string{"", "lmutil "} {
		for _, u := range strings.Split(a.Usage, "\n") {
			n := len(prefix) + len(strings.Fields(u + " ")[0]) + 1
			fmt.Fprintf(&b, ".in +%dn\n.ti -%dn\n%s\n.in -%dn\n", n, n, synopsisLine(prefix+u), n)
		}
	}
	b.WriteString(".ad\n.hy\n")

	b.WriteString(".SH DESCRIPTION\n")
	if strings.TrimSpace(a.Description) != "" {
		paragraphs(&b, a.Description)
	} else {
		fmt.Fprintf(&b, "%s\n", roffText(sentence(a.Summary)))
	}
	b.WriteString(".PP\n")
	names := []string{"\\fBlmutil " + a.Name + "\\fR"}
	for _, al := range aliasesOf(a) {
		names = append(names, "\\fBlmutil "+roffText(al)+"\\fR")
	}
	fmt.Fprintf(&b, "The command may also be run as %s, with the same arguments.\n", orList(names))

	b.WriteString(".SH OPTIONS\n")
	optional := map[string]bool{}
	for _, o := range a.Optional {
		optional[o] = true
	}
	own := []cli.Flag(nil)
	if a.Flags != nil {
		own = a.Flags()
	}
	for _, f := range append(own, universalFlags(a)...) {
		flagItem(&b, f, optional[f.Names()[0]])
	}

	b.WriteString(".SH EXIT STATUS\n")
	exitStatus(&b)
	b.WriteString(".SH ENVIRONMENT\n")
	environment(&b)
	b.WriteString(".SH SEE ALSO\n")
	seeAlso(&b, a.Name)
	return b.String()
}

// LmutilManPage returns the roff source of lmutil(1): dispatch, the
// universal flags, exit statuses, environment and the list of applets.
func LmutilManPage() string {
	var b strings.Builder
	th(&b, "lmutil")
	b.WriteString(".SH NAME\nlmutil \\- golm license administration tools in one binary\n")
	b.WriteString(".SH SYNOPSIS\n.nf\n")
	b.WriteString("\\fBlmutil\\fR \\fIcommand\\fR [\\fIoptions\\fR] [\\fIarguments\\fR]\n")
	b.WriteString("\\fIcommand\\fR [\\fIoptions\\fR] [\\fIarguments\\fR]\n")
	b.WriteString("\\fBlmutil\\fR [\\fB\\-help\\fR]\n")
	b.WriteString("\\fBlmutil \\-v\\fR\n")
	b.WriteString(".fi\n")
	b.WriteString(manRoff("lmutil-description"))
	b.WriteString(".SH COMMANDS\n")
	for _, a := range Applets() {
		if a.Hidden {
			continue
		}
		fmt.Fprintf(&b, ".TP\n.BR %s (1)\n%s\n", a.Name, roffText(sentence(a.Summary)))
	}
	b.WriteString(manRoff("lmutil-options"))
	b.WriteString(".SH EXIT STATUS\n")
	exitStatus(&b)
	b.WriteString(".SH ENVIRONMENT\n")
	environment(&b)
	b.WriteString(manRoff("lmutil-files"))
	b.WriteString(".SH SEE ALSO\n")
	seeAlso(&b, "lmutil")
	return b.String()
}

func th(b *strings.Builder, name string) {
	b.WriteString(".\\\" Generated from the lmutil command registry by \"make man\"; do not edit.\n")
	fmt.Fprintf(b, ".TH %s 1 \"\" \"golm %s\" \"golm Manual\"\n", strings.ToUpper(name), protocol.Software)
}

func exitStatus(b *strings.Builder) {
	b.WriteString(manRoff("lmutil-exit-status"))
}

func environment(b *strings.Builder) {
	b.WriteString(manRoff("lmutil-environment"))
}

func seeAlso(b *strings.Builder, self string) {
	var refs []string
	if self != "lmutil" {
		refs = append(refs, ".BR lmutil (1)")
	}
	for _, a := range Applets() {
		if !a.Hidden && a.Name != self {
			refs = append(refs, ".BR "+a.Name+" (1)")
		}
	}
	for _, n := range formatPageNames() {
		refs = append(refs, ".BR "+n+" (5)")
	}
	for i, r := range refs {
		if i < len(refs)-1 {
			r += " ,"
		}
		b.WriteString(r + "\n")
	}
}

// aliasesOf lists the other names "lmutil <name>" accepts for a.
func aliasesOf(a *Applet) []string {
	seen := map[string]bool{a.Name: true}
	var out []string
	add := func(n string) {
		if n != "" && !seen[n] {
			seen[n] = true
			out = append(out, n)
		}
	}
	for _, al := range a.Aliases {
		add(al)
	}
	if s, ok := strings.CutPrefix(a.Name, "lm"); ok {
		add(s)
	}
	sort.Strings(out)
	return out
}

func orList(items []string) string {
	switch len(items) {
	case 0:
		return ""
	case 1:
		return items[0]
	}
	return strings.Join(items[:len(items)-1], ", ") + " or " + items[len(items)-1]
}

// sentence makes a summary a sentence: capital first letter, final stop.
func sentence(s string) string {
	s = strings.TrimSpace(s)
	if s == "" {
		return s
	}
	s = strings.ToUpper(s[:1]) + s[1:]
	if !strings.HasSuffix(s, ".") {
		s += "."
	}
	return s
}

// flagItem writes one .TP entry for flag f.
func flagItem(b *strings.Builder, f cli.Flag, optional bool) {
	df, _ := f.(cli.DocGenerationFlag)
	var heads []string
	for _, n := range f.Names() {
		h := "\\fB\\-" + roffText(n) + "\\fR"
		if df != nil && df.TakesValue() {
			name := argName(df)
			arg := "\\fI" + roffText(strings.Trim(name, "[]")) + "\\fR"
			if optional || strings.HasPrefix(name, "[") && strings.HasSuffix(name, "]") {
				h += " [" + arg + "]"
			} else {
				h += " " + arg
			}
		}
		heads = append(heads, h)
	}
	b.WriteString(".TP\n" + strings.Join(heads, ", ") + "\n")
	text := ""
	if df != nil {
		text = usageText(df)
		if v := df.GetValue(); df.TakesValue() && v != "" && v != "0" && !optional {
			text += " (default: " + df.GetValue() + ")"
		}
	}
	b.WriteString(roffLine(sentence(text)) + "\n")
}

// synopsisLine renders one usage line: the command words bold, flags
// bold, placeholders italic, brackets and bars roman.
func synopsisLine(u string) string {
	var b strings.Builder
	depth := 0
	for i, w := range strings.Fields(u) {
		if i > 0 {
			if depth > 0 {
				b.WriteString("\\ ") // unbreakable inside [ ] and { }
			} else {
				b.WriteByte(' ')
			}
		}
		b.WriteString(synopsisWord(w, i == 0 || (i == 1 && strings.HasPrefix(u, "lmutil "))))
		depth += strings.Count(w, "[") + strings.Count(w, "{") - strings.Count(w, "]") - strings.Count(w, "}")
		depth = max(depth, 0)
	}
	return b.String()
}

func synopsisWord(w string, command bool) string {
	// Brackets, braces and bars are roman; the text between them is bold
	// for the command and flags, italic for placeholders.
	var b strings.Builder
	for w != "" {
		i := strings.IndexAny(w, "[]{}|")
		if i == 0 {
			b.WriteByte(w[0])
			w = w[1:]
			continue
		}
		text := w
		if i > 0 {
			text = w[:i]
		}
		w = w[len(text):]
		switch {
		case command || strings.HasPrefix(text, "-"):
			b.WriteString("\\fB" + roffText(text) + "\\fR")
		case text == "...":
			b.WriteString(text)
		default:
			b.WriteString("\\fI" + roffText(text) + "\\fR")
		}
	}
	return b.String()
}

// paragraphs writes a Description: paragraphs separated by blank lines;
// a paragraph whose lines are all indented is an example, printed as is.
func paragraphs(b *strings.Builder, text string) {
	for _, p := range strings.Split(strings.Trim(text, "\n"), "\n\n") {
		p = strings.Trim(p, "\n")
		if strings.TrimSpace(p) == "" {
			continue
		}
		lines := strings.Split(p, "\n")
		literal := true
		for _, l := range lines {
			if !strings.HasPrefix(l, " ") && !strings.HasPrefix(l, "\t") {
				literal = false
			}
		}
		b.WriteString(".PP\n")
		if literal {
			b.WriteString(".RS 4\n.nf\n")
			indent := commonIndent(lines)
			for _, l := range lines {
				b.WriteString(roffLine(l[min(indent, len(l)):]) + "\n")
			}
			b.WriteString(".fi\n.RE\n")
			continue
		}
		for _, l := range lines {
			b.WriteString(roffLine(strings.TrimSpace(l)) + "\n")
		}
	}
}

func commonIndent(lines []string) int {
	n := -1
	for _, l := range lines {
		if strings.TrimSpace(l) == "" {
			continue
		}
		i := len(l) - len(strings.TrimLeft(l, " \t"))
		if n < 0 || i < n {
			n = i
		}
	}
	return max(n, 0)
}

// roffText escapes text for use inside a roff line: backslashes and
// dashes.
func roffText(s string) string {
	s = strings.ReplaceAll(s, "\\", "\\e")
	return strings.ReplaceAll(s, "-", "\\-")
}

// roffLine escapes a whole text line: roffText, and a leading dot or
// quote that roff would take for a request.
func roffLine(s string) string {
	s = roffText(s)
	if strings.HasPrefix(s, ".") || strings.HasPrefix(s, "'") {
		s = "\\&" + s
	}
	if s == "" {
		return ".sp"
	}
	return s
}
