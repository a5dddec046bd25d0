package server

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// LockDirEnv names the environment variable that sets the directory of
// the vendor daemon locks (lmgrd -lockdir sets it too, and wins).
const LockDirEnv = "GOLM_LOCKDIR"

// ExitMultiple is the exit status of a vendor daemon that found another
// vendor daemon of its name running on this host. lmgrd does not restart
// it: a second one would only find the first again (lmreread retries).
const ExitMultiple = 4

// ErrMultipleVendor is wrapped by the error LockVendor returns when
// another vendor daemon of the same name holds the lock on this host.
var ErrMultipleVendor = errors.New("multiple vendor daemons")

// MultipleError is another vendor daemon of the same name running on
// this host. Its message is the manual's debug log line.
type MultipleError struct {
	Vendor string
	PID    int    // the holder's pid as it wrote it in the lock file, 0 if unknown
	Path   string // the lock file
}

func (e *MultipleError) Error() string { return MultipleMessage(e.Vendor) }

func (e *MultipleError) Unwrap() error { return ErrMultipleVendor }

// MultipleMessage is the manual's debug log line for a second vendor
// daemon of vendor on one host.
func MultipleMessage(vendor string) string {
	return "MULTIPLE " + vendor + " servers running. Please kill, and restart license daemon."
}

// DefaultLockDir is where vendor daemons take their locks when neither
// lmgrd -lockdir nor GOLM_LOCKDIR says: /run/golm for root, else
// $XDG_RUNTIME_DIR/golm, else /tmp/golm-UID. Each account has its own, so
// that no other local user can take a vendor's name first or remove the
// lock; the price is that vendor daemons of two different accounts do
// not see each other.
func DefaultLockDir(getenv func(string) string) string {
	uid := os.Geteuid()
	if uid == 0 {
		return "/run/golm"
	}
	if d := getenv("XDG_RUNTIME_DIR"); d != "" && filepath.IsAbs(d) {
		return filepath.Join(d, "golm")
	}
	return filepath.Join(os.TempDir(), "golm-"+strconv.Itoa(uid))
}

// LockDir is the lock directory lmgrd uses: flag when not empty, else
// $GOLM_LOCKDIR, else DefaultLockDir.
func LockDir(flag string, getenv func(string) string) string {
	if flag != "" {
		return flag
	}
	if d := getenv(LockDirEnv); d != "" {
		return d
	}
	return DefaultLockDir(getenv)
}

// PrepareLockDir creates dir when it does not exist (0755 for root,
// 0700 otherwise) and checks that it is safe to hold locks in: a real
// directory, not a symbolic link, owned by root or by this process's
// user, writable by nobody else. Anything else could let another user
// take or remove a vendor's lock, so it is refused.
func PrepareLockDir(dir string) error {
	if dir == "" {
		return errors.New("no lock directory")
	}
	perm := fs.FileMode(0o700)
	if os.Geteuid() == 0 {
		perm = 0o755
	}
	if err := os.Mkdir(dir, perm); err != nil && !errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("lock directory %s: %w", dir, pathErr(err))
	}
	st, err := os.Lstat(dir)
	if err != nil {
		return fmt.Errorf("lock directory %s: %w", dir, pathErr(err))
	}
	if !st.IsDir() {
		return fmt.Errorf("lock directory %s is not a directory (a symbolic link or a file); remove it or use lmgrd -lockdir", dir)
	}
	if sys, ok := st.Sys().(*syscall.Stat_t); ok && sys.Uid != 0 && int(sys.Uid) != os.Geteuid() {
		return fmt.Errorf("lock directory %s belongs to uid %d, not to root or uid %d; remove it or use lmgrd -lockdir", dir, sys.Uid, os.Geteuid())
	}
	if st.Mode().Perm()&0o022 != 0 {
		return fmt.Errorf("lock directory %s is writable by group or others (mode %04o); chmod go-w it or use lmgrd -lockdir", dir, st.Mode().Perm())
	}
	// A directory of root's that this user cannot write to: say so now,
	// not when the first vendor daemon fails to create its lock.
	if err := syscall.Access(dir, 0o3); err != nil { // W_OK|X_OK
		return fmt.Errorf("lock directory %s: uid %d cannot create files in it; use lmgrd -lockdir", dir, os.Geteuid())
	}
	return nil
}

// pathErr drops the path an *fs.PathError repeats.
func pathErr(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// VendorLock is the lock a vendor daemon holds while it runs: an flock
// on DIR/VENDOR.lock. The kernel drops it when the process ends, however
// it ends (kill -9 too), so there is never a stale lock to clean up.
type VendorLock struct {
	f *os.File
}

// LockVendor takes the lock of vendor in dir (after PrepareLockDir). When
// another process holds it, the error is a *MultipleError.
func LockVendor(dir, vendor string) (*VendorLock, error) {
	if vendor == "" || vendor == "." || vendor == ".." || strings.ContainsAny(vendor, "/\x00") {
		return nil, fmt.Errorf("bad vendor name %q", vendor)
	}
	if err := PrepareLockDir(dir); err != nil {
		return nil, err
	}
	path := filepath.Join(dir, vendor+".lock")
	// O_NOFOLLOW: a symbolic link planted in place of the lock file is
	// refused rather than followed to a file elsewhere. Mode 0600: flock
	// works on a file opened for reading only, so a lock file others
	// could open would let them hold a shared lock on it and keep the
	// vendor daemon from ever starting.
	fd, err := syscall.Open(path, syscall.O_RDWR|syscall.O_CREAT|syscall.O_NOFOLLOW|syscall.O_CLOEXEC, 0o600)
	if err != nil {
		if errors.Is(err, syscall.ELOOP) {
			return nil, fmt.Errorf("lock file %s is a symbolic link; remove it", path)
		}
		return nil, fmt.Errorf("lock file %s: %w", path, err)
	}
	f := os.NewFile(uintptr(fd), path)
	st, err := f.Stat()
	if err != nil || !st.Mode().IsRegular() {
		f.Close()
		return nil, fmt.Errorf("lock file %s is not a regular file", path)
	}
	if st.Mode().Perm() != 0o600 {
		if err := f.Chmod(0o600); err != nil {
			f.Close()
			return nil, fmt.Errorf("lock file %s: %w", path, pathErr(err))
		}
	}
	if err := syscall.Flock(fd, syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		defer f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			var b [32]byte
			n, _ := f.ReadAt(b[:], 0)
			pid, _ := strconv.Atoi(strings.TrimSpace(string(b[:n])))
			return nil, &MultipleError{Vendor: vendor, PID: pid, Path: path}
		}
		return nil, fmt.Errorf("lock file %s: %w", path, err)
	}
	// The pid is for the administrator and the next vendor daemon's log
	// line; the flock, not the pid, decides.
	if err := f.Truncate(0); err == nil {
		_, _ = f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	return &VendorLock{f: f}, nil
}

// Path is the lock file.
func (l *VendorLock) Path() string { return l.f.Name() }

// Close releases the lock.
func (l *VendorLock) Close() error { return l.f.Close() }
