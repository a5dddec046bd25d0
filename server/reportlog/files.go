package reportlog

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
)

// ErrNotRegular is wrapped by the errors about report log paths that name
// something other than a regular file: a symbolic link, a directory, a
// device, a FIFO or a socket.
var ErrNotRegular = errors.New("not a regular file")

// DefaultMode is the permission of report log files the writer creates:
// the vendor daemon's user reads and writes, its group reads.
const DefaultMode fs.FileMode = 0o640

// CleanPath is how the writer treats the paths it is given (REPORTLOG,
// lmswitchr, lmnewlog): cleaned lexically, so "a/../b" is "b"; ".."
// components that remain (a path above the working directory) are allowed,
// because only administrators name these paths. Relative paths are the
// server's business to resolve against its own directory first.
func CleanPath(p string) (string, error) {
	if p == "" {
		return "", errors.New("empty report log path")
	}
	return filepath.Clean(p), nil
}

// openRegular opens path for writing without following a symbolic link in
// its last component and without blocking on a FIFO, and refuses anything
// that is not a regular file. flag adds O_CREATE, O_EXCL, O_APPEND, ...
func openRegular(path string, flag int, mode fs.FileMode) (*os.File, error) {
	if fi, err := os.Lstat(path); err == nil && !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("report log %s: %w (%s)", path, ErrNotRegular, typeName(fi.Mode()))
	}
	f, err := os.OpenFile(path, flag|syscall.O_NOFOLLOW|syscall.O_NONBLOCK|syscall.O_CLOEXEC, mode)
	if err != nil {
		if errors.Is(err, syscall.ELOOP) {
			return nil, fmt.Errorf("report log %s: %w (symbolic link)", path, ErrNotRegular)
		}
		return nil, fmt.Errorf("report log: %w", err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("report log: %w", err)
	}
	if !fi.Mode().IsRegular() {
		f.Close()
		return nil, fmt.Errorf("report log %s: %w (%s)", path, ErrNotRegular, typeName(fi.Mode()))
	}
	return f, nil
}

func typeName(m fs.FileMode) string {
	switch {
	case m&fs.ModeSymlink != 0:
		return "symbolic link"
	case m.IsDir():
		return "directory"
	case m&fs.ModeDevice != 0:
		return "device"
	case m&fs.ModeNamedPipe != 0:
		return "FIFO"
	case m&fs.ModeSocket != 0:
		return "socket"
	}
	return "special file"
}

// moveAside gives the existing file at path the first free name path.N
// (N = 1, 2, ...), so higher numbers are newer. It never replaces an
// existing file: the new name is made with link(2), which fails if it
// exists. It returns the new name.
func moveAside(path string) (string, error) {
	for n := 1; n < 100000; n++ {
		dst := path + "." + strconv.Itoa(n)
		err := os.Link(path, dst)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		if err != nil {
			return "", fmt.Errorf("report log: keeping %s: %w", path, err)
		}
		if err := os.Remove(path); err != nil {
			return "", fmt.Errorf("report log: keeping %s: %w", path, err)
		}
		return dst, nil
	}
	return "", fmt.Errorf("report log: no free name to keep %s", path)
}

// renameNoReplace renames old to new unless new exists.
func renameNoReplace(oldPath, newPath string) error {
	if fi, err := os.Lstat(newPath); err == nil {
		if !fi.Mode().IsRegular() {
			return fmt.Errorf("report log %s: %w (%s)", newPath, ErrNotRegular, typeName(fi.Mode()))
		}
		return fmt.Errorf("report log %s: %w", newPath, fs.ErrExist)
	}
	if err := os.Link(oldPath, newPath); err != nil {
		return fmt.Errorf("report log: %w", err)
	}
	if err := os.Remove(oldPath); err != nil {
		return fmt.Errorf("report log: %w", err)
	}
	return nil
}

// tail is what the end of an existing report log says about its chain.
type tail struct {
	empty bool   // the file has no header (zero length)
	seq   uint64 // next sequence number
	prev  string // hash of the last good record
	good  int64  // length of the file up to the end of the last good line
	torn  []byte // bytes after the last '\n' (a line cut by a crash)
}

// ErrTail is wrapped when the last line of a report log is not a record
// chained to the line before it.
var ErrTail = errors.New("report log tail does not verify")

// readTail reads the last lines of f (at most 3*(MaxLine+1) bytes from
// the end: a torn fragment and two complete lines) and checks that the last complete line is a record whose hash
// follows from the line before it (a record or the header).
func readTail(f *os.File) (tail, error) {
	fi, err := f.Stat()
	if err != nil {
		return tail{}, err
	}
	size := fi.Size()
	if size == 0 {
		return tail{empty: true, seq: 1, prev: Genesis}, nil
	}
	start := max(size-3*(MaxLine+1), 0)
	buf := make([]byte, size-start)
	if _, err := f.ReadAt(buf, start); err != nil && err != io.EOF {
		return tail{}, err
	}
	var t tail
	nl := bytes.LastIndexByte(buf, '\n')
	if nl < 0 {
		if start > 0 {
			return tail{}, fmt.Errorf("%w: last line longer than %d bytes", ErrTail, MaxLine)
		}
		// Not even a complete header: a file cut while it was created.
		return tail{empty: true, seq: 1, prev: Genesis, torn: buf}, nil
	}
	t.torn = buf[nl+1:]
	t.good = start + int64(nl) + 1
	lines := bytes.Split(buf[:nl], []byte{'\n'})
	last := string(lines[len(lines)-1])
	if start == 0 && len(lines) == 1 {
		h, err := ParseHeader(last)
		if err != nil {
			return tail{}, fmt.Errorf("%w: %v", ErrTail, err)
		}
		t.seq, t.prev = h.Seq, h.Prev
		return t, nil
	}
	if len(lines) < 2 || start > 0 && len(lines) < 3 {
		return tail{}, fmt.Errorf("%w: last line longer than %d bytes", ErrTail, MaxLine)
	}
	rec, err := ParseRecord(last)
	if err != nil {
		return tail{}, fmt.Errorf("%w: %v", ErrTail, err)
	}
	before := string(lines[len(lines)-2])
	var prevHash string
	var prevSeq uint64
	if start == 0 && len(lines) == 2 {
		h, err := ParseHeader(before)
		if err != nil {
			return tail{}, fmt.Errorf("%w: %v", ErrTail, err)
		}
		prevHash, prevSeq = h.Prev, h.Seq-1
	} else {
		p, err := ParseRecord(before)
		if err != nil {
			return tail{}, fmt.Errorf("%w: line before last: %v", ErrTail, err)
		}
		prevHash, prevSeq = p.Hash, p.Seq
	}
	if rec.Seq != prevSeq+1 {
		return tail{}, fmt.Errorf("%w: seq %d follows %d", ErrTail, rec.Seq, prevSeq)
	}
	if ChainHash(prevHash, Body(last)) != rec.Hash {
		return tail{}, fmt.Errorf("%w: hash of seq %d", ErrTail, rec.Seq)
	}
	t.seq, t.prev = rec.Seq+1, rec.Hash
	return t, nil
}
