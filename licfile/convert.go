package licfile

// Conversion between license format versions.
//
// Convert rewrites a line in the syntax an older (or newer) FLEXlm
// release reads, as lminstall -overfmt does, when that release can
// express every field of the line; otherwise it says what stands in the
// way. What each release reads, by golm's reading of the manual:
//
//	v2    FEATURE and INCREMENT with a license key, a positional
//	      "vendor string" and an optional positional hostid; no
//	      keyword=value attributes at all; SERVER and DAEMON lines.
//	v2    no \ continuations either.
//	v3    keyword=value attributes: HOSTID=, VENDOR_STRING=, ISSUER=,
//	      NOTICE=, the lower-case ones (vendor_info=, ck=, ...); UPGRADE
//	      lines.
//	v4    DUP_GROUP=, OVERDRAFT=, PACKAGE lines (manual G.2).
//	v5    ISSUED=, SN=, SUPERSEDE, USER_BASED, HOST_BASED (manual G.2),
//	      hostid lists, USE_SERVER lines, options= and port= on the
//	      DAEMON line.
//	v5.1  PLATFORMS=.
//	v6    START=, permanent (1-jan-0 before), uncounted (0 before), the
//	      VENDOR keyword (DAEMON before), a DAEMON line without a path,
//	      UPGRADE of uncounted node-locked lines.
//	v7    nothing new in the license file.
//	v7.1  SIGN= instead of the license key.
//
// Attributes of later releases (BORROW, FLOAT_OK, TS_OK, SERVER's
// HEARTBEAT_INTERVAL= and the like) are not read by any of them.
//
// A line carries either a license key (v2 to v7.0) or SIGN= (v7.1): the one
// becomes the other. So a line signed by golm keeps its signature in the key
// field of an older format, and the parser takes a key that is a golm
// signature as the line's SIGN= (Feature.Sign, Package.Sign), so it still
// verifies. Convert refuses any rewriting that would change the line's
// signed form (SignedText), such as adding an empty v2 vendor string to a
// signed line that has none.

import (
	"fmt"
	"strconv"
	"strings"
)

// FlexVersion is a FLEXlm release whose license syntax Convert writes, as
// lminstall -overfmt names it: 2, 3, 4, 5, 5.1, 6, 7 or 7.1, held as ten
// times its number (51 for 5.1).
type FlexVersion int

// The releases -overfmt accepts.
const (
	FlexV2  FlexVersion = 20
	FlexV3  FlexVersion = 30
	FlexV4  FlexVersion = 40
	FlexV5  FlexVersion = 50
	FlexV51 FlexVersion = 51
	FlexV6  FlexVersion = 60
	FlexV7  FlexVersion = 70
	FlexV71 FlexVersion = 71
)

// FlexVersions is every release Convert knows, oldest first.
var FlexVersions = []FlexVersion{FlexV2, FlexV3, FlexV4, FlexV5, FlexV51, FlexV6, FlexV7, FlexV71}

// ParseFlexVersion reads an -overfmt value: 2, 3, 4, 5, 5.1, 6, 7 or 7.1.
func ParseFlexVersion(s string) (FlexVersion, error) {
	for _, v := range FlexVersions {
		if v.String() == s {
			return v, nil
		}
	}
	return 0, fmt.Errorf("unknown license format version %q (2, 3, 4, 5, 5.1, 6, 7 or 7.1)", s)
}

// String writes the release as -overfmt takes it: "2", "5.1".
func (v FlexVersion) String() string {
	if v%10 == 0 {
		return strconv.Itoa(int(v) / 10)
	}
	return strconv.Itoa(int(v)/10) + "." + strconv.Itoa(int(v)%10)
}

// ConvertError says why a line cannot be written for a release.
type ConvertError struct {
	Version FlexVersion
	Reason  string
}

// Error prints "cannot convert to v2: reason".
func (e *ConvertError) Error() string {
	return "cannot convert to v" + e.Version.String() + ": " + e.Reason
}

// attrSince is the release that first reads each upper-case attribute;
// upper-case attributes missing here are of releases after v7.1.
var attrSince = map[string]FlexVersion{
	"HOSTID": FlexV3, "VENDOR_STRING": FlexV3, "ISSUER": FlexV3, "NOTICE": FlexV3,
	"ISSUED": FlexV5, "SN": FlexV5, "SUPERSEDE": FlexV5, "USER_BASED": FlexV5,
	"HOST_BASED": FlexV5, "DUP_GROUP": FlexV4, "OVERDRAFT": FlexV4,
	"COMPONENTS": FlexV4, "OPTIONS": FlexV5, "PLATFORMS": FlexV51,
	"START": FlexV6, "SIGN": FlexV71,
}

// Convert renders line l in the syntax of release v, or returns a
// *ConvertError saying what that release cannot express.
func Convert(l Line, v FlexVersion) (string, error) {
	c := &converter{v: v}
	var text string
	switch l := any(l).(type) {
	case *Server:
		text = c.server(l)
	case *Vendor:
		text = c.vendor(l)
	case *UseServer:
		if v < FlexV5 {
			c.refuse("USE_SERVER needs v5")
		}
		text = l.String()
	case *Feature:
		text = c.feature(l)
	case *Package:
		text = c.pkg(l)
	default:
		return "", &ConvertError{v, "not a license line"}
	}
	if c.err != nil {
		return "", c.err
	}
	// The result must read back as a line of the same kind that signs
	// the same: a conversion never changes what a license grants.
	again, err := parseOneLine(text)
	if err != nil {
		return "", &ConvertError{v, "the converted line does not parse: " + err.Error()}
	}
	if again.LineKind() != l.LineKind() || !signsSame(l, again) {
		return "", &ConvertError{v, "the converted line would not sign the same"}
	}
	return text, nil
}

// signsSame reports whether a converted line b signs as its original a
// does. A line without a golm signature may gain the empty vendor string
// v2 requires: there is no signature it could break.
func signsSame(a, b Line) bool {
	sa, sb := SignedText(a, nil), SignedText(b, nil)
	if sa == sb {
		return true
	}
	if _, err := DecodeSignature(lineSign(a)); err == nil {
		return false
	}
	const empty = "VENDOR_STRING \"\"\n"
	return strings.Replace(sa, empty, "", 1) == strings.Replace(sb, empty, "", 1)
}

// converter collects the first reason a line cannot be converted.
type converter struct {
	v   FlexVersion
	err error
}

func (c *converter) refuse(format string, args ...any) {
	if c.err == nil {
		c.err = &ConvertError{c.v, fmt.Sprintf(format, args...)}
	}
}

func (c *converter) server(s *Server) string {
	for _, a := range s.Attrs {
		if isLower(a.Key) {
			if c.v < FlexV3 {
				c.refuse("%s= needs v3", a.Key)
			}
			continue
		}
		c.refuse("%s is newer than v7.1", a.Key)
	}
	return s.String()
}

func (c *converter) vendor(d *Vendor) string {
	if c.v >= FlexV6 {
		return d.String()
	}
	// Before v6 the line is DAEMON with a path; options= and port= are
	// v5 keywords, and an older release takes the options file as the
	// positional field after the path.
	if d.Path == "" {
		c.refuse("a DAEMON line needs a path before v6")
	}
	w := &lineWriter{}
	w.add("DAEMON", d.Name, quoteIf(d.Path, false))
	if c.v >= FlexV5 {
		if d.Options != "" {
			w.add("options=" + quoteIf(d.Options, false))
		}
		if d.Port != 0 {
			w.add("port=" + strconv.Itoa(d.Port))
		}
		return w.String()
	}
	if d.Options != "" {
		w.add(quoteIf(d.Options, false))
	}
	if d.Port != 0 {
		c.refuse("a vendor daemon port needs v5")
	}
	return w.String()
}

// keyField is the value of the license key field (v2 to v7.0) or SIGN=
// (v7.1) of a line: its key, else its SIGN= value.
func (c *converter) keyField(key, sign string, hasSignAttr bool) string {
	switch {
	case key != "" && hasSignAttr && c.v >= FlexV71:
		c.refuse("the line has both a license key and SIGN=")
	case key != "" && hasSignAttr:
		c.refuse("SIGN= needs v7.1")
	case key != "":
		return key
	}
	if c.v >= FlexV71 {
		return sign
	}
	if sign == "" {
		c.refuse("no license key or SIGN= to write in the key field")
	} else if needsQuote(sign) || isBareKey(sign) || strings.ContainsAny(sign, `="`) {
		c.refuse("SIGN=%q cannot stand as a license key", sign)
	}
	return sign
}

// attrs writes the attributes a release after v2 reads, SIGN= left out.
func (c *converter) attrs(w *lineWriter, as []Attr) {
	for _, a := range as {
		if isLower(a.Key) {
			w.add(a.String())
			continue
		}
		up := strings.ToUpper(a.Key)
		since, ok := attrSince[up]
		switch {
		case up == "SIGN" && c.v < FlexV71:
			continue // written in the key field
		case !ok:
			c.refuse("%s is newer than v7.1", a.Key)
		case since > c.v:
			c.refuse("%s needs v%s", a.Key, since)
		case up == "HOSTID" && c.v < FlexV5 && strings.Contains(strings.TrimSpace(a.Value), " "):
			c.refuse("a hostid list needs v5")
		}
		w.add(a.String())
	}
}

// signAttrs places SIGN=sign among attributes: before a trailing ck=, as
// lmcrypt writes them.
func signAttrs(as []Attr, sign string) []Attr {
	if sign == "" {
		return as
	}
	out := append([]Attr{}, as...)
	at := len(out)
	if at > 0 && out[at-1].Key == "ck" {
		at--
	}
	out = append(out[:at], append([]Attr{{Key: "SIGN", Value: sign, HasValue: true}}, out[at:]...)...)
	return out
}

func (c *converter) feature(f *Feature) string {
	v := c.v
	if f.Kind == KindUpgrade {
		if v < FlexV3 {
			c.refuse("UPGRADE needs v3")
		}
		if v < FlexV6 && !f.Counted() && f.NodeLocked() {
			c.refuse("UPGRADE of an uncounted node-locked line needs v6")
		}
	}
	_, hasSign := f.Attr("SIGN")
	key := c.keyField(f.Key, f.Sign, hasSign)

	w := &lineWriter{}
	w.add(f.Keyword(), f.Name, f.Vendor)
	if f.Kind == KindUpgrade {
		w.add(f.FromVersion.Text)
	}
	expiry, count := f.Expiry.Text, f.CountText
	if v < FlexV6 {
		if f.Expiry.Year == 0 {
			expiry = "1-jan-0"
		}
		if f.Count == 0 {
			count = "0"
		}
	}
	w.add(f.Version.Text, expiry, count)

	// The v2 positional vendor string and hostid are VENDOR_STRING= and
	// HOSTID= of later formats.
	var attrs []Attr
	if f.Format == FormatV2 && v > FlexV2 {
		attrs = append(attrs, Attr{Key: "VENDOR_STRING", Value: f.VendorString, HasValue: true, Quoted: true})
		if len(f.HostID) > 0 && !hasAttr(f.Attrs, "HOSTID") {
			attrs = append(attrs, Attr{Key: "HOSTID", Value: f.HostID.String(), HasValue: true})
		}
	}
	attrs = append(attrs, f.Attrs...)

	if v == FlexV2 {
		w.add(key)
		c.v2Tail(w, f)
		return w.String()
	}
	if v < FlexV71 {
		w.add(key)
	} else if f.Key != "" {
		attrs = signAttrs(attrs, key)
	}
	c.attrs(w, attrs)
	return w.String()
}

// v2Tail writes "vendor string" [hostid] of a v2 line, refusing every
// attribute but ck=, which only helps typing and lmcksum recomputes.
func (c *converter) v2Tail(w *lineWriter, f *Feature) {
	_, hasVS := f.Attr("VENDOR_STRING")
	if f.Format != FormatV2 && !hasVS && f.Sign != "" {
		if _, err := DecodeSignature(f.Sign); err == nil {
			c.refuse("v2 needs a vendor string, and adding an empty one changes what the signature covers")
		}
	}
	w.add(`"` + f.VendorString + `"`)
	if len(f.HostID) > 1 {
		c.refuse("a hostid list needs v5")
	}
	if len(f.HostID) == 1 {
		h := f.HostID[0].Text
		if needsQuote(h) {
			c.refuse("hostid %q cannot be positional", h)
		}
		w.add(h)
	}
	for _, a := range f.Attrs {
		switch strings.ToUpper(a.Key) {
		case "SIGN", "HOSTID", "VENDOR_STRING":
			continue
		}
		if a.Key == "ck" {
			continue
		}
		c.refuse("v2 has no keyword=value attributes: %s", a.Key)
	}
}

func (c *converter) pkg(p *Package) string {
	if c.v < FlexV4 {
		c.refuse("PACKAGE needs v4")
	}
	_, hasSign := findAttr(p.Attrs, "SIGN")
	key := c.keyField(p.Key, p.Sign, hasSign)
	w := &lineWriter{}
	w.add("PACKAGE", p.Name, p.Vendor)
	if p.Version.Text != "" {
		w.add(p.Version.Text)
	}
	attrs := p.Attrs
	if c.v < FlexV71 {
		w.add(key)
	} else if p.Key != "" {
		attrs = signAttrs(attrs, key)
	}
	c.attrs(w, attrs)
	return w.String()
}

// keySignature returns the golm signature a license key field holds (a
// v7.1 line written in an older format keeps its SIGN= value there), or
// "" when the key is not one.
func keySignature(key string) string {
	if len(key) != sigTextLen {
		return ""
	}
	if _, err := DecodeSignature(key); err != nil {
		return ""
	}
	return key
}
