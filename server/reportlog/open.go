package reportlog

import (
	"io/fs"
	"os"
)

// OpenFile opens path with flag (os.O_WRONLY|os.O_CREATE|os.O_APPEND,
// ...) under the same rules as the report log's own files: no component
// is followed when it is a symbolic link, a FIFO never blocks the open,
// and anything that is not a regular file (a directory, a device, a
// FIFO, a socket) is refused with an error wrapping ErrNotRegular. A
// file it creates gets mode (DefaultMode when 0). It does not look at
// what an existing file holds: log targets go through OpenWriter and
// OpenDebugLog, which do.
func OpenFile(path string, flag int, mode fs.FileMode) (*os.File, error) {
	p, err := CleanPath(path)
	if err != nil {
		return nil, err
	}
	if mode == 0 {
		mode = DefaultMode
	}
	return openRegular(p, flag, mode)
}
