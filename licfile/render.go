package licfile

import (
	"strconv"
	"strings"
)

// needsQuote reports whether a value must be written in double quotes to
// read back as one value: it is empty, holds a blank, or ends in a
// backslash (which would continue the line).
func needsQuote(v string) bool {
	if v == "" || strings.HasSuffix(v, `\`) {
		return true
	}
	for i := 0; i < len(v); i++ {
		if isSpace(v[i]) {
			return true
		}
	}
	return false
}

func quoteIf(v string, force bool) string {
	if force || needsQuote(v) {
		return `"` + v + `"`
	}
	return v
}

// String renders the attribute as KEY=value or a bare KEY, quoting the
// value when it was written quoted or needs quotes.
func (a Attr) String() string {
	if !a.HasValue {
		return a.Key
	}
	return a.Key + "=" + quoteIf(a.Value, a.Quoted)
}

type lineWriter struct{ parts []string }

func (w *lineWriter) add(s ...string) { w.parts = append(w.parts, s...) }
func (w *lineWriter) attrs(as []Attr) {
	for _, a := range as {
		w.add(a.String())
	}
}
func (w *lineWriter) String() string { return strings.Join(w.parts, " ") }

// LineKind returns KindServer.
func (s *Server) LineKind() Kind { return KindServer }

// LineSpan returns where the line is in its file.
func (s *Server) LineSpan() *Span { return &s.Span }

// String renders SERVER host hostid [port] [attributes].
func (s *Server) String() string {
	w := &lineWriter{}
	w.add("SERVER", s.Host, s.HostID.Text)
	if s.Port != 0 {
		w.add(strconv.Itoa(s.Port))
	}
	w.attrs(s.Attrs)
	return w.String()
}

// LineKind returns KindVendor.
func (v *Vendor) LineKind() Kind { return KindVendor }

// LineSpan returns where the line is in its file.
func (v *Vendor) LineSpan() *Span { return &v.Span }

// String renders DAEMON|VENDOR name [path] [options=file] [port=n]: the
// options file and port always in their keyword forms.
func (v *Vendor) String() string {
	w := &lineWriter{}
	kw := v.Keyword
	if kw == "" {
		kw = "VENDOR"
	}
	w.add(kw, v.Name)
	if v.Path != "" {
		w.add(quoteIf(v.Path, false))
	}
	if v.Options != "" {
		w.add("options=" + quoteIf(v.Options, false))
	}
	if v.Port != 0 {
		w.add("port=" + strconv.Itoa(v.Port))
	}
	return w.String()
}

// LineKind returns KindUseServer.
func (u *UseServer) LineKind() Kind { return KindUseServer }

// LineSpan returns where the line is in its file.
func (u *UseServer) LineSpan() *Span { return &u.Span }

// String renders USE_SERVER.
func (u *UseServer) String() string { return "USE_SERVER" }

// LineKind returns the line's kind: FEATURE, INCREMENT or UPGRADE.
func (f *Feature) LineKind() Kind { return f.Kind }

// LineSpan returns where the line is in its file.
func (f *Feature) LineSpan() *Span { return &f.Span }

// Keyword is the line's keyword: FEATURE, INCREMENT or UPGRADE.
func (f *Feature) Keyword() string {
	switch f.Kind {
	case KindIncrement:
		return "INCREMENT"
	case KindUpgrade:
		return "UPGRADE"
	}
	return "FEATURE"
}

// String renders the line in its own format: the positional fields, the
// license key if any, for v2 the quoted vendor string and positional
// hostid, then the attributes in written order.
func (f *Feature) String() string {
	w := &lineWriter{}
	w.add(f.Keyword(), f.Name, f.Vendor)
	if f.Kind == KindUpgrade {
		w.add(f.FromVersion.Text)
	}
	w.add(f.Version.Text, f.Expiry.Text, f.CountText)
	if f.Key != "" {
		w.add(f.Key)
	}
	if f.Format == FormatV2 {
		w.add(`"` + f.VendorString + `"`)
		if len(f.HostID) > 0 && !hasAttr(f.Attrs, "HOSTID") {
			w.add(f.HostID.String())
		}
	}
	w.attrs(f.Attrs)
	return w.String()
}

func hasAttr(as []Attr, key string) bool {
	for _, a := range as {
		if strings.EqualFold(a.Key, key) && !isLower(a.Key) {
			return true
		}
	}
	return false
}

// Counted reports whether the line's licenses are counted by a server
// (a count above 0); uncounted lines need no server.
func (f *Feature) Counted() bool { return f.Count > 0 }

// NodeLocked reports whether the line carries a hostid (HOSTID= or the v2
// positional one), ANY and DEMO included.
func (f *Feature) NodeLocked() bool { return len(f.HostID) > 0 }

// Attr returns the value of the attribute key (matched as
// HOSTID/hostid are matched: upper-case keys in any case, lower-case
// keys exactly) and whether the line has it.
func (f *Feature) Attr(key string) (string, bool) { return findAttr(f.Attrs, key) }

func findAttr(as []Attr, key string) (string, bool) {
	for _, a := range as {
		if a.Key == key || (!isLower(key) && !isLower(a.Key) && strings.EqualFold(a.Key, key)) {
			return a.Value, true
		}
	}
	return "", false
}

// LineKind returns KindPackage.
func (p *Package) LineKind() Kind { return KindPackage }

// LineSpan returns where the line is in its file.
func (p *Package) LineSpan() *Span { return &p.Span }

// String renders PACKAGE name vendor [version] [key] attributes.
func (p *Package) String() string {
	w := &lineWriter{}
	w.add("PACKAGE", p.Name, p.Vendor)
	if p.Version.Text != "" {
		w.add(p.Version.Text)
	}
	if p.Key != "" {
		w.add(p.Key)
	}
	w.attrs(p.Attrs)
	return w.String()
}

// String renders a component as name[:version[:count]].
func (c Component) String() string {
	s := c.Name
	if c.Version.Text != "" || c.Count != 0 {
		s += ":" + c.Version.Text
	}
	if c.Count != 0 {
		s += ":" + strconv.Itoa(c.Count)
	}
	return s
}

// String renders the whole file canonically: every parsed line in file
// order, one per line; comments, blank lines and bad lines are left out.
func (f *File) String() string {
	var b strings.Builder
	for _, l := range f.Order {
		b.WriteString(l.String())
		b.WriteByte('\n')
	}
	return b.String()
}

// Vendor returns the DAEMON/VENDOR line of the named vendor daemon, or
// nil when the file has none.
func (f *File) Vendor(name string) *Vendor {
	for _, v := range f.Vendors {
		if v.Name == name {
			return v
		}
	}
	return nil
}

// Feature returns the FEATURE, INCREMENT and UPGRADE lines of the named
// feature, in file order.
func (f *File) Feature(name string) []*Feature {
	var out []*Feature
	for _, x := range f.Features {
		if x.Name == name {
			out = append(out, x)
		}
	}
	return out
}
