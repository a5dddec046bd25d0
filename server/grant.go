package server

import (
	"golm/lmutil/licfile"
	"golm/lmutil/protocol"
)

// signedForms holds the signed form and SIGN= of every line a vendor
// daemon serves, computed once when the license files are read, for the
// grants that carry them (protocol.SignedGranted).
type signedForms struct {
	lines map[*licfile.Feature]protocol.GrantLine
	pkgs  map[string]protocol.GrantLine // PACKAGE lines by name
	// prev is the previous reading's forms: seats of pools from before an
	// lmreread, and grants made while the reread is applied, still find
	// their lines. Only one generation is kept.
	prev *signedForms
}

// newSignedForms computes the forms of lines and pkgs, lines of files.
func newSignedForms(files []*licfile.File, lines []*licfile.Feature, pkgs []*licfile.Package) *signedForms {
	sf := &signedForms{lines: make(map[*licfile.Feature]protocol.GrantLine, len(lines)), pkgs: map[string]protocol.GrantLine{}}
	want := make(map[*licfile.Feature]bool, len(lines))
	for _, l := range lines {
		want[l] = true
	}
	for _, f := range files {
		for _, ft := range f.Features {
			if want[ft] {
				sf.lines[ft] = protocol.GrantLine{Text: licfile.SignedText(ft, f.Servers), Sign: ft.Sign}
			}
		}
	}
	for _, p := range pkgs {
		if _, ok := sf.pkgs[p.Name]; !ok {
			sf.pkgs[p.Name] = protocol.GrantLine{Text: licfile.SignedText(p, nil), Sign: p.Sign}
		}
	}
	return sf
}

// with returns sf keeping prev (without prev's own prev) to fall back on.
func (sf *signedForms) with(prev *signedForms) *signedForms {
	if sf == nil || prev == nil {
		return sf
	}
	return &signedForms{lines: sf.lines, pkgs: sf.pkgs, prev: &signedForms{lines: prev.lines, pkgs: prev.pkgs}}
}

func (sf *signedForms) line(l *licfile.Feature) (protocol.GrantLine, bool) {
	for f := sf; f != nil; f = f.prev {
		if g, ok := f.lines[l]; ok {
			return g, true
		}
	}
	return protocol.GrantLine{}, false
}

func (sf *signedForms) pkg(name string) (protocol.GrantLine, bool) {
	for f := sf; f != nil; f = f.prev {
		if g, ok := f.pkgs[name]; ok {
			return g, true
		}
	}
	return protocol.GrantLine{}, false
}

// grantLinesOf returns the lines a grant from p carries: for a PACKAGE
// component the PACKAGE line first, then the pool's first lines, at most
// protocol.MaxGrantLines in all.
func (sf *signedForms) grantLinesOf(p *Pool) []protocol.GrantLine {
	if sf == nil {
		return nil
	}
	var out []protocol.GrantLine
	if p.Package != "" {
		if g, ok := sf.pkg(p.Package); ok {
			out = append(out, g)
		}
	}
	for _, l := range p.Lines {
		if len(out) == protocol.MaxGrantLines {
			break
		}
		if g, ok := sf.line(l); ok {
			out = append(out, g)
		}
	}
	return out
}

// grant is the answer to a granted checkout or a QueuePoll of a held
// seat: Granted, or SignedGranted with the pool's lines when the client
// asked for them.
func (v *Vendor) grant(s *session, st *Seat, adopted bool) protocol.Message {
	g := granted(st, adopted)
	if !s.signedGrants {
		return g
	}
	return &protocol.SignedGranted{Granted: *g, Form: protocol.SignedFormGolm1, Lines: v.signed.Load().grantLinesOf(st.Pool)}
}
