package server

import (
	"sync"

	"golm/lmutil/licfile"
	"golm/lmutil/protocol"
	"golm/lmutil/server/state"
)

// signedForms gives the signed form and SIGN= of the lines a vendor
// daemon serves, for the grants that carry them (protocol.SignedGranted).
// A form is computed the first time a grant needs it and then kept: most
// vendor daemons never send one, and a license file may have many lines.
type signedForms struct {
	fileOf map[*licfile.Feature]*licfile.File // whose SERVER hostids a line's form includes
	pkgs   map[string]*licfile.Package        // the verified PACKAGE lines by name, the first of each
	// prev is the previous reading's forms: seats of pools from before an
	// lmreread, and grants made while the reread is applied, still find
	// their lines. Only one generation is kept.
	prev *signedForms

	mu       sync.Mutex
	lines    map[*licfile.Feature]protocol.GrantLine
	pkgLines map[string]protocol.GrantLine
}

// newSignedForms prepares the forms of lines and pkgs, lines of files.
func newSignedForms(files []*licfile.File, lines []*licfile.Feature, pkgs []*licfile.Package) *signedForms {
	sf := &signedForms{fileOf: make(map[*licfile.Feature]*licfile.File, len(lines)), pkgs: map[string]*licfile.Package{},
		lines: map[*licfile.Feature]protocol.GrantLine{}, pkgLines: map[string]protocol.GrantLine{}}
	want := make(map[*licfile.Feature]bool, len(lines))
	for _, l := range lines {
		want[l] = true
	}
	for _, f := range files {
		for _, ft := range f.Features {
			if want[ft] {
				sf.fileOf[ft] = f
			}
		}
	}
	for _, p := range pkgs {
		if _, ok := sf.pkgs[p.Name]; !ok {
			sf.pkgs[p.Name] = p
		}
	}
	return sf
}

// with returns sf, not yet in use, keeping prev to fall back on (and not
// prev's own prev: lookups go back one generation).
func (sf *signedForms) with(prev *signedForms) *signedForms {
	if sf != nil && prev != nil {
		// A copy of prev's lines without its caches or its own prev, so
		// that older readings can be collected.
		sf.prev = &signedForms{fileOf: prev.fileOf, pkgs: prev.pkgs,
			lines: map[*licfile.Feature]protocol.GrantLine{}, pkgLines: map[string]protocol.GrantLine{}}
	}
	return sf
}

// generations are the forms a lookup tries: sf, then the reading before.
func (sf *signedForms) generations() []*signedForms {
	if sf == nil {
		return nil
	}
	if sf.prev == nil {
		return []*signedForms{sf}
	}
	return []*signedForms{sf, sf.prev}
}

func (sf *signedForms) line(l *licfile.Feature) (protocol.GrantLine, bool) {
	for _, f := range sf.generations() {
		file, ok := f.fileOf[l]
		if !ok {
			continue
		}
		f.mu.Lock()
		g, done := f.lines[l]
		if !done {
			g = protocol.GrantLine{Text: licfile.SignedText(l, file.Servers), Sign: l.Sign}
			f.lines[l] = g
		}
		f.mu.Unlock()
		return g, true
	}
	return protocol.GrantLine{}, false
}

func (sf *signedForms) pkg(name string) (protocol.GrantLine, bool) {
	for _, f := range sf.generations() {
		p, ok := f.pkgs[name]
		if !ok {
			continue
		}
		f.mu.Lock()
		g, done := f.pkgLines[name]
		if !done {
			g = protocol.GrantLine{Text: licfile.SignedText(p, nil), Sign: p.Sign}
			f.pkgLines[name] = g
		}
		f.mu.Unlock()
		return g, true
	}
	return protocol.GrantLine{}, false
}

// grantLinesOf returns the lines a grant from p carries: for a PACKAGE
// component the PACKAGE line first, then the pool's first lines, at most
// protocol.MaxGrantLines in all.
func (sf *signedForms) grantLinesOf(p *state.Pool) []protocol.GrantLine {
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
func (v *Vendor) grant(s *session, st *state.Seat, adopted bool) protocol.Message {
	g := granted(st, adopted)
	if !s.signedGrants {
		return g
	}
	return &protocol.SignedGranted{Granted: *g, Form: protocol.SignedFormGolm1, Lines: v.signed.Load().grantLinesOf(st.Pool)}
}
