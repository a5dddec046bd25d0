package reportlog

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// StateMagic starts the state file the writer keeps beside the report
// log it was configured with.
const StateMagic = "#golm-reportlog-state"

// StatePath is the state file of the report log configured as path: a
// hidden file in the same directory, .NAME.state, so that globs such as
// NAME* pick only log files. It names the file the log is currently
// written to, so that a vendor daemon that restarts (lmdown, kill -9)
// after lmswitchr moved the log continues the chain where it left it
// instead of in the file its options name.
func StatePath(path string) string {
	dir, base := filepath.Split(path)
	return filepath.Join(dir, "."+base+".state")
}

// stateLine renders a state file naming current.
func stateLine(vendor, current string) string {
	return fmt.Sprintf("%s %s\tvendor=%s\tcurrent=%s\n", StateMagic, Version, Escape(vendor), Escape(current))
}

// ErrState is wrapped by the errors about a state file that is not one.
var ErrState = errors.New("malformed report log state file")

// readState returns the current file a state file names, "" when there is
// no state file.
func readState(path, vendor string) (string, error) {
	f, err := openRegular(path, os.O_RDONLY, 0)
	if errors.Is(err, fs.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	defer f.Close()
	line, complete, err := firstLine(f)
	if err != nil {
		return "", fmt.Errorf("report log: %w", err)
	}
	fields := strings.Split(line, "\t")
	if !complete || len(fields) != 3 || fields[0] != StateMagic+" "+Version {
		return "", fmt.Errorf("report log %s: %w", path, ErrState)
	}
	v, okV := strings.CutPrefix(fields[1], "vendor=")
	cur, okC := strings.CutPrefix(fields[2], "current=")
	if !okV || !okC {
		return "", fmt.Errorf("report log %s: %w", path, ErrState)
	}
	if v, err = Unescape(v); err != nil || vendor != "" && v != vendor {
		return "", fmt.Errorf("report log %s: %w (vendor %q)", path, ErrState, v)
	}
	if cur, err = Unescape(cur); err != nil || cur == "" {
		return "", fmt.Errorf("report log %s: %w", path, ErrState)
	}
	return cur, nil
}

// writeState replaces the state file at path with one naming current:
// written to a temporary file, synced, renamed over the old one and the
// directory synced, so that a crash leaves the old state or the new one.
func writeState(path, vendor, current string, mode fs.FileMode) error {
	tmp := path + ".tmp"
	if err := removeNoSymlinks(tmp); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	f, err := openRegular(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if err != nil {
		return err
	}
	_, err = f.WriteString(stateLine(vendor, current))
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = renameNoSymlinks(tmp, path)
	}
	if err != nil {
		removeNoSymlinks(tmp)
		return fmt.Errorf("report log: state file %s: %w", path, err)
	}
	syncDir(filepath.Dir(path))
	return nil
}
