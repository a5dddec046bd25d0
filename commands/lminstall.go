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
		Name:        "lminstall",
		Usage:       "lminstall [-i infile|-] [-o outfile] [-overfmt {2|3|4|5|5.1|6|7|7.1}] [-odecimal] [-maxlen n]",
		Summary:     "type in decimal licenses; convert licenses between decimal, readable and older formats",
		Description: manText("lminstall"),
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
