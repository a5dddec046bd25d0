package reportlog

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
)

// Position is a line of a report log file.
type Position struct {
	File string
	Line int
}

// String renders the position as file:line.
func (p Position) String() string { return fmt.Sprintf("%s:%d", p.File, p.Line) }

// RecordError is a bad line of a report log, or a break in its chain.
type RecordError struct {
	Pos Position
	Err error
}

// Error renders the error as file:line: why.
func (e *RecordError) Error() string { return e.Pos.String() + ": " + e.Err.Error() }

// Unwrap returns the reason.
func (e *RecordError) Unwrap() error { return e.Err }

// Errors a Reader and Verify report, wrapped in a *RecordError.
var (
	ErrTorn  = errors.New("last line cut off (no newline at end of file)")
	ErrLong  = errors.New("line too long")
	ErrHash  = errors.New("hash does not match")
	ErrSeq   = errors.New("sequence number out of order")
	ErrChain = errors.New("file does not continue the file before it")
)

// logFile is one file of a set, with its header.
type logFile struct {
	name   string
	header Header
}

// Reader iterates the records of a set of report log files in chain
// order: the files are put in order by the sequence number in their
// headers, whatever order they were named in.
type Reader struct {
	files []logFile
	idx   int // index in files of the file being read; -1 before the first
	f     *os.File
	br    *bufio.Reader
	pos   Position
	// line is the raw text of the last record returned (no '\n').
	line string
	// onFile, if set, is called when the Reader starts reading file idx.
	onFile func(idx int)
}

// Open opens report log files for reading. Each file's header is read
// and checked; the files are ordered by it.
func Open(files ...string) (*Reader, error) {
	r := &Reader{idx: -1}
	for _, name := range files {
		h, err := readHeader(name)
		if err != nil {
			return nil, err
		}
		r.files = append(r.files, logFile{name: name, header: h})
	}
	sort.SliceStable(r.files, func(i, j int) bool { return r.files[i].header.Seq < r.files[j].header.Seq })
	return r, nil
}

// Files returns the files in the order they are read.
func (r *Reader) Files() []string {
	out := make([]string, len(r.files))
	for i, f := range r.files {
		out[i] = f.name
	}
	return out
}

func readHeader(name string) (Header, error) {
	f, err := os.Open(name)
	if err != nil {
		return Header{}, err
	}
	defer f.Close()
	line, err := readLine(bufio.NewReader(f))
	if err == io.EOF {
		return Header{}, &RecordError{Position{name, 1}, fmt.Errorf("%w: empty file", ErrHeader)}
	}
	if err != nil {
		return Header{}, &RecordError{Position{name, 1}, err}
	}
	h, err := ParseHeader(line)
	if err != nil {
		if strings.HasPrefix(line, StateMagic) {
			err = fmt.Errorf("%w: a state file, not a report log", ErrHeader)
		}
		return Header{}, &RecordError{Position{name, 1}, err}
	}
	return h, nil
}

// readLine returns the next line without its '\n'; io.EOF at the end, and
// ErrTorn for a last line without '\n'.
func readLine(br *bufio.Reader) (string, error) {
	var buf []byte
	for {
		chunk, err := br.ReadSlice('\n')
		buf = append(buf, chunk...)
		if len(buf) > MaxLine+1 {
			return "", ErrLong
		}
		switch {
		case err == nil:
			return string(buf[:len(buf)-1]), nil
		case errors.Is(err, bufio.ErrBufferFull):
			continue
		case err == io.EOF && len(buf) == 0:
			return "", io.EOF
		case err == io.EOF:
			return "", ErrTorn
		default:
			return "", err
		}
	}
}

// Next returns the next record; io.EOF after the last one. A line that is
// not a record is returned as a *RecordError, after which the Reader
// moves on to the next file.
func (r *Reader) Next() (Record, error) {
	for {
		if r.br == nil {
			if err := r.nextFile(); err != nil {
				return Record{}, err
			}
		}
		line, err := readLine(r.br)
		r.pos.Line++
		if err == io.EOF {
			r.closeFile()
			continue
		}
		if err != nil {
			r.closeFile()
			return Record{}, &RecordError{r.pos, err}
		}
		rec, err := ParseRecord(line)
		if err != nil {
			return Record{}, &RecordError{r.pos, err}
		}
		r.line = line
		return rec, nil
	}
}

// Pos returns the position of the line Next read last.
func (r *Reader) Pos() Position { return r.pos }

func (r *Reader) nextFile() error {
	if r.idx+1 >= len(r.files) {
		return io.EOF
	}
	r.idx++
	name := r.files[r.idx].name
	f, err := os.Open(name)
	if err != nil {
		return err
	}
	r.f, r.br = f, bufio.NewReaderSize(f, 64<<10)
	r.pos = Position{File: name, Line: 1}
	if r.onFile != nil {
		r.onFile(r.idx)
	}
	if _, err := readLine(r.br); err != nil { // the header, checked by Open
		r.closeFile()
		return &RecordError{r.pos, err}
	}
	return nil
}

func (r *Reader) closeFile() {
	if r.f != nil {
		r.f.Close()
	}
	r.f, r.br = nil, nil
}

// Close releases the file being read.
func (r *Reader) Close() error {
	r.closeFile()
	r.idx = len(r.files)
	return nil
}

// ReadAll returns every record of the files in chain order; it stops at
// the first bad line.
func ReadAll(files ...string) ([]Record, error) {
	r, err := Open(files...)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	var out []Record
	for {
		rec, err := r.Next()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		out = append(out, rec)
	}
}

// Summary describes a verified set of report log files.
type Summary struct {
	Files   int
	Records int
	First   uint64 // first sequence number (0 if no record)
	Last    uint64 // last sequence number
}

// Verify checks a set of report log files as one chain: every line well
// formed, every record's hash computed from the record before it, the
// sequence without gap or repeat, and each file's header continuing the
// file before it. It returns the first problem as a *RecordError naming
// the file and line; a gap or fork between files (CheckSet) is reported
// before any problem inside a file.
func Verify(files ...string) (Summary, error) {
	var s Summary
	r, err := Open(files...)
	if err != nil {
		return s, err
	}
	defer r.Close()
	// Gaps and forks between files first: they name both files.
	probs, err := CheckSet(files...)
	if err != nil {
		return s, err
	}
	if len(probs) > 0 {
		s.Files = len(r.files)
		return s, probs[0]
	}
	s.Files = len(r.files)
	var prev string
	var last uint64
	var chainErr error
	r.onFile = func(idx int) {
		h := r.files[idx].header
		if idx == 0 {
			prev, last, s.First = h.Prev, h.Seq-1, h.Seq
			if h.Seq == 1 && h.Prev != Genesis {
				chainErr = &RecordError{Position{r.files[0].name, 1}, fmt.Errorf("%w: seq 1 must follow prev=%s", ErrChain, Genesis)}
			}
			return
		}
		if chainErr != nil {
			return
		}
		pos, before := Position{r.files[idx].name, 1}, r.files[idx-1].name
		switch {
		case h.Seq != last+1:
			chainErr = &RecordError{pos, fmt.Errorf("%w: it starts at seq %d, but %s ends at seq %d", ErrChain, h.Seq, before, last)}
		case h.Prev != prev:
			chainErr = &RecordError{pos, fmt.Errorf("%w: its prev=%s is not the hash %s of the last record of %s", ErrChain, h.Prev, prev, before)}
		}
	}
	for {
		rec, err := r.Next()
		if chainErr != nil {
			return s, chainErr
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return s, err
		}
		if rec.Seq != last+1 {
			return s, &RecordError{r.pos, fmt.Errorf("%w: seq %d after %d", ErrSeq, rec.Seq, last)}
		}
		if ChainHash(prev, Body(r.line)) != rec.Hash {
			return s, &RecordError{r.pos, fmt.Errorf("%w: seq %d was altered, or a record before it is missing", ErrHash, rec.Seq)}
		}
		prev, last = rec.Hash, rec.Seq
		s.Records++
	}
	if s.Records > 0 {
		s.Last = last
	} else {
		s.First = 0
	}
	return s, nil
}
