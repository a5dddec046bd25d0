package server

import (
	"errors"
	"fmt"
	"os"

	"golm/lmutil/licfile"
)

// ErrKeptLastGood is returned by a reread that found the license files
// unusable (a syntax error in any of them, or no line the vendor daemon
// can serve) and kept serving the last good ones. A license file caught
// half written by an editor, truncated or overwritten must not take every
// feature away from running clients.
var ErrKeptLastGood = errors.New("still serving the last good license file")

// checkRereadable parses every license file strictly: an unreadable file,
// any bad line, or files without a SERVER, a VENDOR or a FEATURE line
// (emptied, or cut short) are an error naming the first problem.
func checkRereadable(paths []string) error {
	var servers, vendors, features int
	for _, p := range paths {
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		lf, err := licfile.Parse(f, p)
		f.Close()
		if err != nil {
			var list licfile.ErrorList
			if errors.As(err, &list) && len(list) > 1 {
				return fmt.Errorf("%v (and %d more errors)", list[0], len(list)-1)
			}
			return err
		}
		servers += len(lf.Servers)
		vendors += len(lf.Vendors)
		features += len(lf.Features)
	}
	switch {
	case servers == 0:
		return errors.New("no SERVER line")
	case vendors == 0:
		return errors.New("no VENDOR or DAEMON line")
	case features == 0:
		return errors.New("no FEATURE or INCREMENT line")
	}
	return nil
}
