package licfile

// Line signatures.
//
// A publisher signs each FEATURE, INCREMENT, UPGRADE and PACKAGE line with
// an Ed25519 private key; the signature goes into the line's SIGN=
// attribute. What is signed is the line's signed form (SignedText): the
// fields that FLEXlm computes its license key from, in a normalised
// spelling, so that every way of writing the same license signs the same.
//
// The signed form covers every field of the line except:
//
//   - attributes whose keyword is all lower case (vendor_info=, asset_info=,
//     dist_info=, user_info=, ck=, ...): the manual lets end users edit them;
//   - SIGN= itself, and the license key of v2-v7.0 lines (the key field is
//     FLEXlm's own signature, which golm does not compute).
//
// Of the SERVER lines only the hostids are signed (they are appended to every
// FEATURE, INCREMENT and UPGRADE line's signed form, in file order); host
// names, ports and DAEMON/VENDOR lines are not signed at all, since the
// administrator may change them. PACKAGE lines do not carry the SERVER
// hostids: the manual lets them live in a file of their own that is never
// edited, whatever server it ends up beside.
//
// The SIGN= value is the 64-byte signature in base32 (RFC 4648 alphabet
// A-Z and 2-7, no padding): 103 characters that never need quoting, with no
// 0/O or 1/I to confuse a person typing it in, and read back in either case.

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base32"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"golm/lmutil/protocol/lmerr"
)

// SignedTextVersion starts every signed form. A future change of the
// signed form gets a new tag, so old and new signatures never collide.
const SignedTextVersion = "golm-sig-1"

// ErrBadSignature is the sentinel every signature failure wraps: an edited
// line, a malformed SIGN= value, a missing signature. errors.Is(err,
// ErrBadSignature) holds for each, and lmerr.CodeOf(err) is -8.
var ErrBadSignature = errors.New("invalid (inconsistent) license key or signature")

// SignatureError is a signature check that failed.
type SignatureError struct {
	Line   Line   // the line checked; nil when none applies
	Reason string // "no SIGN=", "signature does not match", ...
	Err    *lmerr.Error
}

// Error prints the FlexLM text and number, then the reason:
// "Invalid (inconsistent) license key or signature. (-8,853): signature
// does not match the line".
func (e *SignatureError) Error() string {
	return e.Err.Message() + " " + e.Err.Suffix() + ": " + e.Reason
}

// Unwrap lets errors.Is match ErrBadSignature and errors.As find the
// *lmerr.Error with code -8.
func (e *SignatureError) Unwrap() []error { return []error{ErrBadSignature, e.Err} }

func sigError(l Line, minor lmerr.Minor, reason string) error {
	return &SignatureError{Line: l, Reason: reason, Err: lmerr.New(lmerr.BadCode, minor)}
}

// sigEncoding is the SIGN= alphabet: base32 without padding.
var sigEncoding = base32.StdEncoding.WithPadding(base32.NoPadding)

// EncodeSignature renders a signature as a SIGN= value.
func EncodeSignature(sig []byte) string { return sigEncoding.EncodeToString(sig) }

// DecodeSignature parses a SIGN= value, in either case.
func DecodeSignature(s string) ([]byte, error) {
	b, err := sigEncoding.DecodeString(strings.ToUpper(strings.TrimSpace(s)))
	if err != nil || len(b) != ed25519.SignatureSize {
		return nil, fmt.Errorf("SIGN=%q is not a %d-byte base32 signature", s, ed25519.SignatureSize)
	}
	return b, nil
}

// Signable reports whether l is a line that carries a signature:
// FEATURE, INCREMENT, UPGRADE or PACKAGE.
func Signable(l Line) bool {
	switch any(l).(type) {
	case *Feature, *Package:
		return true
	}
	return false
}

// SignedText returns the signed form of a FEATURE, INCREMENT, UPGRADE or
// PACKAGE line, with the hostids of servers appended (PACKAGE lines leave
// them out; see the file comment). Other lines have no signed form: "".
//
// The form is one item per line, each item a keyword followed by values
// separated by single spaces; free text is quoted with Go's strconv.Quote,
// so that no two different lines share a form:
//
//	golm-sig-1
//	FEATURE "f1" "xyzd" 2.3 1-jan-2005 uncounted
//	HOSTID "08002b32b161"
//	NOTICE "Licensed to XYZ corp"
//	VENDOR_STRING "xyz"
//	SERVER "17007ea8"
//
// The first item is the keyword (FEATURE/INCREMENT/UPGRADE/PACKAGE), name,
// vendor, UPGRADE's from-version, version, expiry and count. Versions are
// numbers (2.300 is 2.3, 1.0 is 1), dates d-mmm-yyyy without a leading
// zero and with a lower-case month, any date of year 0 is "permanent", a
// count of 0 is "uncounted". The attributes follow sorted by keyword (a
// keyword written twice keeps its order): HOSTID with normalised hostids
// (hex in lower case, ID= without dashes), VENDOR_STRING (also the v2
// positional vendor string), ISSUED and START as dates, COMPONENTS as
// name:version:count with numeric versions, every other attribute whose
// keyword is not all lower case with its value as written, bare keywords
// (SUPERSEDE, USER_BASED) alone.
func SignedText(l Line, servers []*Server) string {
	return string(appendSignedText(nil, l, servers))
}

// appendSignedText appends the signed form of l (SignedText) to dst.
func appendSignedText(dst []byte, l Line, servers []*Server) []byte {
	switch l := any(l).(type) {
	case *Feature:
		return appendFeatureSignedText(dst, l, servers)
	case *Package:
		return appendPackageSignedText(dst, l)
	}
	return dst
}

// signedItem is one line of the signed form after the first: its keyword
// (the sort key) and what renders it.
type signedItem struct {
	key  string
	kind itemKind
	attr *Attr
}

type itemKind uint8

const (
	itemAttr         itemKind = iota // the attribute as written (bare or quoted value)
	itemVendorString                 // VENDOR_STRING "f.VendorString"
	itemHostID                       // HOSTID "normalised hostids"
	itemIssued                       // ISSUED date
	itemStart                        // START date
	itemComponents                   // COMPONENTS "name:version:count ..."
	itemOptions                      // OPTIONS "VALUE"
)

func appendFeatureSignedText(b []byte, f *Feature, servers []*Server) []byte {
	b = append(b, SignedTextVersion+"\n"...)
	b = append(b, kindKeyword(f.Kind)...)
	b = append(b, ' ')
	b = strconv.AppendQuote(b, f.Name)
	b = append(b, ' ')
	b = strconv.AppendQuote(b, f.Vendor)
	if f.Kind == KindUpgrade {
		b = append(b, ' ')
		b = appendNormalVersion(b, f.FromVersion)
	}
	b = append(b, ' ')
	b = appendNormalVersion(b, f.Version)
	b = append(b, ' ')
	b = appendNormalDate(b, f.Expiry)
	b = append(b, ' ')
	if f.Count == 0 {
		b = append(b, "uncounted"...)
	} else {
		b = strconv.AppendInt(b, int64(f.Count), 10)
	}
	b = append(b, '\n')

	var buf [16]signedItem
	items := buf[:0]
	hostidDone, vstrDone := false, false
	if f.Format == FormatV2 {
		// The positional vendor string and hostid of the v2 format are
		// the VENDOR_STRING= and HOSTID= of later formats.
		items = append(items, signedItem{key: "VENDOR_STRING", kind: itemVendorString})
		vstrDone = true
		if len(f.HostID) > 0 {
			items = append(items, signedItem{key: "HOSTID", kind: itemHostID})
			hostidDone = true
		}
	}
	for i := range f.Attrs {
		a := &f.Attrs[i]
		if !signedAttr(a.Key) {
			continue
		}
		key := upperKey(a.Key)
		switch key {
		case "HOSTID":
			if hostidDone {
				continue
			}
			hostidDone = true
			items = append(items, signedItem{key: key, kind: itemHostID})
		case "VENDOR_STRING":
			if vstrDone {
				continue
			}
			vstrDone = true
			items = append(items, signedItem{key: key, kind: itemVendorString})
		case "ISSUED":
			items = append(items, signedItem{key: key, kind: itemIssued})
		case "START":
			items = append(items, signedItem{key: key, kind: itemStart})
		default:
			items = append(items, signedItem{key: key, kind: itemAttr, attr: a})
		}
	}
	b = appendItems(b, items, f, nil)
	for _, s := range servers {
		if s == nil {
			continue
		}
		b = append(b, "SERVER "...)
		b = strconv.AppendQuote(b, NormalHostID(s.HostID))
		b = append(b, '\n')
	}
	return b
}

func appendPackageSignedText(b []byte, p *Package) []byte {
	b = append(b, SignedTextVersion+"\nPACKAGE "...)
	b = strconv.AppendQuote(b, p.Name)
	b = append(b, ' ')
	b = strconv.AppendQuote(b, p.Vendor)
	if p.Version.Text == "" {
		b = append(b, " *"...) // any enabling version
	} else {
		b = append(b, ' ')
		b = appendNormalVersion(b, p.Version)
	}
	b = append(b, '\n')
	var buf [16]signedItem
	items := buf[:0]
	compDone := false
	for i := range p.Attrs {
		a := &p.Attrs[i]
		if !signedAttr(a.Key) {
			continue
		}
		key := upperKey(a.Key)
		switch key {
		case "COMPONENTS":
			if compDone {
				continue
			}
			compDone = true
			items = append(items, signedItem{key: key, kind: itemComponents})
		case "OPTIONS":
			items = append(items, signedItem{key: key, kind: itemOptions, attr: a})
		default:
			items = append(items, signedItem{key: key, kind: itemAttr, attr: a})
		}
	}
	return appendItems(b, items, nil, p)
}

// appendItems sorts items by keyword, keeping the written order of equal
// keywords, and appends one line for each; f or p is the line they
// belong to.
func appendItems(b []byte, items []signedItem, f *Feature, p *Package) []byte {
	// Insertion sort: stable, and lines have few attributes.
	for i := 1; i < len(items); i++ {
		for j := i; j > 0 && items[j].key < items[j-1].key; j-- {
			items[j], items[j-1] = items[j-1], items[j]
		}
	}
	for _, it := range items {
		b = append(b, it.key...)
		switch it.kind {
		case itemAttr:
			if it.attr.HasValue {
				b = append(b, ' ')
				b = strconv.AppendQuote(b, it.attr.Value)
			}
		case itemVendorString:
			b = append(b, ' ')
			b = strconv.AppendQuote(b, f.VendorString)
		case itemHostID:
			ids := make([]string, len(f.HostID))
			for i, h := range f.HostID {
				ids[i] = NormalHostID(h)
			}
			b = append(b, ' ')
			b = strconv.AppendQuote(b, strings.Join(ids, " "))
		case itemIssued:
			b = append(b, ' ')
			b = appendNormalDate(b, f.Issued)
		case itemStart:
			b = append(b, ' ')
			b = appendNormalDate(b, f.Start)
		case itemComponents:
			parts := make([]string, len(p.Components))
			for i, c := range p.Components {
				parts[i] = c.Name + ":" + NormalVersion(c.Version) + ":" + strconv.Itoa(c.Count)
			}
			b = append(b, ' ')
			b = strconv.AppendQuote(b, strings.Join(parts, " "))
		case itemOptions:
			b = append(b, ' ')
			b = strconv.AppendQuote(b, strings.ToUpper(it.attr.Value))
		}
		b = append(b, '\n')
	}
	return b
}

// upperKey is strings.ToUpper for an attribute keyword, without
// allocating for the keywords golm knows.
func upperKey(key string) string {
	lower := false
	for i := 0; i < len(key); i++ {
		if c := key[i]; 'a' <= c && c <= 'z' {
			lower = true
		} else if c >= 0x80 {
			return strings.ToUpper(key)
		}
	}
	if !lower {
		return key
	}
	var buf [24]byte
	if len(key) <= len(buf) {
		for i := 0; i < len(key); i++ {
			c := key[i]
			if 'a' <= c && c <= 'z' {
				c -= 'a' - 'A'
			}
			buf[i] = c
		}
		if k, ok := knownKeys[string(buf[:len(key)])]; ok {
			return k
		}
	}
	return strings.ToUpper(key)
}

// knownKeys maps each attribute keyword golm knows to itself, so that
// upperKey returns a shared string for ck and the like.
var knownKeys = func() map[string]string {
	m := map[string]string{"COMPONENTS": "COMPONENTS", "OPTIONS": "OPTIONS"}
	for k := range featureKeys {
		m[k] = k
	}
	return m
}()

// signedAttr reports whether an attribute keyword enters the signature:
// every keyword except SIGN, ck (in any case, as the parser reads them)
// and the all-lower-case ones the user may edit.
func signedAttr(key string) bool {
	if strings.EqualFold(key, "SIGN") || strings.EqualFold(key, "ck") {
		return false
	}
	for i := 0; i < len(key); i++ {
		c := key[i]
		if c >= 0x80 {
			return key != strings.ToLower(key)
		}
		if 'A' <= c && c <= 'Z' {
			return true
		}
	}
	return false
}

func kindKeyword(k Kind) string {
	switch k {
	case KindIncrement:
		return "INCREMENT"
	case KindUpgrade:
		return "UPGRADE"
	case KindPackage:
		return "PACKAGE"
	case KindServer:
		return "SERVER"
	case KindVendor:
		return "VENDOR"
	case KindUseServer:
		return "USE_SERVER"
	}
	return "FEATURE"
}

// NormalVersion renders a version as the number it is: 2.300 → 2.3,
// 1.0 → 1, 007 → 7. An empty version renders as 0.
func NormalVersion(v Version) string {
	return string(appendNormalVersion(nil, v))
}

func appendNormalVersion(b []byte, v Version) []byte {
	if v.Int == 0 && v.Frac == "" && v.Text != "" && !strings.ContainsAny(v.Text, "0123456789") {
		return append(b, v.Text...) // not a number at all; keep what was written
	}
	b = strconv.AppendUint(b, v.Int, 10)
	if frac := strings.TrimRight(v.Frac, "0"); frac != "" {
		b = append(b, '.')
		b = append(b, frac...)
	}
	return b
}

var monthAbbrev = [...]string{"jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"}

// normalDate renders a date as d-mmm-yyyy without leading zeros and with
// the month in lower case (01-JAN-2005 → 1-jan-2005); every date of year 0
// and the keyword permanent render as "permanent"; an absent date as "-".
func normalDate(d Date) string {
	return string(appendNormalDate(nil, d))
}

func appendNormalDate(b []byte, d Date) []byte {
	if d.Text == "" && d.Year == 0 && d.Day == 0 && d.Month == 0 {
		return append(b, '-')
	}
	if d.Year == 0 {
		return append(b, "permanent"...)
	}
	m := "?"
	if d.Month >= 1 && d.Month <= 12 {
		m = monthAbbrev[d.Month-1]
	}
	b = strconv.AppendInt(b, int64(d.Day), 10)
	b = append(b, '-')
	b = append(b, m...)
	b = append(b, '-')
	return strconv.AppendInt(b, int64(d.Year), 10)
}

// NormalHostID renders a hostid in its normalised spelling: hex digits in
// lower case, ID= without dashes, the type keyword in upper case, ANY and
// DEMO in upper case. Hostids of other kinds keep their value as written.
func NormalHostID(h HostID) string {
	val := h.Value
	switch h.Type {
	case HostIDEther, HostIDLong:
		if val == "" {
			val = h.Text
		}
		return strings.ToLower(val)
	case HostIDDecimal:
		if val == "" {
			val = strings.TrimPrefix(h.Text, "#")
		}
		return "#" + strings.TrimPrefix(val, "#")
	case HostIDAny:
		return "ANY"
	case HostIDDemo:
		return "DEMO"
	}
	typ := ""
	if i := strings.IndexByte(h.Text, '='); i >= 0 {
		typ = strings.ToUpper(h.Text[:i])
		if val == "" {
			val = h.Text[i+1:]
		}
	} else if val == "" {
		val = h.Text
	}
	switch h.Type {
	case HostIDHostname:
		typ = "HOSTNAME"
	case HostIDUser:
		typ = "USER"
	case HostIDDisplay:
		typ = "DISPLAY"
	case HostIDInternet:
		typ = "INTERNET"
	case HostIDID:
		typ = "ID"
		val = strings.ReplaceAll(val, "-", "")
	}
	if typ == "" {
		return val
	}
	return typ + "=" + val
}

// Sign returns the SIGN= value for line l of a file whose SERVER lines are
// servers.
func Sign(priv ed25519.PrivateKey, l Line, servers []*Server) (string, error) {
	if len(priv) != ed25519.PrivateKeySize {
		return "", errors.New("licfile: not an Ed25519 private key")
	}
	if !Signable(l) {
		return "", sigError(l, lmerr.MinorSigKind, "only FEATURE, INCREMENT, UPGRADE and PACKAGE lines are signed")
	}
	return EncodeSignature(ed25519.Sign(priv, appendSignedText(nil, l, servers))), nil
}

// lineSign returns the SIGN= value a line carries.
func lineSign(l Line) string {
	switch l := any(l).(type) {
	case *Feature:
		return l.Sign
	case *Package:
		return l.Sign
	}
	return ""
}

// Verify checks line l of file f against the vendor's public key. It
// returns nil for a good signature and otherwise an error that wraps
// ErrBadSignature and carries FlexLM error -8: an unsigned line, a
// malformed SIGN= value, or a line edited since it was signed.
func Verify(pub ed25519.PublicKey, f *File, l Line) error {
	if !Signable(l) {
		return sigError(l, lmerr.MinorSigKind, "line kind is not signed")
	}
	if len(pub) != ed25519.PublicKeySize {
		return sigError(l, lmerr.MinorSigNoKey, "no public key")
	}
	s := lineSign(l)
	if s == "" {
		return sigError(l, lmerr.MinorSigMissing, "no SIGN=")
	}
	sig, err := DecodeSignature(s)
	if err != nil {
		return sigError(l, lmerr.MinorSigEncoding, err.Error())
	}
	var servers []*Server
	if f != nil {
		servers = f.Servers
	}
	if !ed25519.Verify(pub, appendSignedText(nil, l, servers), sig) {
		return sigError(l, lmerr.MinorSigMismatch, "signature does not match the line")
	}
	return nil
}

// Key files.
//
// GenerateKey writes a vendor's key pair as two small text files. Lines
// starting with # are comments; the one other line is
//
//	golm-ed25519-private VENDOR <64 hex digits: the Ed25519 seed>
//	golm-ed25519-public VENDOR <64 hex digits: the public key>
//
// so a key file says whose key it is, and a public key can be pasted into
// a mail or a vendor-specific build.

const (
	privateKeyTag = "golm-ed25519-private"
	publicKeyTag  = "golm-ed25519-public"
)

// PrivateKey is a vendor's signing key.
type PrivateKey struct {
	Vendor string
	Key    ed25519.PrivateKey
}

// PublicKey is a vendor's verification key.
type PublicKey struct {
	Vendor string
	Key    ed25519.PublicKey
}

// GenerateKey makes a new key pair for vendor from rand (crypto/rand when
// nil) and writes it into dir as VENDOR.key (mode 0600) and VENDOR.pub
// (mode 0644). It refuses to overwrite an existing private key. It returns
// the paths written.
func GenerateKey(dir, vendor string, random io.Reader) (keyPath, pubPath string, err error) {
	if !validVendorName(vendor) {
		return "", "", fmt.Errorf("invalid vendor name %q", vendor)
	}
	if random == nil {
		random = rand.Reader
	}
	pub, priv, err := ed25519.GenerateKey(random)
	if err != nil {
		return "", "", err
	}
	keyPath = filepath.Join(dir, vendor+".key")
	pubPath = filepath.Join(dir, vendor+".pub")
	kf, err := os.OpenFile(keyPath, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return "", "", err
	}
	_, err = kf.WriteString(FormatPrivateKey(PrivateKey{vendor, priv}))
	if cerr := kf.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(keyPath)
		return "", "", err
	}
	if err := os.WriteFile(pubPath, []byte(FormatPublicKey(PublicKey{vendor, pub})), 0o644); err != nil {
		return "", "", err
	}
	return keyPath, pubPath, nil
}

// FormatPrivateKey renders a private key file.
func FormatPrivateKey(k PrivateKey) string {
	return fmt.Sprintf("# golm license signing key of vendor %s. Keep it secret.\n%s %s %s\n",
		k.Vendor, privateKeyTag, k.Vendor, hex.EncodeToString(k.Key.Seed()))
}

// FormatPublicKey renders a public key file.
func FormatPublicKey(k PublicKey) string {
	return fmt.Sprintf("# golm license verification key of vendor %s.\n%s %s %s\n",
		k.Vendor, publicKeyTag, k.Vendor, hex.EncodeToString(k.Key))
}

// validVendorName accepts names that make safe file names.
func validVendorName(v string) bool {
	if v == "" || len(v) > 64 {
		return false
	}
	for _, r := range v {
		ok := r == '_' || r == '-' || r == '.' || ('0' <= r && r <= '9') || ('a' <= r && r <= 'z') || ('A' <= r && r <= 'Z')
		if !ok {
			return false
		}
	}
	return v[0] != '.' && v[0] != '-'
}

// parseKeyFile finds the key line of a key file.
func parseKeyFile(data []byte) (tag, vendor string, key []byte, err error) {
	for _, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || line[0] == '#' {
			continue
		}
		f := strings.Fields(line)
		if len(f) != 3 || (f[0] != privateKeyTag && f[0] != publicKeyTag) {
			return "", "", nil, errors.New("not a golm key file")
		}
		key, err := hex.DecodeString(f[2])
		if err != nil || len(key) != 32 {
			return "", "", nil, errors.New("malformed key in key file")
		}
		return f[0], f[1], key, nil
	}
	return "", "", nil, errors.New("no key in key file")
}

// ParsePrivateKey reads a private key file's contents.
func ParsePrivateKey(data []byte) (PrivateKey, error) {
	tag, vendor, key, err := parseKeyFile(data)
	if err != nil {
		return PrivateKey{}, err
	}
	if tag != privateKeyTag {
		return PrivateKey{}, errors.New("a public key file, not a private key")
	}
	return PrivateKey{vendor, ed25519.NewKeyFromSeed(key)}, nil
}

// ParsePublicKey reads a public key file's contents. A private key file
// is accepted too: its public half is returned.
func ParsePublicKey(data []byte) (PublicKey, error) {
	tag, vendor, key, err := parseKeyFile(data)
	if err != nil {
		return PublicKey{}, err
	}
	if tag == privateKeyTag {
		return PublicKey{vendor, ed25519.NewKeyFromSeed(key).Public().(ed25519.PublicKey)}, nil
	}
	return PublicKey{vendor, ed25519.PublicKey(bytes.Clone(key))}, nil
}

// LoadPrivateKey reads a private key file.
func LoadPrivateKey(path string) (PrivateKey, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return PrivateKey{}, err
	}
	k, err := ParsePrivateKey(data)
	if err != nil {
		return PrivateKey{}, fmt.Errorf("%s: %w", path, err)
	}
	return k, nil
}

// LoadPublicKey reads a public (or private) key file.
func LoadPublicKey(path string) (PublicKey, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return PublicKey{}, err
	}
	k, err := ParsePublicKey(data)
	if err != nil {
		return PublicKey{}, fmt.Errorf("%s: %w", path, err)
	}
	return k, nil
}

// FindPublicKey looks for vendor's public key file VENDOR.pub, first in the
// directory of the license file, then in the directory of each daemon
// binary given (the DAEMON line's path, the running vendor daemon). It
// returns the key and the path it was read from; an error carrying -8 when
// there is none. A key file that names another vendor is an error.
func FindPublicKey(vendor, licenseFilePath string, daemonPaths ...string) (PublicKey, string, error) {
	if !validVendorName(vendor) {
		return PublicKey{}, "", sigError(nil, lmerr.MinorSigVendorName, fmt.Sprintf("no public key for vendor %q", vendor))
	}
	var dirs []string
	if licenseFilePath != "" {
		dirs = append(dirs, filepath.Dir(licenseFilePath))
	}
	for _, p := range daemonPaths {
		if p != "" {
			dirs = append(dirs, filepath.Dir(p))
		}
	}
	for _, d := range dirs {
		p := filepath.Join(d, vendor+".pub")
		k, err := LoadPublicKey(p)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return PublicKey{}, p, err
		}
		if k.Vendor != vendor {
			return PublicKey{}, p, fmt.Errorf("%s: key of vendor %q, not %q", p, k.Vendor, vendor)
		}
		return k, p, nil
	}
	return PublicKey{}, "", sigError(nil, lmerr.MinorSigNoPubFile, fmt.Sprintf("no %s.pub beside the license file or the vendor daemon", vendor))
}

// SignedLine reports one line that SignFile signed.
type SignedLine struct {
	Line Line
	Sign string // the SIGN= value written
	Ck   int    // the ck= value written
}

// SignFile signs, in data (the bytes f was parsed from), every FEATURE,
// INCREMENT, UPGRADE and PACKAGE line whose vendor has a key in keys, and
// returns the new file contents. Each signed line gets SIGN= and ck= with
// their new values: an existing SIGN= or ck= attribute is replaced where
// it stands, a missing one is appended at the end of the logical line.
// Lines of vendors without a key are left alone; SignFile reports only
// the lines it signed, in file order.
//
// For each vendor it signs, SignFile also removes the vendor's old
// manifest lines and appends one new manifest (see manifest.go) covering
// all of the vendor's lines at the end of the file, after a line end
// (and a blank line when the last line ends in a continuation). Every
// other byte of data is left as it was, so signing a signed file again
// gives the same bytes.
func SignFile(data []byte, f *File, keys map[string]ed25519.PrivateKey) ([]byte, []SignedLine, error) {
	type edit struct {
		start, end int
		text       string
	}
	var edits []edit
	var signed []SignedLine
	// The lines signed and their signatures, by vendor, for the manifests.
	type vendorLines struct {
		lines []Line
		sigs  [][]byte
	}
	byVendor := map[string]*vendorLines{}
	var vendors []string // in the order of their first signed line
	var text []byte
	for _, l := range f.Order {
		if !Signable(l) {
			continue
		}
		vendor := lineVendor(l)
		priv, ok := keys[vendor]
		if !ok {
			continue
		}
		if len(priv) != ed25519.PrivateKeySize {
			return nil, nil, errors.New("licfile: not an Ed25519 private key")
		}
		sp := l.LineSpan()
		if sp == nil || sp.Offset < 0 || sp.End > len(data) || sp.Offset > sp.End || string(data[sp.Offset:sp.End]) != sp.Raw {
			return nil, nil, fmt.Errorf("licfile: line %d: position does not match the file contents", spanLine(sp))
		}
		text = appendSignedText(text[:0], l, f.Servers)
		raw := ed25519.Sign(priv, text)
		sig := EncodeSignature(raw)
		vl := byVendor[vendor]
		if vl == nil {
			vl = &vendorLines{}
			byVendor[vendor] = vl
			vendors = append(vendors, vendor)
		}
		vl.lines = append(vl.lines, l)
		vl.sigs = append(vl.sigs, raw)
		ck := LineChecksum(l, f.Servers, false)
		setSign, setCk := "SIGN="+sig, "ck="+strconv.Itoa(ck)
		haveSign, haveCk := false, false
		for _, t := range attrTokens(sp.Raw) {
			key, _, hasEq := strings.Cut(sp.Raw[t[0]:t[1]], "=")
			switch {
			case !hasEq:
				// A positional field: a v2 license key may well read SIGN.
			case strings.EqualFold(key, "SIGN"):
				edits = append(edits, edit{sp.Offset + t[0], sp.Offset + t[1], setSign})
				haveSign = true
			case strings.EqualFold(key, "ck"):
				edits = append(edits, edit{sp.Offset + t[0], sp.Offset + t[1], setCk})
				haveCk = true
			}
		}
		var add []string
		if !haveSign {
			add = append(add, setSign)
		}
		if !haveCk {
			add = append(add, setCk)
		}
		if len(add) > 0 {
			at := appendPoint(sp.Raw)
			edits = append(edits, edit{sp.Offset + at, sp.Offset + at, " " + strings.Join(add, " ")})
		}
		signed = append(signed, SignedLine{Line: l, Sign: sig, Ck: ck})
	}
	// The vendors' old manifests go, whole lines with their line ends.
	for _, m := range f.Manifests {
		if byVendor[m.Vendor] == nil {
			continue
		}
		if m.Offset < 0 || m.End > len(data) || m.Offset > m.End || string(data[m.Offset:m.End]) != m.Raw {
			return nil, nil, fmt.Errorf("licfile: line %d: position does not match the file contents", m.Pos.Line)
		}
		end := m.End
		for end < len(data) && data[end] == '\r' {
			end++
		}
		if end < len(data) && data[end] == '\n' {
			end++
		}
		edits = append(edits, edit{m.Offset, end, ""})
	}
	var manifests []*Manifest
	for _, v := range vendors {
		vl := byVendor[v]
		m, err := signManifest(keys[v], v, vl.lines, f.Servers, vl.sigs)
		if err != nil {
			return nil, nil, err
		}
		manifests = append(manifests, m)
	}
	sort.SliceStable(edits, func(i, j int) bool { return edits[i].start < edits[j].start })
	var out bytes.Buffer
	out.Grow(len(data) + 128*len(signed) + 160*len(manifests))
	prev := 0
	for _, e := range edits {
		if e.start < prev {
			return nil, nil, errors.New("licfile: overlapping signature edits")
		}
		out.Write(data[prev:e.start])
		out.WriteString(e.text)
		prev = e.end
	}
	out.Write(data[prev:])
	if len(manifests) > 0 {
		nl := "\n"
		if i := bytes.IndexByte(data, '\n'); i > 0 && data[i-1] == '\r' {
			nl = "\r\n"
		}
		b := out.Bytes()
		if len(b) > 0 && b[len(b)-1] != '\n' {
			out.WriteString(nl)
		}
		b = out.Bytes()
		last := bytes.TrimRight(b[:max(len(b)-1, 0)], "\r")
		if i := bytes.LastIndexByte(last, '\n'); i >= 0 {
			last = last[i+1:]
		}
		if bytes.HasSuffix(bytes.TrimRight(last, " \t\r\v\f"), []byte(`\`)) {
			// A blank line, so that the manifest is not read as the
			// continuation of the last line.
			out.WriteString(nl)
		}
		for _, m := range manifests {
			out.WriteString(m.String() + nl)
		}
	}
	return out.Bytes(), signed, nil
}

func spanLine(sp *Span) int {
	if sp == nil {
		return 0
	}
	return sp.Pos.Line
}

// lineVendor is the vendor daemon of a signable line.
func lineVendor(l Line) string {
	switch l := any(l).(type) {
	case *Feature:
		return l.Vendor
	case *Package:
		return l.Vendor
	}
	return ""
}

// attrTokens splits a raw logical line into its whitespace-separated
// tokens, [start, end) byte offsets, with double-quoted parts kept inside
// their token and backslash-newline continuations treated as space.
func attrTokens(raw string) [][2]int {
	var toks [][2]int
	i := 0
	for i < len(raw) {
		c := raw[i]
		if c == ' ' || c == '\t' || c == '\r' || c == '\n' {
			i++
			continue
		}
		if c == '\\' && continuationAt(raw, i) {
			i++
			continue
		}
		start := i
		quoted := false
		for i < len(raw) {
			c := raw[i]
			if c == '"' {
				quoted = !quoted
			} else if !quoted && (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
				break
			} else if !quoted && c == '\\' && continuationAt(raw, i) {
				break
			}
			i++
		}
		toks = append(toks, [2]int{start, i})
	}
	return toks
}

// continuationAt reports whether the backslash at raw[i] ends a physical
// line: only spaces, tabs or a carriage return follow it before a newline
// or the end of the line.
func continuationAt(raw string, i int) bool {
	for j := i + 1; j < len(raw); j++ {
		switch raw[j] {
		case ' ', '\t', '\r':
			continue
		case '\n':
			return true
		}
		return false
	}
	return true
}

// appendPoint is where attributes are added to a raw logical line: after
// its last token, before any trailing blanks or a dangling continuation.
func appendPoint(raw string) int {
	toks := attrTokens(raw)
	if len(toks) == 0 {
		return len(raw)
	}
	return toks[len(toks)-1][1]
}
