//go:build linux

package reportlog

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"
)

// openNoSymlinks opens path with flag (and mode, when flag creates)
// following no symbolic link in any of its components: openat2(2) with
// RESOLVE_NO_SYMLINKS, or, where the kernel or a seccomp filter lacks it,
// a walk that opens one component at a time with O_NOFOLLOW. A symbolic
// link anywhere fails with an error wrapping ErrNotRegular.
func openNoSymlinks(path string, flag int, mode fs.FileMode) (*os.File, error) {
	how := unix.OpenHow{Flags: uint64(flag | unix.O_CLOEXEC | unix.O_NOFOLLOW), Resolve: unix.RESOLVE_NO_SYMLINKS}
	if flag&os.O_CREATE != 0 {
		how.Mode = uint64(mode.Perm())
	}
	for tries := 0; ; tries++ {
		fd, err := unix.Openat2(unix.AT_FDCWD, path, &how)
		switch {
		case err == nil:
			return os.NewFile(uintptr(fd), path), nil
		case (err == unix.EINTR || err == unix.EAGAIN) && tries < 100:
			continue
		case err == unix.ENOSYS || err == unix.EPERM || err == unix.E2BIG:
			return openWalk(path, flag, mode)
		case err == unix.ENOTDIR && isLink(unix.AT_FDCWD, path):
			err = unix.ELOOP
		}
		return nil, openError(path, err)
	}
}

// openWalk is openNoSymlinks without openat2: each directory of path is
// opened from the one before with O_PATH|O_DIRECTORY|O_NOFOLLOW, and the
// last component from its directory with O_NOFOLLOW.
func openWalk(path string, flag int, mode fs.FileMode) (*os.File, error) {
	dir, base := filepath.Split(path)
	if base == "" || base == "." || base == ".." {
		dir, base = path, "."
	}
	dfd, err := openDirWalk(path, dir)
	if err != nil {
		return nil, err
	}
	defer unix.Close(dfd)
	for {
		fd, err := unix.Openat(dfd, base, flag|unix.O_CLOEXEC|unix.O_NOFOLLOW, uint32(mode.Perm()))
		if err == unix.EINTR {
			continue
		}
		if err == unix.ENOTDIR && isLink(dfd, base) {
			err = unix.ELOOP
		}
		if err != nil {
			return nil, openError(path, err)
		}
		return os.NewFile(uintptr(fd), path), nil
	}
}

// openDirWalk opens dir (a directory of path) as an O_PATH descriptor,
// one component at a time, refusing a symbolic link in any of them.
func openDirWalk(path, dir string) (int, error) {
	start := "."
	if filepath.IsAbs(dir) {
		start = "/"
	}
	fd, err := unix.Open(start, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, openError(path, err)
	}
	for _, c := range strings.Split(dir, "/") {
		if c == "" || c == "." {
			continue
		}
		nfd, err := unix.Openat(fd, c, unix.O_PATH|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
		if err == unix.ENOTDIR && isLink(fd, c) {
			err = unix.ELOOP
		}
		unix.Close(fd)
		if err != nil {
			return -1, openError(path, err)
		}
		fd = nfd
	}
	return fd, nil
}

// isLink reports whether name in the directory dfd is a symbolic link:
// O_PATH|O_NOFOLLOW opens a link itself, and O_DIRECTORY then fails with
// ENOTDIR rather than ELOOP.
func isLink(dfd int, name string) bool {
	var st unix.Stat_t
	return unix.Fstatat(dfd, name, &st, unix.AT_SYMLINK_NOFOLLOW) == nil && st.Mode&unix.S_IFMT == unix.S_IFLNK
}

// openDir opens the directory of path for the *at calls below and
// returns it with path's last component.
func openDir(path string) (*os.File, string, error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	d, err := openNoSymlinks(filepath.Clean(dir), unix.O_PATH|unix.O_DIRECTORY, 0)
	if errors.Is(err, ErrNotRegular) {
		return nil, "", symlinkError(path) // named from the whole path
	}
	if err != nil {
		return nil, "", err
	}
	return d, base, nil
}

// linkNoSymlinks makes newPath a second name of oldPath (link(2), which
// never replaces an existing newPath), reaching both through no symbolic
// link.
func linkNoSymlinks(oldPath, newPath string) error {
	return inDirs(oldPath, newPath, "link", func(od int, ob string, nd int, nb string) error {
		return unix.Linkat(od, ob, nd, nb, 0)
	})
}

// inDirs opens the directories of oldPath and newPath through no
// symbolic link and calls f with them and the two base names; f's error
// is reported as op on newPath.
func inDirs(oldPath, newPath, op string, f func(od int, ob string, nd int, nb string) error) error {
	od, obase, err := openDir(oldPath)
	if err != nil {
		return err
	}
	defer od.Close()
	nd, nbase, err := openDir(newPath)
	if err != nil {
		return err
	}
	defer nd.Close()
	if err := f(int(od.Fd()), obase, int(nd.Fd()), nbase); err != nil {
		return &fs.PathError{Op: op, Path: newPath, Err: err}
	}
	return nil
}

// removeNoSymlinks removes the file path, reached through no symbolic
// link.
func removeNoSymlinks(path string) error {
	d, base, err := openDir(path)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := unix.Unlinkat(int(d.Fd()), base, 0); err != nil {
		return &fs.PathError{Op: "remove", Path: path, Err: err}
	}
	return nil
}

// openError is the error of opening path: a symbolic link met on the way
// wraps ErrNotRegular, anything else is a *fs.PathError.
func openError(path string, err error) error {
	if errors.Is(err, unix.ELOOP) {
		return symlinkError(path)
	}
	return &fs.PathError{Op: "open", Path: path, Err: err}
}

// renameNoSymlinks renames oldPath to newPath, replacing newPath (a
// state file's atomic update), reaching both through no symbolic link.
func renameNoSymlinks(oldPath, newPath string) error {
	return inDirs(oldPath, newPath, "rename", unix.Renameat)
}
