package licfile

// The decimal format: EncodeDecimal, DecodeDecimal and ExpandDecimal,
// described in the package doc.

import (
	"errors"
	"hash/crc32"
	"math/big"
	"strconv"
	"strings"

	"golm/lmutil/protocol/lmerr"
)

// ErrDecimal is a decimal line that fails its check digits or does not
// decode: -99, "The decimal format license is typed incorrectly."
var ErrDecimal = errors.New("decimal format license typed incorrectly")

// ErrNotDecimal is a license line that cannot be written in the decimal
// format: -98, "This FEATURE line can't be converted to decimal format."
var ErrNotDecimal = errors.New("line cannot be converted to decimal format")

// MaxDecimalText is the longest canonical line, in bytes, that the decimal
// format holds; a decimal line longer than maxDecimalDigits digits is
// refused before it is decoded.
const MaxDecimalText = 2000

const (
	decimalFormat    = 1 // format number, the first symbol
	formatRadix      = 16
	textRadix        = 128
	byteRadix        = 256
	groupData        = 4 // data digits per group; the fifth is a check digit
	groupLen         = groupData + 1
	maxDecimalDigits = 8000
)

// The symbols after the printable ASCII characters (0..94 stand for
// 0x20..0x7e) and the dictionary.
const (
	symVendor = textRadix - 4 // the name before the first dash
	symEscape = textRadix - 3 // a raw byte follows
	symSign   = textRadix - 2 // 64 signature bytes follow, written in base32
	symEnd    = textRadix - 1
)

// decimalDict is the keyword dictionary of format 1. Its order is part of
// the format: never reorder it, only a new format number may change it.
var decimalDict = [...]string{
	"FEATURE ", "INCREMENT ", "UPGRADE ", "PACKAGE ", "SERVER ",
	"VENDOR ", "DAEMON ", "USE_SERVER", " permanent", " uncounted",
	" HOSTID=", " SIGN=", " VENDOR_STRING=", " NOTICE=", " ISSUED=",
	" ISSUER=", " START=", " SN=", " DUP_GROUP=", " OVERDRAFT=",
	" PLATFORMS=", " COMPONENTS=", " OPTIONS=SUITE", " SUPERSEDE", " ck=",
	" vendor_info=", "-jan-", "this_host",
}

const dictBase = 0x7f - 0x20 // first dictionary symbol: 95

// The dictionary must end before the special symbols: a negative array
// length stops the build otherwise.
var _ [symVendor - dictBase - len(decimalDict)]struct{}

// damm is the operation table of Damm's quasigroup of order 10: the check
// digit of a digit string is the interim digit that makes the whole string
// reduce to 0.
var damm = [10][10]byte{
	{0, 3, 1, 7, 5, 9, 8, 6, 4, 2},
	{7, 0, 9, 2, 1, 5, 4, 8, 6, 3},
	{4, 2, 0, 6, 8, 7, 1, 3, 5, 9},
	{1, 7, 5, 0, 9, 8, 3, 4, 2, 6},
	{6, 1, 2, 3, 0, 4, 5, 9, 7, 8},
	{3, 6, 7, 4, 2, 0, 9, 5, 8, 1},
	{5, 8, 6, 9, 7, 2, 0, 1, 3, 4},
	{8, 9, 4, 5, 3, 6, 2, 0, 1, 7},
	{9, 4, 3, 8, 6, 1, 7, 2, 0, 5},
	{2, 5, 8, 1, 4, 3, 6, 7, 9, 0},
}

// dammDigit reduces a string of ASCII digits; a string followed by its
// check digit reduces to 0.
func dammDigit(digits string) byte {
	var interim byte
	for i := 0; i < len(digits); i++ {
		interim = damm[interim][digits[i]-'0']
	}
	return interim
}

// lineCheck is the four data digits of a line's check group.
func lineCheck(name, data string) string {
	sum := crc32.ChecksumIEEE([]byte(name + "-" + data))
	s := strconv.Itoa(int(sum % 10000))
	return strings.Repeat("0", groupData-len(s)) + s
}

// decimalName is the name a decimal line of l starts with.
func decimalName(l Line) string {
	switch l := any(l).(type) {
	case *Server:
		return "SERVER"
	case *UseServer:
		return "USE_SERVER"
	case *Vendor:
		return l.Name
	case *Feature:
		return l.Vendor
	case *Package:
		return l.Vendor
	}
	return ""
}

// validDecimalName accepts a name that can start a decimal line and be
// told apart from its digit groups.
func validDecimalName(s string) bool {
	if s == "" || s[0] == '-' {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		ok := c == '_' || c == '.' || c == '-' || ('0' <= c && c <= '9') || ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z')
		if !ok || (c == '-' && (i+1 == len(s) || ('0' <= s[i+1] && s[i+1] <= '9'))) {
			return false
		}
	}
	return true
}

// notDecimal is the error for a line that cannot be written in decimal.
func notDecimal(format string, args ...any) error { return errorf(ErrNotDecimal, format, args...) }

// EncodeDecimal returns the decimal form of license line l: its canonical
// text (l.String()) in dash-separated groups of digits after its vendor
// name. Errors wrap ErrNotDecimal (-98).
func EncodeDecimal(l Line) (string, error) {
	if l == nil {
		return "", notDecimal("no line")
	}
	name := decimalName(l)
	if !validDecimalName(name) {
		return "", notDecimal("vendor name %q cannot start a decimal line", name)
	}
	text := l.String()
	if len(text) > MaxDecimalText {
		return "", notDecimal("line longer than %d characters", MaxDecimalText)
	}
	if again, err := parseOneLine(text); err != nil || again.String() != text {
		return "", notDecimal("line has no stable canonical form")
	}
	return encodeDecimalText(name, text), nil
}

// symbol is one value of the mixed-radix number and its radix.
type symbol struct{ v, radix int }

// encodeDecimalText writes text in decimal after name.
func encodeDecimalText(name, text string) string {
	syms := []symbol{{decimalFormat, formatRadix}}
	for i := 0; i < len(text); {
		if sig, ok := signatureAt(text, i); ok {
			syms = append(syms, symbol{symSign, textRadix})
			for _, b := range sig {
				syms = append(syms, symbol{int(b), byteRadix})
			}
			i += sigTextLen
			continue
		}
		if len(name) > 1 && strings.HasPrefix(text[i:], name) {
			syms = append(syms, symbol{symVendor, textRadix})
			i += len(name)
			continue
		}
		if d, n := dictAt(text[i:]); n > 0 {
			syms = append(syms, symbol{dictBase + d, textRadix})
			i += n
			continue
		}
		c := text[i]
		if c >= 0x20 && c < 0x7f {
			syms = append(syms, symbol{int(c - 0x20), textRadix})
		} else {
			syms = append(syms, symbol{symEscape, textRadix}, symbol{int(c), byteRadix})
		}
		i++
	}
	syms = append(syms, symbol{symEnd, textRadix})

	// The first symbol is the lowest digit of the number, so that each
	// symbol's radix can depend on the symbols before it.
	n := new(big.Int)
	for i := len(syms) - 1; i >= 0; i-- {
		n.Mul(n, big.NewInt(int64(syms[i].radix)))
		n.Add(n, big.NewInt(int64(syms[i].v)))
	}
	data := n.String()
	if pad := len(data) % groupData; pad != 0 {
		data = strings.Repeat("0", groupData-pad) + data
	}
	var b strings.Builder
	b.WriteString(name)
	for i := 0; i < len(data); i += groupData {
		writeGroup(&b, data[i:i+groupData])
	}
	writeGroup(&b, lineCheck(name, data))
	return b.String()
}

func writeGroup(b *strings.Builder, data string) {
	b.WriteByte('-')
	b.WriteString(data)
	b.WriteByte('0' + dammDigit(data))
}

// sigTextLen is the length of a 64-byte signature in base32.
const sigTextLen = 103

// signatureAt reports whether a golm signature, in upper-case base32 as
// EncodeSignature writes it, stands as a whole word at text[i:].
func signatureAt(text string, i int) ([]byte, bool) {
	if i == 0 || (text[i-1] != ' ' && text[i-1] != '=') || len(text)-i < sigTextLen {
		return nil, false
	}
	if end := i + sigTextLen; end < len(text) && text[end] != ' ' {
		return nil, false
	}
	word := text[i : i+sigTextLen]
	sig, err := DecodeSignature(word)
	if err != nil || EncodeSignature(sig) != word {
		return nil, false
	}
	return sig, true
}

// dictAt returns the longest dictionary entry s starts with.
func dictAt(s string) (index, n int) {
	for i, w := range decimalDict {
		if len(w) > n && strings.HasPrefix(s, w) {
			index, n = i, len(w)
		}
	}
	return index, n
}

// parseOneLine parses text that must be exactly one license line.
func parseOneLine(text string) (Line, error) {
	if strings.ContainsAny(text, "\n\r") {
		return nil, errors.New("more than one line")
	}
	f, err := parseString(text, "")
	if err != nil {
		return nil, err
	}
	if len(f.Order) != 1 {
		return nil, errors.New("not one license line")
	}
	return f.Order[0], nil
}

// DecimalError is a decimal line that is typed incorrectly: which group
// failed, at which byte offset of the line.
type DecimalError struct {
	Offset int // byte offset in the decimal line of the bad group (or 0)
	Group  int // 1-based group number; 0 when the whole line is at fault
	Reason string
}

// Error prints the FlexLM text of -99 and the reason: "The decimal
// format license is typed incorrectly: group 7 "06442" fails its check
// digit".
func (e *DecimalError) Error() string {
	return strings.TrimSuffix(lmerr.Text(lmerr.BadDecimal), ".") + ": " + e.Reason
}

// Unwrap makes errors.Is(err, ErrDecimal) hold.
func (e *DecimalError) Unwrap() error { return ErrDecimal }

// isDecimal reports whether s, a license file line with its \
// continuations joined, looks like a decimal line: a name, then only
// dash-separated groups of five digits, and no blanks. Whether it is typed
// correctly is DecodeDecimal's business.
func isDecimal(s string) bool {
	name, groups, ok := splitDecimal(strings.TrimSpace(s))
	return ok && validDecimalName(name) && len(groups) >= 1
}

// splitDecimal cuts a decimal line into its name and groups: the name
// ends at the first dash that is followed by a digit. ok is false when
// that is not the shape of s.
func splitDecimal(s string) (name string, groups []string, ok bool) {
	at := -1
	for i := 0; i+1 < len(s); i++ {
		if s[i] == '-' && s[i+1] >= '0' && s[i+1] <= '9' {
			at = i
			break
		}
	}
	if at <= 0 {
		return "", nil, false
	}
	for _, g := range strings.Split(s[at+1:], "-") {
		if g == "" || !isDigits(g) {
			return "", nil, false
		}
		groups = append(groups, g)
	}
	return s[:at], groups, true
}

// DecodeDecimal checks a decimal line and returns the canonical text of
// the license line it holds. A line typed incorrectly returns a
// *DecimalError (wrapping ErrDecimal) that says which group is wrong.
func DecodeDecimal(s string) (string, error) {
	s = strings.TrimSpace(s)
	name, groups, ok := splitDecimal(s)
	if !ok || !validDecimalName(name) {
		return "", &DecimalError{Reason: "not a decimal line: a name, then groups of five digits separated by -"}
	}
	if len(groups) < 2 {
		return "", &DecimalError{Reason: "too few groups"}
	}
	if len(groups)*groupLen > maxDecimalDigits {
		return "", &DecimalError{Reason: "too many groups"}
	}
	var data strings.Builder
	off := len(name) + 1
	for i, g := range groups {
		if len(g) != groupLen {
			return "", &DecimalError{Offset: off, Group: i + 1, Reason: "group " + strconv.Itoa(i+1) + " \"" + g + "\" has " + strconv.Itoa(len(g)) + " digits, not 5"}
		}
		if dammDigit(g) != 0 {
			return "", &DecimalError{Offset: off, Group: i + 1, Reason: "group " + strconv.Itoa(i+1) + " \"" + g + "\" fails its check digit"}
		}
		if i < len(groups)-1 {
			data.WriteString(g[:groupData])
		}
		off += len(g) + 1
	}
	last := groups[len(groups)-1]
	if last[:groupData] != lineCheck(name, data.String()) {
		return "", &DecimalError{Offset: off - groupLen - 1, Group: len(groups),
			Reason: "the last group does not match the line: a group is missing, repeated or out of order, or the name is mistyped"}
	}
	text, err := decodeSymbols(name, data.String())
	if err != nil {
		return "", &DecimalError{Reason: err.Error()}
	}
	l, err := parseOneLine(text)
	if err != nil || l.String() != text {
		return "", &DecimalError{Reason: "the digits do not hold a license line"}
	}
	if decimalName(l) != name {
		return "", &DecimalError{Reason: "the name before the first dash is not the line's vendor"}
	}
	return text, nil
}

// decodeSymbols turns the data digits back into the canonical text.
func decodeSymbols(name, data string) (string, error) {
	n, ok := new(big.Int).SetString(data, 10)
	if !ok {
		return "", errors.New("the digits do not hold a license line")
	}
	bad := errors.New("the digits do not hold a license line")
	var rem big.Int
	pop := func(radix int64) int {
		n.QuoRem(n, big.NewInt(radix), &rem)
		return int(rem.Int64())
	}
	if pop(formatRadix) != decimalFormat {
		return "", errors.New("unknown decimal format")
	}
	var b strings.Builder
	for {
		if n.Sign() == 0 || b.Len() > MaxDecimalText {
			return "", bad
		}
		v := pop(textRadix)
		switch {
		case v == symEnd:
			if n.Sign() != 0 {
				return "", bad
			}
			return b.String(), nil
		case v == symVendor:
			b.WriteString(name)
		case v == symEscape:
			b.WriteByte(byte(pop(byteRadix)))
		case v == symSign:
			sig := make([]byte, 64)
			for i := range sig {
				sig[i] = byte(pop(byteRadix))
			}
			b.WriteString(EncodeSignature(sig))
		case v >= dictBase:
			if v-dictBase >= len(decimalDict) {
				return "", bad
			}
			b.WriteString(decimalDict[v-dictBase])
		default:
			b.WriteByte(byte(v + 0x20))
		}
	}
}

// DecimalLine is one decimal line found by ExpandDecimal.
type DecimalLine struct {
	Line  int    // first physical line, 1-based
	Lines int    // physical lines it spans (more than 1 with \ continuations)
	Text  string // the canonical readable line, "" when it failed
}

// ExpandDecimal replaces every decimal line of a license text by the
// readable line it holds, on the first of its physical lines, leaving its
// continuation lines empty, so that every line number of the result is
// the line number of src and Parse reports positions in src. Decimal
// lines typed incorrectly are left out and reported, one *ParseError each
// with code -99, wrapping a *DecimalError. It returns the expanded text,
// the decimal lines in order, and the errors.
func ExpandDecimal(src, filename string) (string, []DecimalLine, ErrorList) {
	phys := strings.Split(src, "\n")
	var found []DecimalLine
	var errs ErrorList
	for i := 0; i < len(phys); i++ {
		text := strings.TrimRight(phys[i], "\r")
		lead := len(text) - len(strings.TrimLeft(text, " \t\v\f"))
		body := strings.TrimRight(text[lead:], " \t\v\f")
		if body == "" || body[0] == '#' {
			continue
		}
		first, n := i, 1
		if !looksDecimalStart(body) {
			// A readable line: skip its continuation lines, as the
			// parser reads them.
			for strings.HasSuffix(body, `\`) && i+1 < len(phys) {
				next := strings.TrimSpace(phys[i+1])
				if next == "" {
					break
				}
				i++
				body = next
			}
			continue
		}
		type piece struct{ line, col, off int }
		pieces := []piece{{first, lead + 1, 0}}
		var joined strings.Builder
		for {
			if !strings.HasSuffix(body, `\`) || i+1 >= len(phys) || strings.TrimSpace(phys[i+1]) == "" {
				joined.WriteString(strings.TrimSuffix(body, `\`))
				break
			}
			joined.WriteString(strings.TrimRight(strings.TrimSuffix(body, `\`), " \t"))
			i++
			n++
			next := strings.TrimRight(phys[i], "\r")
			nlead := len(next) - len(strings.TrimLeft(next, " \t\v\f"))
			body = strings.TrimRight(next[nlead:], " \t\v\f")
			pieces = append(pieces, piece{i, nlead + 1, joined.Len()})
		}
		dl := DecimalLine{Line: first + 1, Lines: n}
		readable, err := DecodeDecimal(joined.String())
		if err != nil {
			var de *DecimalError
			off := 0
			if errors.As(err, &de) {
				off = de.Offset
			}
			p := pieces[0]
			for _, q := range pieces[1:] {
				if q.off <= off {
					p = q
				}
			}
			errs = append(errs, &ParseError{File: filename, Line: p.line + 1, Column: p.col + off - p.off, Code: lmerr.BadDecimal, Err: err})
		} else {
			dl.Text = readable
		}
		found = append(found, dl)
		phys[first] = readable
		for j := first + 1; j < first+n; j++ {
			phys[j] = ""
		}
	}
	return strings.Join(phys, "\n"), found, errs
}

// looksDecimalStart reports whether the first physical line of a logical
// line starts a decimal line: a name and a dash and a digit, and no
// blanks.
func looksDecimalStart(body string) bool {
	body = strings.TrimSuffix(body, `\`)
	if strings.ContainsAny(body, " \t\"=") {
		return false
	}
	at := strings.IndexByte(body, '-')
	for at > 0 && at+1 < len(body) && (body[at+1] < '0' || body[at+1] > '9') {
		next := strings.IndexByte(body[at+1:], '-')
		if next < 0 {
			return false
		}
		at += 1 + next
	}
	if at <= 0 {
		return false
	}
	return validDecimalName(body[:at]) && strings.Trim(body[at:], "-0123456789") == ""
}
