//go:build !linux

package reportlog

import (
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
)

// openNoSymlinks opens path with flag (and mode, when flag creates)
// following no symbolic link: each directory of path is checked with
// lstat first and the last component is opened with O_NOFOLLOW. Unlike
// the Linux version this leaves a window between the check and the open.
func openNoSymlinks(path string, flag int, mode fs.FileMode) (*os.File, error) {
	if err := checkDirs(path); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, flag|syscall.O_NOFOLLOW|syscall.O_CLOEXEC, mode)
	if err != nil {
		if pe, ok := err.(*fs.PathError); ok && pe.Err == syscall.ELOOP {
			return nil, symlinkError(path)
		}
		return nil, err
	}
	return f, nil
}

// checkDirs refuses path if one of its directories is a symbolic link.
func checkDirs(path string) error {
	for d := filepath.Dir(path); ; d = filepath.Dir(d) {
		if fi, err := os.Lstat(d); err == nil && fi.Mode()&fs.ModeSymlink != 0 {
			return symlinkError(path)
		}
		if next := filepath.Dir(d); next == d {
			return nil
		}
	}
}

func linkNoSymlinks(oldPath, newPath string) error {
	if err := checkDirs(oldPath); err != nil {
		return err
	}
	if err := checkDirs(newPath); err != nil {
		return err
	}
	return os.Link(oldPath, newPath)
}

func removeNoSymlinks(path string) error {
	if err := checkDirs(path); err != nil {
		return err
	}
	return os.Remove(path)
}

func renameNoSymlinks(oldPath, newPath string) error {
	if err := checkDirs(oldPath); err != nil {
		return err
	}
	if err := checkDirs(newPath); err != nil {
		return err
	}
	return os.Rename(oldPath, newPath)
}
