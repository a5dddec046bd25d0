package options

import (
	"path/filepath"

	"golm/lmutil/licfile"
)

// Locate returns the options file of a vendor daemon (manual 6.1): the
// path on its DAEMON/VENDOR line (options=path or the fourth field), as
// written, or else vendor.opt in the directory of licenseFile when
// exists reports that it is there. ok is false when the vendor daemon
// has no options file.
func Locate(licenseFile string, v *licfile.Vendor, exists func(path string) bool) (path string, ok bool) {
	if v == nil {
		return "", false
	}
	if v.Options != "" {
		return v.Options, true
	}
	if licenseFile == "" || v.Name == "" {
		return "", false
	}
	p := filepath.Join(filepath.Dir(licenseFile), v.Name+".opt")
	if exists != nil && exists(p) {
		return p, true
	}
	return "", false
}
