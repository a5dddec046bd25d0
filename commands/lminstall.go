package commands

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"strings"

	"github.com/urfave/cli/v2"

	"golm/lmutil/licfile"
	"golm/lmutil/protocol/lmerr"
)

// maxInstallLines is the most input lines lminstall reads (manual 7.8).
const maxInstallLines = 1000

// continuationIndent starts every continuation line lminstall writes.
const continuationIndent = "    "

func lminstallApplet() *Applet { return newLminstallApplet(isTerminal) }

// newLminstallApplet builds lminstall with the test that decides whether
// standard input is a terminal (tests drive the dialogue through a
// pseudo-terminal or pretend a pipe is one).
func newLminstallApplet(terminal func(io.Reader) bool) *Applet {
	return &Applet{
		Name:    "lminstall",
		Usage:   "lminstall [-i infile|-] [-o outfile] [-overfmt {2|3|4|5|5.1|6|7|7.1}] [-odecimal] [-maxlen n]",
		Summary: "type in decimal licenses; convert licenses between decimal, readable and older formats",
		Description: `lminstall turns license lines typed in the decimal format into a readable
license file, writes readable lines in decimal, and rewrites lines in
the syntax of an older license format. It prints no banner.

Run from a terminal without -i, lminstall asks for the name of the
license file to write (today's date as yyyymmdd.lic when the answer is
empty; an existing file is overwritten only when you say y), then reads
license lines, decimal and readable mixed, until a line holding only q,
two blank lines in a row, or the end of input. Each line is checked as
soon as it is entered: a decimal line typed incorrectly, or a readable
line that does not parse, is reported and asked for again. With -i the
lines come from infile, or from standard input for -i - (as they do when
standard input is not a terminal), and go to standard output unless -o
names a file. More than 1000 input lines are refused.

Every license line is written in canonical form: one line, single
spaces, the keyword in upper case. Comments are kept; lines that do not
parse are reported on standard error and left out. -odecimal writes
every license line in the decimal format. -overfmt writes each line in
the syntax of that FLEXlm release when the release can express the
line: before v7.1 a line's SIGN= value is written as the license key
(golm reads a golm signature in the key field as the line's signature,
so it still verifies); before v6 permanent is 1-jan-0, uncounted is 0
and VENDOR is DAEMON with a path; v2 has only the positional "vendor
string" and hostid (ck= is dropped), v3 brings keyword=value
attributes and UPGRADE, v4 DUP_GROUP and OVERDRAFT, v5 hostid lists,
PACKAGE, USE_SERVER, options= and port=, v5.1 PLATFORMS, v6 START.
Attributes of releases after v7.1 (BORROW, TS_OK, ...) are not
converted. A line that cannot be converted is reported as
"file:line: cannot convert to vN: reason" and written unchanged.
Without -overfmt every line keeps its own format. -maxlen n breaks
lines longer than n characters with \ continuations, continuation lines
indented by four spaces; a word longer than that is reported.

The decimal format is golm's own. A decimal line is one word: the
line's vendor name (or SERVER or USE_SERVER for those lines), a dash,
then groups of five digits separated by dashes, for example

    xyzd-00076-35600-76037-...-82928

It can stand anywhere in a license file among readable lines, and may be
broken after any dash with a \ at the end of the line. Each group holds
four data digits and a check digit (Damm's algorithm), which catches any
single mistyped digit and any swap of two neighbouring digits; the last
group checks the whole line, catching a group left out, typed twice or
moved, and a mistyped vendor name. The digits hold every character of
the canonical line, common keywords in short codes and a SIGN= signature
as its 64 bytes, so a decimal line reads back as exactly the same line
and its signature still verifies. A decimal line typed incorrectly is
reported with its line and column and FlexLM error -99 ("The decimal
format license is typed incorrectly."); a line that cannot be written in
decimal (a vendor name with characters other than letters, digits, _, .
and -, or a line longer than 2000 characters) gets -98 and is written
readable.

The exit status is that of the first problem in the input: 256 plus the
FlexLM error code (157 for -99, 158 for -98, 254 for a syntax error), 1
for a line that cannot be converted or wrapped, or for a usage error.`,
		Flags: func() []cli.Flag {
			return []cli.Flag{
				&cli.StringFlag{Name: "i", Usage: "read license lines from `infile` (- for standard input)"},
				&cli.StringFlag{Name: "o", Usage: "write the license file `outfile` instead of standard output"},
				&cli.StringFlag{Name: "overfmt", Usage: "write lines in the syntax of FLEXlm `version` 2, 3, 4, 5, 5.1, 6, 7 or 7.1"},
				&cli.BoolFlag{Name: "odecimal", Usage: "write license lines in the decimal format"},
				&cli.IntFlag{Name: "maxlen", Usage: "break lines longer than `n` characters with \\ continuations"},
			}
		},
		Action: func(c *cli.Context, env *Env) error { return runLminstall(c, env, terminal) },
	}
}

// installOptions is what the flags ask of the output.
type installOptions struct {
	overfmt  licfile.FlexVersion // 0: every line keeps its format
	decimal  bool
	maxlen   int // 0: no limit
	filename string
}

func runLminstall(c *cli.Context, env *Env, terminal func(io.Reader) bool) error {
	a := Lookup("lminstall")
	if c.NArg() > 0 {
		return usagef(a, "lminstall: unexpected argument %q", c.Args().First())
	}
	opt := installOptions{decimal: c.Bool("odecimal"), maxlen: c.Int("maxlen")}
	if s := c.String("overfmt"); s != "" || c.IsSet("overfmt") {
		v, err := licfile.ParseFlexVersion(s)
		if err != nil {
			return usagef(a, "lminstall: -overfmt: %v", err)
		}
		opt.overfmt = v
	}
	if opt.maxlen < 0 {
		return usagef(a, "lminstall: -maxlen must be a positive number")
	}
	in, out := c.String("i"), c.String("o")

	var src string
	if in == "" && terminal(env.Stdin) {
		d := &dialogue{env: env, r: bufio.NewReader(env.Stdin), opt: &opt}
		var err error
		src, out, err = d.run(out)
		if err != nil || src == "" {
			return err
		}
	} else {
		var r io.Reader = env.Stdin
		opt.filename = "stdin"
		if in != "" && in != "-" {
			f, err := os.Open(env.Path(in))
			if err != nil {
				return fmt.Errorf("lminstall: %s: %w", in, lmerr.FromOS(lmerr.CantReadFile, lmerr.MinorInstallRead, err, "License file: "+in))
			}
			defer f.Close()
			r, opt.filename = f, in
		}
		data, err := readLimited(r)
		if err != nil {
			return err
		}
		src = data
	}

	text, problems := convertLicense(src, opt)
	for _, p := range problems {
		fmt.Fprintln(env.Stderr, p.msg)
	}
	if out == "" {
		if _, err := io.WriteString(env.Stdout, text); err != nil {
			return err
		}
	} else if err := os.WriteFile(env.Path(out), []byte(text), 0o644); err != nil {
		return fmt.Errorf("lminstall: cannot write %s: %w", out, err)
	}
	if len(problems) > 0 {
		return &ExitError{Status: problems[0].status}
	}
	return nil
}

// readLimited reads all of r, refusing more than maxInstallLines lines.
func readLimited(r io.Reader) (string, error) {
	var b strings.Builder
	sc := bufio.NewReader(r)
	lines := 0
	for {
		line, err := sc.ReadString('\n')
		if line != "" {
			lines++
			if lines > maxInstallLines {
				return "", errTooManyLines
			}
			b.WriteString(line)
		}
		if errors.Is(err, io.EOF) {
			return b.String(), nil
		}
		if err != nil {
			return "", err
		}
	}
}

var errTooManyLines = fmt.Errorf("lminstall: more than %d lines of input", maxInstallLines)

// problem is one thing lminstall reports about its input.
type problem struct {
	line   int
	msg    string
	status int // exit status it gives
}

// convertLicense reads a license text of decimal and readable lines and
// writes it as opt asks, with the problems found, in line order.
func convertLicense(src string, opt installOptions) (string, []problem) {
	name := opt.filename
	expanded, decimals, derrs := licfile.ExpandDecimal(src, name)
	f, perr := licfile.Parse(strings.NewReader(expanded), name)
	var problems []problem
	addParseErrors := func(list licfile.ErrorList) {
		for _, e := range list {
			problems = append(problems, problem{e.Line, e.Error(), lmerr.ExitStatus(e.Code)})
		}
	}
	addParseErrors(derrs)
	var plist licfile.ErrorList
	if errors.As(perr, &plist) {
		addParseErrors(plist)
	}

	// Which physical lines each license line covers, so that the lines
	// in between (comments, blank lines) are kept in place.
	starts := map[int]licfile.Line{}
	covered := map[int]bool{}
	for _, l := range f.Order {
		sp := l.LineSpan()
		starts[sp.Pos.Line] = l
		for i := 0; i <= strings.Count(sp.Raw, "\n"); i++ {
			covered[sp.Pos.Line+i] = true
		}
	}
	for _, d := range decimals {
		for i := 0; i < d.Lines; i++ {
			covered[d.Line+i] = true
		}
	}

	var out strings.Builder
	blank := true // no blank line at the start
	for i, raw := range strings.Split(expanded, "\n") {
		n := i + 1
		if l, ok := starts[n]; ok {
			text, ps := renderInstallLine(l, opt)
			problems = append(problems, ps...)
			out.WriteString(text)
			blank = false
			continue
		}
		if covered[n] {
			continue
		}
		trimmed := strings.TrimSpace(raw)
		switch {
		case trimmed == "":
			if !blank {
				out.WriteByte('\n')
			}
			blank = true
		case trimmed[0] == '#':
			out.WriteString(strings.TrimRight(raw, "\r") + "\n")
			blank = false
		}
	}
	text := out.String()
	for strings.HasSuffix(text, "\n\n") {
		text = strings.TrimSuffix(text, "\n")
	}
	if strings.TrimSpace(text) == "" {
		text = ""
	}
	sort.SliceStable(problems, func(i, j int) bool { return problems[i].line < problems[j].line })
	return text, problems
}

// renderInstallLine writes one license line as opt asks, with a newline.
func renderInstallLine(l licfile.Line, opt installOptions) (string, []problem) {
	var problems []problem
	line := l.LineSpan().Pos.Line
	at := fmt.Sprintf("%s:%d: ", opt.filename, line)
	text := l.String()
	if opt.overfmt != 0 {
		conv, err := licfile.Convert(l, opt.overfmt)
		if err != nil {
			problems = append(problems, problem{line, at + err.Error(), 1})
		} else {
			text = conv
		}
	}
	decimal := false
	if opt.decimal {
		dl := l
		if text != l.String() {
			if f, err := licfile.Parse(strings.NewReader(text), opt.filename); err == nil && len(f.Order) == 1 {
				dl = f.Order[0]
			}
		}
		dec, err := licfile.EncodeDecimal(dl)
		if err != nil {
			msg := strings.TrimSuffix(lmerr.Text(lmerr.NoDecimal), ".")
			problems = append(problems, problem{line, at + msg + ": " + err.Error() + " (-98)", lmerr.ExitStatus(lmerr.NoDecimal)})
		} else {
			text, decimal = dec, true
		}
	}
	if opt.overfmt == licfile.FlexV2 && opt.maxlen > 0 && len(text) > opt.maxlen {
		// FLEXlm v2 reads no \ continuations: a v2 line stays whole.
		problems = append(problems, problem{line, at + "v2 has no line continuations: the line is longer than -maxlen " + strconv.Itoa(opt.maxlen), 1})
		return text + "\n", problems
	}
	lines, ok := wrapLine(text, opt.maxlen, decimal)
	if !ok {
		problems = append(problems, problem{line, at + "a word does not fit in -maxlen " + strconv.Itoa(opt.maxlen), 1})
	}
	return strings.Join(lines, "\n") + "\n", problems
}

// wrapLine breaks a line into physical lines of at most n characters,
// each but the last ending in \ (a decimal line is broken after a dash
// and joined back without a blank). n of 0 leaves the line whole. ok is
// false when some word is too long to fit.
func wrapLine(text string, n int, decimal bool) (lines []string, ok bool) {
	if n <= 0 || len(text) <= n {
		return []string{text}, true
	}
	var words []string
	sep := " "
	if decimal {
		words = strings.SplitAfter(text, "-")
		sep = ""
	} else {
		words = splitWords(text)
	}
	ok = true
	cur := ""
	for i, w := range words {
		if cur == "" {
			cur = w
			continue
		}
		// A line that goes on must keep room for its " \" (or "\").
		limit := n - len(sep) - 1
		if i == len(words)-1 {
			limit = n
		}
		if next := cur + sep + w; len(next) <= limit {
			cur = next
			continue
		}
		lines = append(lines, cur+sep+`\`)
		cur = continuationIndent + w
	}
	lines = append(lines, cur)
	for _, l := range lines {
		if len(l) > n {
			ok = false
		}
	}
	return lines, ok
}

// splitWords cuts a canonical line at its blanks, keeping "quoted
// values" whole.
func splitWords(s string) []string {
	var words []string
	start, quoted := 0, false
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '"':
			quoted = !quoted
		case ' ':
			if !quoted {
				if i > start {
					words = append(words, s[start:i])
				}
				start = i + 1
			}
		}
	}
	if start < len(s) {
		words = append(words, s[start:])
	}
	return words
}
