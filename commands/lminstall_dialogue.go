package commands

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"golm/lmutil/licfile"
)

// dialogue is lminstall run from a terminal without -i (manual 7.8): it
// asks for the output file, then reads license lines, checking each one
// as it is entered.
type dialogue struct {
	env   *Env
	r     *bufio.Reader
	opt   *installOptions
	lines int // physical lines read, for the input limit
}

// readLine reads one line without its line end; io.EOF when input ends
// with nothing left.
func (d *dialogue) readLine() (string, error) {
	s, err := d.r.ReadString('\n')
	if s == "" && err != nil {
		return "", err
	}
	d.lines++
	if d.lines > maxInstallLines {
		return "", errTooManyLines
	}
	return strings.TrimRight(s, "\r\n"), nil
}

func (d *dialogue) say(format string, args ...any) { fmt.Fprintf(d.env.Stdout, format, args...) }

// run holds the whole dialogue. It returns the license text entered (""
// when there is nothing to write) and the output file name.
func (d *dialogue) run(out string) (src, name string, err error) {
	name = out
	for name == "" {
		def := d.env.Time().Format("20060102") + ".lic"
		d.say("Enter the name of the license file to write [%s]: ", def)
		ans, err := d.readLine()
		if err != nil {
			d.say("\n")
			return "", "", ignoreEOF(err)
		}
		name = strings.TrimSpace(ans)
		if name == "" {
			name = def
		}
		if _, err := os.Stat(d.env.Path(name)); err == nil {
			d.say("%s exists. Overwrite it (y/n) [n]? ", name)
			ans, err := d.readLine()
			if err != nil {
				d.say("\n")
				return "", "", ignoreEOF(err)
			}
			if a := strings.ToLower(strings.TrimSpace(ans)); a != "y" && a != "yes" {
				name = ""
			}
		}
	}
	d.opt.filename = name

	d.say("Enter the license lines, decimal or readable, one at a time.\n")
	d.say("End with q on a line by itself or with two blank lines.\n")
	var b strings.Builder
	entered, blanks := 0, 0
	for {
		line, err := d.readLine()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return "", "", err
		}
		t := strings.TrimSpace(line)
		if t == "q" {
			break
		}
		if t == "" {
			blanks++
			if blanks == 2 {
				break
			}
			continue
		}
		blanks = 0
		// A line ending in \ goes on, up to a blank line.
		logical := []string{line}
		for strings.HasSuffix(strings.TrimSpace(line), `\`) {
			line, err = d.readLine()
			if errors.Is(err, io.EOF) || strings.TrimSpace(line) == "" {
				break
			}
			if err != nil {
				return "", "", err
			}
			logical = append(logical, line)
		}
		text := strings.Join(logical, "\n")
		if msg := checkEnteredLine(text); msg != "" {
			d.say("line %d: %s\n", entered+1, msg)
			d.say("Enter line %d again:\n", entered+1)
			continue
		}
		b.WriteString(text + "\n")
		if t[0] != '#' {
			entered++
		}
	}
	if entered == 0 {
		d.say("lminstall: no license lines entered, nothing written\n")
		return "", name, nil
	}
	noun := "lines"
	if entered == 1 {
		noun = "line"
	}
	d.say("lminstall: writing %d license %s to %s\n", entered, noun, name)
	return b.String(), name, nil
}

func ignoreEOF(err error) error {
	if errors.Is(err, io.EOF) {
		return nil
	}
	return err
}

// checkEnteredLine checks one logical line as typed: a comment, a decimal
// line that passes its checks, or a readable line that parses. It returns
// what is wrong, or "".
func checkEnteredLine(text string) string {
	if strings.HasPrefix(strings.TrimSpace(text), "#") {
		return ""
	}
	expanded, _, derrs := licfile.ExpandDecimal(text, "")
	if len(derrs) > 0 {
		return fmt.Sprintf("%v (%d)", derrs[0].Err, derrs[0].Code)
	}
	f, err := licfile.Parse(strings.NewReader(expanded), "")
	var list licfile.ErrorList
	if errors.As(err, &list) && len(list) > 0 {
		return fmt.Sprintf("%v (%d)", list[0].Err, list[0].Code)
	}
	if err != nil {
		return err.Error()
	}
	if len(f.Order) != 1 {
		return "not one license line"
	}
	return ""
}
