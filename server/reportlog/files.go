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
	"strings"
	"syscall"
)

// ErrNotRegular is wrapped by the errors about report log paths that name
// something other than a regular file: a symbolic link, a directory, a
// device, a FIFO or a socket.
var ErrNotRegular = errors.New("not a regular file")

// ErrNotLog is wrapped by the refusal of an existing file as a log
// target: a report or debug log goes to a new file, or to an existing
// golm log of the same kind and vendor, and nothing else is written,
// renamed or truncated.
var ErrNotLog = errors.New("exists and is not a golm log of this vendor")

// DefaultMode is the permission of report log files the writer creates:
// the vendor daemon's user reads and writes, its group reads.
const DefaultMode fs.FileMode = 0o640

// CleanPath is how the writer treats the paths it is given (REPORTLOG,
// lmswitchr, lmnewlog): cleaned lexically, so "a/../b" is "b" whatever a
// is; ".." components that remain (a path above the working directory)
// are allowed, because only administrators name these paths. No
// component of the cleaned path may be a symbolic link. Relative paths
// are the server's business to resolve against its own directory first.
func CleanPath(p string) (string, error) {
	if p == "" {
		return "", errors.New("empty report log path")
	}
	return filepath.Clean(p), nil
}

// openRegular opens path for writing without following a symbolic link in
// any of its components and without blocking on a FIFO, and refuses
// anything that is not a regular file. flag adds O_CREATE, O_EXCL,
// O_APPEND, ...
func openRegular(path string, flag int, mode fs.FileMode) (*os.File, error) {
	if fi, err := os.Lstat(path); err == nil && !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("report log %s: %w (%s)", path, ErrNotRegular, typeName(fi.Mode()))
	}
	f, err := openNoSymlinks(path, flag|syscall.O_NONBLOCK, mode)
	if err != nil {
		if errors.Is(err, ErrNotRegular) {
			return nil, err
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

// symlinkError is the refusal of path because a component of it is a
// symbolic link; it names the first one it finds.
func symlinkError(path string) error {
	link := path
	p := string(filepath.Separator)
	if !filepath.IsAbs(path) {
		p = ""
	}
	for _, c := range strings.Split(path, string(filepath.Separator)) {
		if c == "" {
			continue
		}
		p = filepath.Join(p, c)
		if fi, err := os.Lstat(p); err == nil && fi.Mode()&fs.ModeSymlink != 0 {
			link = p
			break
		}
	}
	if link == path {
		return fmt.Errorf("report log %s: %w (symbolic link)", path, ErrNotRegular)
	}
	return fmt.Errorf("report log %s: %w (%s is a symbolic link)", path, ErrNotRegular, link)
}

// firstLine returns the first line of f without its newline, read from
// offset 0 whatever f's offset, and whether it ended in a newline.
func firstLine(f *os.File) (string, bool, error) {
	buf := make([]byte, MaxLine+1)
	n, err := f.ReadAt(buf, 0)
	if err != nil && err != io.EOF {
		return "", false, err
	}
	buf = buf[:n]
	if i := bytes.IndexByte(buf, '\n'); i >= 0 {
		return string(buf[:i]), true, nil
	}
	return string(buf), false, nil
}

// CheckReportLog refuses f, an existing file at path, as a report log
// of vendor unless it is one: its first line is a report log header
// naming vendor (any vendor when vendor is ""), or, in a file cut off
// while it was being created, the beginning of a header. An empty file is refused: it may be a file some
// other program reads (a shell's start-up file).
func CheckReportLog(f *os.File, path, vendor string) error {
	line, complete, err := firstLine(f)
	if err != nil {
		return fmt.Errorf("report log: %w", err)
	}
	why := ""
	switch h, herr := ParseHeader(line); {
	case line == "" && !complete:
		why = "it is empty"
	case !complete:
		if !strings.HasPrefix(Magic, line) && !strings.HasPrefix(line, Magic+" ") {
			why = "its first line is not a report log header"
		}
	case herr != nil:
		why = "its first line is not a report log header"
	case vendor != "" && h.Vendor != vendor:
		why = fmt.Sprintf("it is the report log of vendor %s", Escape(h.Vendor))
	}
	if why != "" {
		return fmt.Errorf("report log %s: %w (%s): %s", path, ErrNotLog, vendor, why)
	}
	return nil
}

// IsDebugLogLine reports whether line is a line of vendor's debug log,
// "hh:mm:ss (vendor) text" with the hour padded by a space. It is how an
// existing file is recognised as that vendor's debug log: by its first
// line.
func IsDebugLogLine(line, vendor string) bool {
	if len(line) < 9 || line[2] != ':' || line[5] != ':' || line[8] != ' ' {
		return false
	}
	for _, i := range []int{1, 3, 4, 6, 7} {
		if line[i] < '0' || line[i] > '9' {
			return false
		}
	}
	if line[0] != ' ' && (line[0] < '0' || line[0] > '9') {
		return false
	}
	return strings.HasPrefix(line[9:], "("+vendor+") ")
}

// OpenDebugLog opens path as vendor's debug log (DEBUGLOG, lmswitch) for
// appending, with the report log's rules for paths: no symbolic link in
// any component, only a regular file, and an existing file only if it is
// already vendor's debug log (its first line, IsDebugLogLine), which
// truncate then empties. A file it creates gets mode (DefaultMode when
// 0). Anything else is refused and left as it was.
func OpenDebugLog(path, vendor string, truncate bool, mode fs.FileMode) (*os.File, error) {
	p, err := CleanPath(path)
	if err != nil {
		return nil, err
	}
	if mode == 0 {
		mode = DefaultMode
	}
	flag := os.O_RDWR | os.O_APPEND
	f, err := openRegular(p, flag|os.O_CREATE|os.O_EXCL, mode)
	if !errors.Is(err, fs.ErrExist) {
		return f, err
	}
	if f, err = openRegular(p, flag, mode); err != nil {
		return nil, err
	}
	line, complete, err := firstLine(f)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("report log: %w", err)
	}
	if !IsDebugLogLine(line, vendor) {
		why := "its first line is not a debug log line of " + vendor
		if line == "" && !complete {
			why = "it is empty"
		}
		f.Close()
		return nil, fmt.Errorf("debug log %s: %w (%s): %s", p, ErrNotLog, vendor, why)
	}
	if truncate {
		if err := f.Truncate(0); err != nil {
			f.Close()
			return nil, fmt.Errorf("report log: %w", err)
		}
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
		err := linkNoSymlinks(path, dst)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		if err != nil {
			return "", fmt.Errorf("report log: keeping %s: %w", path, err)
		}
		if err := removeNoSymlinks(path); err != nil {
			return "", fmt.Errorf("report log: keeping %s: %w", path, err)
		}
		return dst, nil
	}
	return "", fmt.Errorf("report log: no free name to keep %s", path)
}

// writeNew writes data to a new file named base, or base.1, base.2, ...
// when base exists, and returns the name it used.
func writeNew(base string, data []byte, mode fs.FileMode) (string, error) {
	name := base
	for n := 1; n < 1000; n++ {
		f, err := openRegular(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
		if errors.Is(err, fs.ErrExist) || errors.Is(err, ErrNotRegular) {
			name = base + "." + strconv.Itoa(n)
			continue
		}
		if err != nil {
			return "", err
		}
		_, err = f.Write(data)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		return name, err
	}
	return "", fmt.Errorf("report log: no free name for %s", base)
}

// renameNoReplace renames old to new unless new exists.
func renameNoReplace(oldPath, newPath string) error {
	if fi, err := os.Lstat(newPath); err == nil {
		if !fi.Mode().IsRegular() {
			return fmt.Errorf("report log %s: %w (%s)", newPath, ErrNotRegular, typeName(fi.Mode()))
		}
		return fmt.Errorf("report log %s: %w", newPath, fs.ErrExist)
	}
	if err := linkNoSymlinks(oldPath, newPath); err != nil {
		if errors.Is(err, ErrNotRegular) {
			return err
		}
		return fmt.Errorf("report log: %w", err)
	}
	if err := removeNoSymlinks(oldPath); err != nil {
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
