package server

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"unicode/utf8"

	"golm/lmutil/licfile"
	"golm/lmutil/options"
	"golm/lmutil/protocol/lmerr"
)

// ErrKeptLastGood is returned by a reread that found the license files
// unusable (a syntax error in any of them, or no line the vendor daemon
// can serve) and kept serving the last good ones. A license file caught
// half written by an editor, truncated or overwritten must not take every
// feature away from running clients.
var ErrKeptLastGood = errors.New("still serving the last good license file")

// ErrKeptOptions is returned by a reread whose options file has a bad
// line that restricts access (or cannot be read): the options in force
// stay, since dropping the line could only widen access.
var ErrKeptOptions = errors.New("still applying the options in force")

// maxRefusalDetail bounds the file:line lines an lmreread refusal
// carries to its caller; the debug log has every one.
const (
	maxRefusalDetail = 10
	maxDetailLen     = 300
)

// parseRereadable parses every license file strictly and returns them:
// an unreadable file, any bad line, or files without a SERVER, a VENDOR
// or a FEATURE line (emptied, or cut short) are an error naming the
// first problem.
func parseRereadable(paths []string) ([]*licfile.File, error) {
	var servers, vendors, features int
	var files []*licfile.File
	for _, p := range paths {
		f, err := os.Open(p)
		if err != nil {
			return nil, err
		}
		lf, err := licfile.Parse(f, p)
		f.Close()
		if err != nil {
			return nil, err
		}
		files = append(files, lf)
		servers += len(lf.Servers)
		vendors += len(lf.Vendors)
		features += len(lf.Features)
	}
	switch {
	case servers == 0:
		return nil, errors.New("no SERVER line")
	case vendors == 0:
		return nil, errors.New("no VENDOR or DAEMON line")
	case features == 0:
		return nil, errors.New("no FEATURE or INCREMENT line")
	}
	return files, nil
}

// Refusal is why lmgrd refuses an lmreread before passing it on: the
// debug log line and the error lmreread's caller is sent, whose Detail
// lines say file:line: message (code) for each problem.
type Refusal struct {
	Log string
	Err *lmerr.Error
}

// checkReread checks what an lmreread would make the vendor daemons read
// (all of them, or only vendor): the license files parse strictly, and
// the options file of each vendor daemon has no bad line that restricts
// access. The vendor daemons would refuse the same files; here lmreread
// hears why. nil when the reread may go ahead.
func checkReread(paths []string, vendor string) *Refusal {
	_, r := readForReread(paths, vendor)
	return r
}

// readForReread is checkReread, returning the files it parsed when the
// reread may go ahead.
func readForReread(paths []string, vendor string) ([]*licfile.File, *Refusal) {
	files, err := parseRereadable(paths)
	if err != nil {
		var e *lmerr.Error
		var pe *fs.PathError
		if errors.As(err, &pe) { // the file cannot be read at all
			e = lmerr.FromOS(lmerr.CantReadFile, lmerr.MinorRereadUnreadable, err, clip(pe.Path+": "+pe.Err.Error()))
		} else {
			e = lmerr.New(lmerr.BadFile, lmerr.MinorRereadSyntax, errorLines(err)...)
		}
		return nil, &Refusal{Log: fmt.Sprintf("Reread of license file failed: %v; %v", firstError(err), ErrKeptLastGood), Err: e}
	}
	for _, name := range vendorNames(files) {
		if vendor != "" && name != vendor {
			continue
		}
		path, named := optionsPath(name, files)
		o, _ := readOptions(path, named)
		if o == nil || len(o.Closures) == 0 {
			continue
		}
		var detail []string
		for _, c := range o.Closures {
			detail = append(detail, c.Err.Error())
		}
		detail = dedupe(detail)
		code, minor := lmerr.BadFile, lmerr.MinorRereadOptionsSyntax
		if errors.Is(o.Closures[0].Err, options.ErrUnreadable) {
			code, minor = lmerr.CantReadFile, lmerr.MinorRereadOptionsNoFile
		}
		e := lmerr.New(code, minor, bound(detail)...)
		more := ""
		if len(detail) > 1 {
			more = fmt.Sprintf(" (and %d more errors)", len(detail)-1)
		}
		return nil, &Refusal{Log: fmt.Sprintf("Reread of options file failed: %v%s; %v", o.Closures[0].Err, more, ErrKeptOptions), Err: e}
	}
	return files, nil
}

// vendorNames are the vendor daemons of the license files, in order.
func vendorNames(files []*licfile.File) []string {
	var out []string
	seen := map[string]bool{}
	for _, f := range files {
		for _, v := range f.Vendors {
			if !seen[v.Name] {
				seen[v.Name] = true
				out = append(out, v.Name)
			}
		}
	}
	return out
}

// errorLines is one line per error of err (an ErrorList has several),
// bounded.
func errorLines(err error) []string {
	var list licfile.ErrorList
	if errors.As(err, &list) {
		lines := make([]string, len(list))
		for i, e := range list {
			lines[i] = e.Error()
		}
		return bound(lines)
	}
	return []string{clip(err.Error())}
}

// firstError is err, or the first error of an ErrorList with a count of
// the others.
func firstError(err error) error {
	var list licfile.ErrorList
	if errors.As(err, &list) && len(list) > 1 {
		return fmt.Errorf("%v (and %d more errors)", list[0], len(list)-1)
	}
	return err
}

// bound keeps the first maxRefusalDetail lines, each clipped, and says
// how many more there are.
func bound(lines []string) []string {
	out := make([]string, 0, min(len(lines), maxRefusalDetail+1))
	for i, l := range lines {
		if i == maxRefusalDetail {
			out = append(out, fmt.Sprintf("(and %d more errors: see the debug log)", len(lines)-i))
			break
		}
		out = append(out, clip(l))
	}
	return out
}

// clip cuts a line to about maxDetailLen bytes, at a character boundary.
func clip(s string) string {
	if len(s) <= maxDetailLen {
		return s
	}
	i := maxDetailLen
	for i > 0 && !utf8.RuneStart(s[i]) {
		i--
	}
	return s[:i] + "..."
}

// dedupe drops repeated lines, keeping the order.
func dedupe(lines []string) []string {
	seen := map[string]bool{}
	out := lines[:0]
	for _, l := range lines {
		if !seen[l] {
			seen[l] = true
			out = append(out, l)
		}
	}
	return out
}
