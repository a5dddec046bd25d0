package licfile

// File manifests.
//
// Verifying one Ed25519 signature per line costs tens of microseconds, so
// a file of tens of thousands of lines takes most of a second to check.
// SignFile therefore also writes, for each vendor it signs, one manifest:
// a comment line of the fixed form
//
//	# golm-manifest VENDOR lines=N SIGN=<103 base32 characters>
//
// whose signature, made with the same vendor key as the lines, covers the
// signed form (SignedText) and the SIGN= signature of each of the N
// signed lines of that vendor in its block, in file order. FlexNet-format
// readers skip it as a comment; golm's parser records it in
// File.Manifests. Each line keeps its own SIGN=, so a line moved to
// another file still verifies alone.
//
// The block of a manifest is the stretch of the file after the previous
// manifest of the same vendor (or the start of the file) and before the
// manifest itself. Two signed files concatenated thus keep two good
// manifests, and the manifests of two vendors never see each other's
// lines. A manifest line must be a comment of its own (a physical line
// that continues another line is not a comment) and must have exactly the
// form above; anything else is an ordinary comment.
//
// VerifyAll checks each manifest once (one Ed25519 verification and one
// SHA-256 per line). When it holds, each line of its block carries the
// very signed form and signature the publisher signed, which therefore
// verifies: those lines are accepted without their own Ed25519
// verification. When it does not hold (a line edited, added, removed or
// reordered in the block, a SERVER hostid changed, a line of another file
// or vendor moved in, no manifest at all), every line of the block is
// verified alone, exactly as without manifests, so the answer for each
// line is the same either way; only the time differs.
//
// The message the manifest signs is
//
//	golm-manifest-1
//	VENDOR "vendor"
//	LINES n
//	DIGEST <64 hex digits>
//
// where DIGEST is the SHA-256 of the concatenated fixed-size records, one
// per line in file order: SHA-256 of the line's signed form (32 bytes)
// and the line's 64-byte signature. Its first line differs from a line's
// signed form (golm-sig-1), so a manifest signature is never a line
// signature nor the reverse.

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"

	"golm/lmutil/protocol/lmerr"
)

// ManifestVersion starts the message a manifest signs.
const ManifestVersion = "golm-manifest-1"

// manifestTag starts every manifest comment line.
const manifestTag = "# golm-manifest "

// Manifest is a golm-manifest comment line of a license file: one
// signature over the signed lines of one vendor in one block of the file.
type Manifest struct {
	Span
	Vendor string
	Lines  int    // the number of lines it covers, as written
	Sign   string // the SIGN= value
	// Before is the number of lines of File.Order that come before the
	// manifest line: its block ends there.
	Before int
}

// ParseManifestLine parses a manifest comment line, without its line end:
// "# golm-manifest VENDOR lines=N SIGN=SIG". ok is false for any other
// text, which is then an ordinary comment.
func ParseManifestLine(text string) (m Manifest, ok bool) {
	rest, found := strings.CutPrefix(text, manifestTag)
	if !found {
		return Manifest{}, false
	}
	fields := strings.FieldsFunc(rest, func(r rune) bool { return r < 0x80 && isSpace(byte(r)) })
	if len(fields) != 3 {
		return Manifest{}, false
	}
	vendor, count, sign := fields[0], fields[1], fields[2]
	if strings.ContainsAny(vendor, `="`) {
		return Manifest{}, false
	}
	n, found := strings.CutPrefix(count, "lines=")
	if !found || n == "" || len(n) > 9 || !isDigits(n) {
		return Manifest{}, false
	}
	lines, err := strconv.Atoi(n)
	if err != nil || lines < 1 {
		return Manifest{}, false
	}
	sig, found := strings.CutPrefix(sign, "SIGN=")
	if !found || len(sig) != sigTextLen {
		return Manifest{}, false
	}
	if _, err := DecodeSignature(sig); err != nil {
		return Manifest{}, false
	}
	return Manifest{Vendor: vendor, Lines: lines, Sign: sig}, true
}

// String renders the manifest line as SignFile writes it.
func (m *Manifest) String() string {
	return manifestTag + m.Vendor + " lines=" + strconv.Itoa(m.Lines) + " SIGN=" + m.Sign
}

// manifestRecordSize is one line's record: SHA-256 of its signed form and
// its signature.
const manifestRecordSize = sha256.Size + ed25519.SignatureSize

// manifestRecords fills recs (len(lines)*manifestRecordSize bytes) with
// the records of lines, spread over the machine's cores. sigs, when not
// nil, gives each line's signature; otherwise the line's SIGN= is read.
// It reports false when a line has no well-formed SIGN=.
func manifestRecords(recs []byte, lines []Line, servers []*Server, sigs [][]byte) bool {
	fill := func(lo, hi int) bool {
		var buf []byte
		for i := lo; i < hi; i++ {
			rec := recs[i*manifestRecordSize : (i+1)*manifestRecordSize]
			if sigs != nil {
				if len(sigs[i]) != ed25519.SignatureSize {
					return false
				}
				copy(rec[sha256.Size:], sigs[i])
			} else if !decodeSignatureInto(rec[sha256.Size:], lineSign(lines[i])) {
				return false
			}
			buf = appendSignedText(buf[:0], lines[i], servers)
			sum := sha256.Sum256(buf)
			copy(rec, sum[:])
		}
		return true
	}
	workers := min(runtime.GOMAXPROCS(0), len(lines)/256+1)
	if workers <= 1 {
		return fill(0, len(lines))
	}
	var wg sync.WaitGroup
	oks := make([]bool, workers)
	chunk := (len(lines) + workers - 1) / workers
	for w := range workers {
		lo, hi := w*chunk, min((w+1)*chunk, len(lines))
		wg.Add(1)
		go func() {
			defer wg.Done()
			oks[w] = lo >= hi || fill(lo, hi)
		}()
	}
	wg.Wait()
	for _, ok := range oks {
		if !ok {
			return false
		}
	}
	return true
}

// manifestMessage is what a manifest of vendor over records signs.
func manifestMessage(vendor string, n int, recs []byte) []byte {
	sum := sha256.Sum256(recs)
	msg := make([]byte, 0, 128+len(vendor))
	msg = append(msg, ManifestVersion+"\nVENDOR "...)
	msg = strconv.AppendQuote(msg, vendor)
	msg = append(msg, "\nLINES "...)
	msg = strconv.AppendInt(msg, int64(n), 10)
	msg = append(msg, "\nDIGEST "...)
	msg = hex.AppendEncode(msg, sum[:])
	return append(msg, '\n')
}

// base32Value maps the upper-case base32 alphabet to its values and
// every other byte to 0xff.
var base32Value = func() (t [256]byte) {
	for i := range t {
		t[i] = 0xff
	}
	for i, c := range "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567" {
		t[c] = byte(i)
	}
	return t
}()

// decodeSignatureInto decodes a SIGN= value into dst (64 bytes) as
// DecodeSignature does, without allocating for the usual form: 103
// characters of the base32 alphabet in upper case.
func decodeSignatureInto(dst []byte, s string) bool {
	if len(s) == sigTextLen && len(dst) >= ed25519.SignatureSize {
		var bad byte
		// Twelve groups of 8 characters are 60 bytes.
		for g := range 12 {
			var v uint64
			for _, c := range []byte(s[g*8 : g*8+8]) {
				d := base32Value[c]
				bad |= d
				v = v<<5 | uint64(d&31)
			}
			for k := range 5 {
				dst[g*5+k] = byte(v >> (32 - 8*k))
			}
		}
		// The last 7 characters are 35 bits: 4 bytes and 3 bits that,
		// as for encoding/base32, are not looked at.
		var v uint64
		for _, c := range []byte(s[96:]) {
			d := base32Value[c]
			bad |= d
			v = v<<5 | uint64(d&31)
		}
		v >>= 3
		for k := range 4 {
			dst[60+k] = byte(v >> (24 - 8*k))
		}
		if bad&0xe0 == 0 {
			return true
		}
	}
	sig, err := DecodeSignature(s)
	if err != nil {
		return false
	}
	copy(dst, sig)
	return true
}

// signManifest returns the manifest of vendor over lines (the vendor's
// signed lines in file order) with their signatures sigs.
func signManifest(priv ed25519.PrivateKey, vendor string, lines []Line, servers []*Server, sigs [][]byte) (*Manifest, error) {
	recs := make([]byte, len(lines)*manifestRecordSize)
	if !manifestRecords(recs, lines, servers, sigs) {
		return nil, fmt.Errorf("licfile: manifest of vendor %s: a line has no signature", vendor)
	}
	sig := ed25519.Sign(priv, manifestMessage(vendor, len(lines), recs))
	return &Manifest{Vendor: vendor, Lines: len(lines), Sign: EncodeSignature(sig)}, nil
}

// ManifestCheck is the answer for one manifest of a file.
type ManifestCheck struct {
	Manifest *Manifest
	// Lines are the vendor's signed lines of the manifest's block, in
	// file order.
	Lines []Line
	// Err is nil when the manifest holds: then every line of Lines
	// verifies. Otherwise it wraps ErrBadSignature and says why.
	Err error
}

// manifestBlocks returns the manifests of vendor in f with the signed
// lines of their blocks.
func manifestBlocks(f *File, vendor string) []ManifestCheck {
	var out []ManifestCheck
	from := 0
	for _, m := range f.Manifests {
		if m.Vendor != vendor {
			continue
		}
		c := ManifestCheck{Manifest: m}
		for _, l := range f.Order[from:min(max(m.Before, from), len(f.Order))] {
			if Signable(l) && lineVendor(l) == vendor {
				c.Lines = append(c.Lines, l)
			}
		}
		from = max(m.Before, from)
		out = append(out, c)
	}
	return out
}

// check sets c.Err: nil when the manifest holds for its block under pub.
func (c *ManifestCheck) check(pub ed25519.PublicKey, servers []*Server) {
	m := c.Manifest
	fail := func(reason string) { c.Err = sigError(nil, lmerr.MinorManifest, reason) }
	if len(pub) != ed25519.PublicKeySize {
		fail("no public key")
		return
	}
	if m.Lines != len(c.Lines) {
		fail(fmt.Sprintf("manifest of %d lines, %d in its block", m.Lines, len(c.Lines)))
		return
	}
	var sig [ed25519.SignatureSize]byte
	if !decodeSignatureInto(sig[:], m.Sign) {
		fail("manifest SIGN= is not a signature")
		return
	}
	recs := make([]byte, len(c.Lines)*manifestRecordSize)
	if !manifestRecords(recs, c.Lines, servers, nil) {
		fail("a line of the block has no well-formed SIGN=")
		return
	}
	if !ed25519.Verify(pub, manifestMessage(m.Vendor, len(c.Lines), recs), sig[:]) {
		fail("manifest signature does not match the lines of its block")
	}
}

// VerifyManifests checks every manifest of vendor in f with the vendor's
// public key pub, in file order.
func VerifyManifests(pub ed25519.PublicKey, f *File, vendor string) []ManifestCheck {
	if f == nil {
		return nil
	}
	checks := manifestBlocks(f, vendor)
	for i := range checks {
		checks[i].check(pub, f.Servers)
	}
	return checks
}

// manifestCovered returns, for each of lines, whether a manifest of f
// that holds under pub covers it; nil when none does.
func manifestCovered(pub ed25519.PublicKey, f *File, lines []Line) []bool {
	if f == nil || len(f.Manifests) == 0 || len(pub) != ed25519.PublicKeySize || len(lines) == 0 {
		return nil
	}
	find := lineFinder(lines)
	vendors := map[string]bool{}
	for _, l := range lines {
		if Signable(l) {
			vendors[lineVendor(l)] = true
		}
	}
	var covered []bool
	for vendor := range vendors {
		for _, c := range manifestBlocks(f, vendor) {
			found := find(c.Lines)
			if len(found) == 0 {
				continue
			}
			c.check(pub, f.Servers)
			if c.Err != nil {
				continue
			}
			if covered == nil {
				covered = make([]bool, len(lines))
			}
			for _, i := range found {
				covered[i] = true
			}
		}
	}
	return covered
}

// lineFinder returns a function that gives the indexes in lines of those
// of block (lines of the file in file order) that lines holds. Lines in
// file order, the usual case, are matched by a walk on their offsets;
// others through a map.
func lineFinder(lines []Line) func(block []Line) []int {
	offset := func(l Line) int {
		if sp := l.LineSpan(); sp != nil {
			return sp.Offset
		}
		return -1
	}
	inOrder := true
	for i, l := range lines {
		if offset(l) < 0 || i > 0 && offset(l) <= offset(lines[i-1]) {
			inOrder = false
			break
		}
	}
	if !inOrder {
		index := make(map[Line]int, len(lines))
		for i, l := range lines {
			index[l] = i
		}
		return func(block []Line) []int {
			var found []int
			for _, l := range block {
				if i, ok := index[l]; ok {
					found = append(found, i)
				}
			}
			return found
		}
	}
	return func(block []Line) []int {
		var found []int
		if len(block) == 0 {
			return nil
		}
		first := offset(block[0])
		j := sort.Search(len(lines), func(k int) bool { return offset(lines[k]) >= first })
		for _, l := range block {
			off := offset(l)
			for j < len(lines) && offset(lines[j]) < off {
				j++
			}
			if j < len(lines) && lines[j] == l {
				found = append(found, j)
			}
		}
		return found
	}
}
