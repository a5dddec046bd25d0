package server

import (
	"errors"
	"fmt"
	"os"
	"time"

	"golm/lmutil/licfile"
	"golm/lmutil/server/state"
)

// LoadLicenses reads and parses the license files of paths. A file with
// bad lines still yields its good ones; every bad line is written to log.
// A file that cannot be read is an error.
func LoadLicenses(paths []string, log *DebugLog) ([]*licfile.File, error) {
	var files []*licfile.File
	for _, p := range paths {
		f, err := os.Open(p)
		if err != nil {
			return nil, err
		}
		lf, perr := licfile.Parse(f, p)
		f.Close()
		if perr != nil {
			var list licfile.ErrorList
			if errors.As(perr, &list) {
				for _, e := range list {
					log.Printf("%v", e)
				}
			} else {
				log.Printf("%v", perr)
			}
		}
		if lf == nil {
			return nil, perr
		}
		files = append(files, lf)
	}
	if log.Daemon() == "lmgrd" {
		// Vendor daemons load the same files: lmgrd alone says it once.
		logUnservedVendors(files, log)
	}
	return files, nil
}

// logUnservedVendors writes one line for each vendor that FEATURE,
// INCREMENT or UPGRADE lines name but no VENDOR or DAEMON line of the
// files does: no vendor daemon is started for it, so its counted lines
// are served by nobody (a misspelt vendor name, or a line pasted into the
// wrong file). The first such line is named.
func logUnservedVendors(files []*licfile.File, log *DebugLog) {
	known := map[string]bool{}
	for _, f := range files {
		for _, v := range f.Vendors {
			known[v.Name] = true
		}
	}
	for _, f := range files {
		for _, ft := range f.Features {
			if known[ft.Vendor] {
				continue
			}
			known[ft.Vendor] = true
			log.Printf("No VENDOR or DAEMON line for vendor %s: its lines are not served (%s: %s)", ft.Vendor, lineRef(ft), ft.Name)
		}
	}
}

// verifiedLines returns vendor's FEATURE, INCREMENT and UPGRADE lines of
// files whose signature verifies with the key keys trusts for their file
// (keys.go). Lines that fail are logged as "BAD CODE for f1" and left
// out; expired lines are logged as "EXPIRED: f1" and kept, so that a
// checkout is told why it fails.
func verifiedLines(vendor string, files []*licfile.File, keys *keyRing, now time.Time, log *DebugLog) []*licfile.Feature {
	var out []*licfile.Feature
	for _, f := range files {
		var mine []*licfile.Feature
		for _, ft := range f.Features {
			if ft.Vendor == vendor {
				mine = append(mine, ft)
			}
		}
		if len(mine) == 0 {
			continue
		}
		key, kerr := keys.forFile(f.Name)
		var errs []error
		if kerr == nil {
			lines := make([]licfile.Line, len(mine))
			for i, ft := range mine {
				lines[i] = ft
			}
			errs = licfile.VerifyAll(key.Key, f, lines)
		}
		for i, ft := range mine {
			err := kerr
			if err == nil {
				err = errs[i]
			}
			if err != nil {
				log.Printf("BAD CODE for %s", ft.Name)
				log.Printf("  %s: %v", lineRef(ft), err)
				continue
			}
			if state.Expired(ft.Expiry, now) {
				log.Printf("EXPIRED: %s", ft.Name)
			}
			out = append(out, ft)
		}
	}
	return out
}

// verifiedPackages returns vendor's PACKAGE lines of files whose signature
// verifies, as verifiedLines does for FEATURE lines; bad ones are logged
// as "BAD CODE for pkg" and left out.
func verifiedPackages(vendor string, files []*licfile.File, keys *keyRing, log *DebugLog) []*licfile.Package {
	var out []*licfile.Package
	for _, f := range files {
		var mine []*licfile.Package
		for _, p := range f.Packages {
			if p.Vendor == vendor {
				mine = append(mine, p)
			}
		}
		if len(mine) == 0 {
			continue
		}
		key, kerr := keys.forFile(f.Name)
		for _, p := range mine {
			err := kerr
			if err == nil {
				err = licfile.Verify(key.Key, f, p)
			}
			if err != nil {
				log.Printf("BAD CODE for %s", p.Name)
				log.Printf("  %s:%d: %v", p.Pos.File, p.Pos.Line, err)
				continue
			}
			out = append(out, p)
		}
	}
	return out
}

func lineRef(f *licfile.Feature) string {
	if f.Pos.File == "" {
		return fmt.Sprintf("line %d", f.Pos.Line)
	}
	return fmt.Sprintf("%s:%d", f.Pos.File, f.Pos.Line)
}
