package licfile

import (
	"fmt"
	"io"
	"io/fs"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// Parse reads a license file from r. filename is used in error positions
// only. It returns every line that parsed, in a *File that is never nil
// unless reading r fails, and an ErrorList (as error) with one
// *ParseError for every line that did not.
func Parse(r io.Reader, filename string) (*File, error) {
	// Read into a strings.Builder sized from the reader when it knows its
	// length: the text is copied once and becomes the string the lines
	// point into without a second copy.
	var b strings.Builder
	if l, ok := r.(interface{ Len() int }); ok {
		b.Grow(l.Len())
	} else if n := regularSize(r); n > 0 {
		b.Grow(n) // an *os.File: grown once, not doubled up to its size
	}
	if _, err := io.Copy(&b, r); err != nil {
		return nil, fmt.Errorf("reading %s: %w", filename, err)
	}
	return parseString(b.String(), filename)
}

// ParseFile reads and parses the license file at path.
func ParseFile(path string) (*File, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	var b strings.Builder
	if n := regularSize(fh); n > 0 {
		b.Grow(n)
	}
	if _, err := io.Copy(&b, fh); err != nil {
		return nil, err
	}
	return parseString(b.String(), path)
}

// regularSize is the size of r when it is a regular file (below 1 GiB),
// else 0.
func regularSize(r io.Reader) int {
	fh, ok := r.(interface{ Stat() (fs.FileInfo, error) })
	if !ok {
		return 0
	}
	if st, err := fh.Stat(); err == nil && st.Mode().IsRegular() && st.Size() > 0 && st.Size() < 1<<30 {
		return int(st.Size())
	}
	return 0
}

func parseString(src, filename string) (*File, error) {
	f := &File{Name: filename}
	var errs ErrorList
	logicals := splitLines(src, true)
	f.Order = make([]Line, 0, len(logicals))
	results := parseLines(src, filename, logicals)
	features := 0
	for _, r := range results {
		if _, ok := r.line.(*Feature); ok {
			features++
		}
	}
	if features > 0 {
		f.Features = make([]*Feature, 0, features)
	}
	for i, l := range logicals {
		if l.manifest {
			if m, ok := ParseManifestLine(l.text); ok {
				m.Span = Span{Pos: l.pos(filename, 0), Offset: l.offset, End: l.end, Raw: src[l.offset:l.end]}
				m.Before = len(f.Order)
				f.Manifests = append(f.Manifests, &m)
			}
			continue
		}
		line, err := results[i].line, results[i].err
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if line == nil {
			continue
		}
		switch x := line.(type) {
		case *Server:
			if len(f.Servers) == 3 {
				errs = append(errs, newParseError(x.Pos, errorf(ErrSyntax, "more than three SERVER lines")))
				continue
			}
			f.Servers = append(f.Servers, x)
		case *Vendor:
			f.Vendors = append(f.Vendors, x)
		case *UseServer:
			if f.UseServer == nil {
				f.UseServer = x
			}
		case *Feature:
			f.Features = append(f.Features, x)
		case *Package:
			f.Packages = append(f.Packages, x)
		}
		f.Order = append(f.Order, line)
	}
	errs.Sort()
	return f, errs.Err()
}

// parsedLine is what parsing one logical line gave.
type parsedLine struct {
	line Line
	err  *ParseError
}

// parallelLines is the number of lines from which a file is parsed in
// pieces, one per core; lines do not depend on each other.
const parallelLines = 4096

// parseLines parses each logical line but the manifest comments.
func parseLines(src, filename string, logicals []*logical) []parsedLine {
	out := make([]parsedLine, len(logicals))
	parseRange := func(lo, hi int) {
		p := &lineParser{file: filename, src: src}
		for i := lo; i < hi; i++ {
			if logicals[i].manifest {
				continue
			}
			p.l, p.i, p.left = logicals[i], 0, hi-i
			out[i].line, out[i].err = p.parse()
		}
	}
	workers := min(runtime.GOMAXPROCS(0), len(logicals)/parallelLines+1)
	if workers <= 1 {
		parseRange(0, len(logicals))
		return out
	}
	var wg sync.WaitGroup
	chunk := (len(logicals) + workers - 1) / workers
	for lo := 0; lo < len(logicals); lo += chunk {
		hi := min(lo+chunk, len(logicals))
		wg.Add(1)
		go func() {
			defer wg.Done()
			parseRange(lo, hi)
		}()
	}
	wg.Wait()
	return out
}

// lineParser parses one logical line.
type lineParser struct {
	file string
	src  string
	l    *logical
	toks []token // reused from line to line
	i    int     // next token
	left int     // lines still to parse, this one included
	// Features and attributes are carved out of larger allocations, sized
	// to the lines still to parse: a big file pays for few allocations, a
	// small one for no more than it holds.
	features []Feature
	attrs    []Attr
}

// Block sizes: the most Features, and attributes, carved out of one
// allocation.
const (
	featureBlock = 256
	attrBlock    = 1024
)

// newFeature returns a zeroed Feature from the parser's current block;
// no Feature of a block is handed out twice.
func (p *lineParser) newFeature() *Feature {
	if len(p.features) == 0 {
		p.features = make([]Feature, min(featureBlock, max(p.left, 1)))
	}
	f := &p.features[0]
	p.features = p.features[1:]
	return f
}

// attrSlice returns an empty slice with room for n attributes, nil for
// none. Its capacity is exactly n, so appending past it never writes
// into another line's attributes.
func (p *lineParser) attrSlice(n int) []Attr {
	if n <= 0 {
		return nil
	}
	if n > len(p.attrs) {
		p.attrs = make([]Attr, max(n, min(attrBlock, n*max(p.left, 1))))
	}
	a := p.attrs[:0:n]
	p.attrs = p.attrs[n:]
	return a
}

// failure aborts parsing a line. Like go/parser's bailout, the line
// parser panics with it deep inside and parse recovers it into a
// *ParseError, so a bad line never escapes as a panic.
type failure struct{ pe *ParseError }

func (p *lineParser) failAt(off int, err error) {
	panic(failure{newParseError(p.l.pos(p.file, off), err)})
}

func (p *lineParser) fail(t *token, err error) { p.failAt(t.off, err) }

// failEnd reports a missing field at the end of the line.
func (p *lineParser) failEnd(format string, args ...any) {
	p.failAt(len(p.l.text), errorf(ErrSyntax, format, args...))
}

func (p *lineParser) span() Span {
	return Span{Pos: p.l.pos(p.file, 0), Offset: p.l.offset, End: p.l.end, Raw: p.src[p.l.offset:p.l.end]}
}

func (p *lineParser) more() bool { return p.i < len(p.toks) }

func (p *lineParser) peek() *token {
	if p.i < len(p.toks) {
		return &p.toks[p.i]
	}
	return nil
}

// word takes the next token, which must be a bare word; what names the
// field for the error message when it is missing or malformed.
func (p *lineParser) word(what string) *token {
	t := p.peek()
	if t == nil {
		p.failEnd("missing %s", what)
	}
	if !t.plain() {
		p.fail(t, errorf(ErrSyntax, "invalid %s %q", what, t.text))
	}
	p.i++
	return t
}

func (p *lineParser) parse() (line Line, pe *ParseError) {
	defer func() {
		if r := recover(); r != nil {
			f, ok := r.(failure)
			if !ok {
				panic(r)
			}
			line, pe = nil, f.pe
		}
	}()
	toks, off, err := appendTokens(p.toks[:0], p.l.text)
	if err != nil {
		p.failAt(off, err)
	}
	p.toks = toks
	kw := p.word("keyword")
	switch strings.ToUpper(kw.text) {
	case "SERVER":
		return p.server(), nil
	case "DAEMON", "VENDOR":
		return p.vendor(strings.ToUpper(kw.text)), nil
	case "USE_SERVER":
		if t := p.peek(); t != nil {
			p.fail(t, errorf(ErrSyntax, "USE_SERVER takes no arguments"))
		}
		return &UseServer{Span: p.span()}, nil
	case "FEATURE":
		return p.feature(KindFeature), nil
	case "INCREMENT":
		return p.feature(KindIncrement), nil
	case "UPGRADE":
		return p.feature(KindUpgrade), nil
	case "PACKAGE":
		return p.pkg(), nil
	}
	p.fail(kw, errorf(ErrFuture, "unknown line keyword %q", kw.text))
	return nil, nil
}

// isLower reports whether a keyword is all lower case: by the manual's
// rule such keyword=value attributes are the user-editable ones.
func isLower(key string) bool {
	if !isKeyword(key) {
		return false
	}
	for i := 0; i < len(key); i++ {
		if 'A' <= key[i] && key[i] <= 'Z' {
			return false
		}
	}
	return true
}

// attr turns a keyword token into an Attr.
func (p *lineParser) attr(t *token) Attr {
	a := Attr{Pos: p.l.pos(p.file, t.off), Key: t.key, Value: t.value, HasValue: t.hasEq, Quoted: t.quoted}
	if !t.hasEq {
		a.Key, a.Value = t.text, ""
	}
	return a
}

func (p *lineParser) server() *Server {
	s := &Server{Span: p.span()}
	host := p.word("host name")
	s.Host = host.text
	t := p.peek()
	if t == nil {
		p.failEnd("missing SERVER hostid")
	}
	if t.quoted {
		p.fail(t, errorf(ErrHostID, "invalid hostid %q", t.text))
	}
	h, err := ParseHostID(t.text)
	if err != nil {
		p.fail(t, err)
	}
	s.HostID = h
	p.i++
	if t := p.peek(); t != nil && t.plain() && isDigits(t.text) {
		port, err := strconv.Atoi(t.text)
		if err != nil || port > 65535 {
			p.fail(t, errorf(ErrSyntax, "invalid port %q", t.text))
		}
		s.Port = port
		p.i++
	}
	for ; p.more(); p.i++ {
		t := p.peek()
		switch {
		case t.hasEq && strings.EqualFold(t.key, "HEARTBEAT_INTERVAL"):
			if n, err := strconv.Atoi(t.value); err != nil || n < 0 {
				p.fail(t, errorf(ErrSyntax, "invalid HEARTBEAT_INTERVAL %q", t.value))
			}
		case t.plain() && strings.EqualFold(t.text, "PRIMARY_IS_MASTER"):
		case t.hasEq && isLower(t.key):
		case t.plain() && isKeyword(t.text) && strings.ToUpper(t.text) == t.text:
			p.fail(t, errorf(ErrFuture, "unknown keyword %q", t.text))
		case t.hasEq && isKeyword(t.key):
			p.fail(t, errorf(ErrFuture, "unknown keyword %q", t.key))
		default:
			p.fail(t, errorf(ErrSyntax, "unexpected %q on SERVER line", t.text))
		}
		s.Attrs = append(s.Attrs, p.attr(t))
	}
	return s
}

func (p *lineParser) vendor(kw string) *Vendor {
	v := &Vendor{Span: p.span(), Keyword: kw}
	v.Name = p.word("vendor name").text
	positional := 0
	var seenOpt, seenPort bool
	setPort := func(t *token, s string) {
		port, err := strconv.Atoi(s)
		if err != nil || port < 0 || port > 65535 || !isDigits(s) {
			p.fail(t, errorf(ErrSyntax, "invalid port %q", s))
		}
		if seenPort {
			p.fail(t, errorf(ErrSyntax, "port given twice"))
		}
		v.Port, seenPort = port, true
	}
	setOpt := func(t *token, s string) {
		if seenOpt || s == "" {
			p.fail(t, errorf(ErrSyntax, "invalid options file %q", t.text))
		}
		v.Options, seenOpt = s, true
	}
	for ; p.more(); p.i++ {
		t := p.peek()
		if t.hasEq {
			switch strings.ToLower(t.key) {
			case "options":
				setOpt(t, t.value)
			case "port":
				setPort(t, t.value)
			default:
				p.fail(t, errorf(ErrFuture, "unknown keyword %q", t.key))
			}
			continue
		}
		// Positional fields come in order: path, options file, port;
		// the keyword forms may take their place.
		switch {
		case positional == 0 && !seenOpt && !seenPort:
			if t.value == "" {
				p.fail(t, errorf(ErrSyntax, "empty daemon path"))
			}
			v.Path = t.value
		case positional <= 1 && !seenOpt && !seenPort:
			setOpt(t, t.value)
		case positional <= 2 && !seenPort:
			setPort(t, t.value)
		default:
			p.fail(t, errorf(ErrSyntax, "unexpected %q on %s line", t.text, kw))
		}
		positional++
	}
	return v
}

// featureKeys are the upper-case FEATURE/INCREMENT/UPGRADE attributes golm
// knows: the manual's and the ones later FlexNet files carry. An unknown
// upper-case keyword is ErrFuture (a newer format or a misspelling).
var featureKeys = map[string]bool{
	"HOSTID": true, "VENDOR_STRING": true, "DUP_GROUP": true, "ISSUED": true,
	"ISSUER": true, "NOTICE": true, "OVERDRAFT": true, "PLATFORMS": true,
	"SN": true, "START": true, "SUPERSEDE": true, "USER_BASED": true,
	"HOST_BASED": true, "SIGN": true, "SIGN2": true, "CK": true,
	"BORROW": true, "FLOAT_OK": true, "TS_OK": true, "ONE_TS_OK": true,
	"MINIMUM": true, "CAPACITY": true, "SORT": true, "SUITE_DUP_GROUP": true,
	"AUTH": true,
}

// bareKeys are the keywords that may stand alone, without =value.
var bareKeys = map[string]bool{
	"SUPERSEDE": true, "USER_BASED": true, "HOST_BASED": true,
	"BORROW": true, "FLOAT_OK": true, "TS_OK": true, "ONE_TS_OK": true,
	"CAPACITY": true,
}

// isBareKey reports whether a bare word is a stand-alone attribute
// keyword rather than a license key or a positional field.
func isBareKey(s string) bool { return bareKeys[strings.ToUpper(s)] }

func (p *lineParser) feature(kind Kind) *Feature {
	// Field by field: the block is already zero, and copying a whole
	// Feature in costs a write barrier over all of it while the garbage
	// collector runs.
	f := p.newFeature()
	f.Span = p.span()
	f.Kind, f.UserBased, f.HostBased = kind, -1, -1
	f.Name = p.word("feature name").text
	f.Vendor = p.word("vendor name").text
	if kind == KindUpgrade {
		t := p.word("from version")
		v, err := ParseVersion(t.text)
		if err != nil {
			p.fail(t, err)
		}
		f.FromVersion = v
	}
	t := p.word("feature version")
	v, err := ParseVersion(t.text)
	if err != nil {
		p.fail(t, err)
	}
	f.Version = v
	t = p.word("expiration date")
	d, err := ParseDate(t.text)
	if err != nil {
		p.fail(t, err)
	}
	f.Expiry = d
	t = p.word("license count")
	f.Count, f.CountText = p.count(t)

	// The format: a bare word after the count is the license key (v2 and
	// v3-v7.0) unless it is a stand-alone attribute keyword; a quoted
	// string right after the key is the v2 vendor string; no key is v7.1.
	f.Format = FormatV71
	if t := p.peek(); t != nil && t.plain() && !isBareKey(t.text) {
		f.Key, f.Sign = t.text, keySignature(t.text)
		f.Format = FormatV3
		p.i++
		if t := p.peek(); t != nil && t.quoted && !t.hasEq {
			f.Format = FormatV2
			f.VendorString = t.value
			p.i++
			if t := p.peek(); t != nil && p.positionalHostID(t) {
				h, err := ParseHostID(t.text)
				if err != nil {
					p.fail(t, err)
				}
				f.HostID = HostIDList{h}
				p.i++
			}
		}
	}
	p.attributes(f, nil)
	if f.Count > 0 && f.HostID.Has(HostIDDemo) {
		// A demo hostid runs anywhere: on a counted line it would let
		// any server serve the seats (manual appendix A: DEMO is for
		// uncounted demo licenses).
		off := 0
		for _, t := range p.toks {
			if t.hasEq && strings.EqualFold(t.key, "HOSTID") {
				off = t.off
			}
		}
		p.failAt(off, errorf(ErrHostID, "HOSTID=DEMO on a counted line"))
	}
	return f
}

// positionalHostID reports whether t, after a v2 vendor string, is the
// optional positional hostid rather than an attribute.
func (p *lineParser) positionalHostID(t *token) bool {
	if t.quoted {
		return false
	}
	if t.hasEq {
		return !isLower(t.key) && !featureKeys[strings.ToUpper(t.key)]
	}
	return !isBareKey(t.text)
}

// count parses a license count: a non-negative number or uncounted.
func (p *lineParser) count(t *token) (int, string) {
	if strings.EqualFold(t.text, "uncounted") {
		return 0, strings.ToLower(t.text)
	}
	n, err := strconv.Atoi(t.text)
	if err != nil || n < 0 || !isDigits(t.text) {
		p.fail(t, errorf(ErrSyntax, "invalid license count %q", t.text))
	}
	return n, t.text
}

// attributes parses the keyword=value attributes that end FEATURE,
// INCREMENT, UPGRADE and PACKAGE lines into f or pk.
func (p *lineParser) attributes(f *Feature, pk *Package) {
	if pk != nil {
		pk.Attrs = p.attrSlice(len(p.toks) - p.i)
	} else {
		f.Attrs = p.attrSlice(len(p.toks) - p.i)
	}
	// The upper-case keywords seen so far: each may be given once, and
	// only known ones get here, so the list stays short.
	var seenBuf [16]string
	seen := seenBuf[:0]
	for ; p.more(); p.i++ {
		t := p.peek()
		if t.quoted && !t.hasEq {
			p.fail(t, errorf(ErrSyntax, "unexpected quoted string %s", t.text))
		}
		key := t.key
		if !t.hasEq {
			key = t.text
		}
		if !isKeyword(key) {
			p.fail(t, errorf(ErrSyntax, "unexpected %q", t.text))
		}
		a := p.attr(t)
		if isLower(key) && key != "ck" {
			if !t.hasEq {
				p.fail(t, errorf(ErrFuture, "unknown keyword %q", key))
			}
			p.appendAttr(f, pk, a)
			continue
		}
		up := upperKey(key)
		if pk != nil && (up == "COMPONENTS" || up == "OPTIONS") {
			// handled below
		} else if !featureKeys[up] {
			p.fail(t, errorf(ErrFuture, "unknown keyword %q", key))
		}
		if !t.hasEq && !bareKeys[up] {
			p.fail(t, errorf(ErrSyntax, "%s needs a value", key))
		}
		if slices.Contains(seen, up) {
			p.fail(t, errorf(ErrSyntax, "%s given twice", key))
		}
		seen = append(seen, up)
		if pk != nil {
			p.packageAttr(pk, t, up)
		} else {
			p.featureAttr(f, t, up)
		}
		p.appendAttr(f, pk, a)
	}
}

func (p *lineParser) appendAttr(f *Feature, pk *Package, a Attr) {
	if pk != nil {
		pk.Attrs = append(pk.Attrs, a)
	} else {
		f.Attrs = append(f.Attrs, a)
	}
}

func (p *lineParser) date(t *token) Date {
	d, err := ParseDate(t.value)
	if err != nil {
		p.fail(t, err)
	}
	return d
}

func (p *lineParser) number(t *token) int {
	n, err := strconv.Atoi(t.value)
	if err != nil || n < 0 || !isDigits(t.value) {
		p.fail(t, errorf(ErrSyntax, "invalid %s %q", t.key, t.value))
	}
	return n
}

// validDupGroup checks DUP_GROUP: NONE, SITE, or a combination of U, H,
// D and V.
func validDupGroup(s string) bool {
	switch strings.ToUpper(s) {
	case "NONE", "SITE":
		return true
	}
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !strings.ContainsRune("UHDVuhdv", rune(s[i])) {
			return false
		}
	}
	return true
}

func (p *lineParser) featureAttr(f *Feature, t *token, up string) {
	switch up {
	case "HOSTID":
		if f.Format == FormatV2 && f.HostID != nil {
			p.fail(t, errorf(ErrSyntax, "hostid given twice"))
		}
		l, err := ParseHostIDList(t.value)
		if err != nil {
			p.fail(t, err)
		}
		f.HostID = l
	case "VENDOR_STRING":
		if f.Format == FormatV2 {
			p.fail(t, errorf(ErrSyntax, "vendor string given twice"))
		}
		f.VendorString = t.value
	case "DUP_GROUP":
		if !validDupGroup(t.value) {
			p.fail(t, errorf(ErrSyntax, "invalid DUP_GROUP %q", t.value))
		}
		f.DupGroup = t.value
	case "ISSUED":
		f.Issued = p.date(t)
	case "START":
		f.Start = p.date(t)
	case "ISSUER":
		f.Issuer = t.value
	case "NOTICE":
		f.Notice = t.value
	case "SN":
		f.SN = t.value
	case "OVERDRAFT":
		f.Overdraft = p.number(t)
	case "PLATFORMS":
		f.Platforms = strings.Fields(t.value)
	case "SUPERSEDE":
		f.Superseded = true
		if t.hasEq {
			f.Supersede = strings.Fields(t.value)
		}
	case "USER_BASED":
		f.UserBased = 0
		if t.hasEq {
			f.UserBased = p.number(t)
		}
	case "HOST_BASED":
		f.HostBased = 0
		if t.hasEq {
			f.HostBased = p.number(t)
		}
	case "SIGN":
		f.Sign = t.value
	case "CK":
		f.Ck, f.HasCk = p.number(t), true
	}
}

func (p *lineParser) pkg() *Package {
	pk := &Package{Span: p.span()}
	pk.Name = p.word("package name").text
	pk.Vendor = p.word("vendor name").text
	// Up to two bare words follow: [version] [key]. A single one is the
	// version if it is a version number of fewer than 12 characters or
	// has a dot, and the license key otherwise (keys are 12 or 20 hex
	// digits).
	var bare []*token
	for len(bare) < 2 {
		t := p.peek()
		if t == nil || !t.plain() || isBareKey(t.text) {
			break
		}
		bare = append(bare, t)
		p.i++
	}
	switch len(bare) {
	case 2:
		pk.Version = p.pkgVersion(bare[0])
		pk.Key, pk.Sign = bare[1].text, keySignature(bare[1].text)
	case 1:
		t := bare[0]
		if _, err := ParseVersion(t.text); err == nil && (len(t.text) < 12 || strings.Contains(t.text, ".")) {
			pk.Version = p.pkgVersion(t)
		} else {
			pk.Key, pk.Sign = t.text, keySignature(t.text)
		}
	}
	p.attributes(nil, pk)
	if pk.Components == nil {
		p.failAt(len(p.l.text), errorf(ErrPackage, "PACKAGE line without COMPONENTS"))
	}
	return pk
}

func (p *lineParser) pkgVersion(t *token) Version {
	v, err := ParseVersion(t.text)
	if err != nil {
		p.fail(t, err)
	}
	return v
}

func (p *lineParser) packageAttr(pk *Package, t *token, up string) {
	switch up {
	case "COMPONENTS":
		fields := strings.Fields(t.value)
		if len(fields) == 0 {
			p.fail(t, errorf(ErrPackage, "empty COMPONENTS list"))
		}
		for _, c := range fields {
			comp, err := ParseComponent(c)
			if err != nil {
				p.fail(t, err)
			}
			pk.Components = append(pk.Components, comp)
		}
	case "OPTIONS":
		switch strings.ToUpper(t.value) {
		case "SUITE", "SUITE_RESERVED":
			pk.Suite = true
		default:
			p.fail(t, errorf(ErrPackage, "invalid OPTIONS %q", t.value))
		}
	case "SIGN":
		pk.Sign = t.value
	case "CK":
		pk.Ck, pk.HasCk = p.number(t), true
	}
	if pk.Suite {
		for _, c := range pk.Components {
			if c.Count != 0 {
				p.fail(t, errorf(ErrPackage, "component count with OPTIONS=SUITE"))
			}
		}
	}
}

// ParseComponent parses one COMPONENTS entry, name[:version[:count]].
// Errors are ErrPackage (-82).
func ParseComponent(s string) (Component, error) {
	parts := strings.Split(s, ":")
	if len(parts) > 3 || parts[0] == "" || strings.ContainsAny(parts[0], `="`) {
		return Component{}, errorf(ErrPackage, "invalid component %q", s)
	}
	c := Component{Name: parts[0]}
	if len(parts) > 1 && (parts[1] != "" || len(parts) == 2) {
		v, err := ParseVersion(parts[1])
		if err != nil {
			return Component{}, errorf(ErrPackage, "invalid component version %q", s)
		}
		c.Version = v
	}
	if len(parts) > 2 {
		n, err := strconv.Atoi(parts[2])
		if err != nil || n <= 0 || !isDigits(parts[2]) {
			return Component{}, errorf(ErrPackage, "invalid component count %q", s)
		}
		c.Count = n
	}
	return c, nil
}
