package server

import (
	"errors"
	"io/fs"
	"net/netip"
	"os"
	"path/filepath"
	"time"

	"golm/lmutil/licfile"
	"golm/lmutil/options"
	"golm/lmutil/protocol/lmerr"
)

// Minor numbers of the options file's denials.
const (
	minorExcluded = 363
	minorOptions  = 364
)

// OptionsPolicy is the Policy of a parsed options file.
type OptionsPolicy struct{ Opts *options.Options }

// requester is what the options file knows of a client: its claimed
// user, host, display and project, and its connection's real address.
func requester(c Client) options.Requester {
	ip, _ := netip.ParseAddr(c.IP)
	return options.Requester{User: c.User, Host: c.Host, Display: c.Display, IP: ip.Unmap(), Project: c.Project}
}

// lineOf is the license line a pool's options selectors are matched
// against: its first line.
func lineOf(p *Pool) *licfile.Feature {
	if len(p.Lines) == 0 {
		return nil
	}
	return p.Lines[0]
}

// Allow implements Policy.
func (o OptionsPolicy) Allow(p *Pool, c Client) *lmerr.Error {
	ok, code := o.Opts.Allowed(p.Feature, lineOf(p), requester(c))
	if ok {
		return nil
	}
	minor := minorOptions
	if code == options.CodeExcluded {
		minor = minorExcluded
	}
	return lmerr.New(code, minor)
}

// Reservations implements Policy.
func (o OptionsPolicy) Reservations(p *Pool) []Reservation {
	rs := o.Opts.Reservations(p.Feature, lineOf(p))
	out := make([]Reservation, 0, len(rs))
	for _, rv := range rs {
		out = append(out, Reservation{
			Pos:   rv.Pos.String(),
			Count: rv.Count,
			Kind:  rv.Type.String(),
			Name:  rv.Name,
			Match: func(c Client) bool { return rv.Matches(requester(c)) },
		})
	}
	return out
}

// Limits implements Policy.
func (o OptionsPolicy) Limits(p *Pool) []Limit {
	var out []Limit
	for _, m := range o.Opts.MaxRules(p.Feature) {
		if !m.AppliesTo(lineOf(p)) {
			continue
		}
		out = append(out, Limit{
			Max:     m.Limit,
			Applies: func(c Client) bool { return m.Matches(requester(c)) },
			Counts:  func(h, c Client) bool { return m.Counts(requester(h), requester(c)) },
		})
	}
	return out
}

// MaxOverdraft implements Policy.
func (o OptionsPolicy) MaxOverdraft(p *Pool) (int, bool) {
	return o.Opts.MaxOverdraft(p.Feature, lineOf(p))
}

// Linger implements Policy.
func (o OptionsPolicy) Linger(p *Pool) time.Duration {
	d, _ := o.Opts.Linger(p.Feature, lineOf(p))
	return d
}

// Timeout implements Policy.
func (o OptionsPolicy) Timeout(p *Pool) time.Duration {
	d, _ := o.Opts.Timeout(p.Feature, lineOf(p))
	return d
}

// Included implements Policy: the USER (GROUP members included) or HOST
// (HOST_GROUP members included) names of the INCLUDE lines of p.
func (o OptionsPolicy) Included(p *Pool, kind string) []string {
	var out []string
	for _, r := range o.Opts.IncludeRules(p.Feature, lineOf(p)) {
		switch {
		case kind == "USER" && r.Type == options.TypeUser,
			kind == "HOST" && r.Type == options.TypeHost:
			out = append(out, r.Names...)
		case kind == "USER" && r.Type == options.TypeGroup:
			for _, g := range r.Names {
				out = append(out, o.Opts.Groups[g]...)
			}
		case kind == "HOST" && r.Type == options.TypeHostGroup:
			for _, g := range r.Names {
				out = append(out, o.Opts.HostGroups[g]...)
			}
		}
	}
	return out
}

// OptionsPath finds vendor's options file: the DAEMON/VENDOR line's
// options path (options= or the positional one; relative to its license
// file's directory), else VENDOR.opt beside a license file. "" when there
// is none.
func OptionsPath(vendor string, files []*licfile.File) string {
	for _, f := range files {
		for _, d := range f.Vendors {
			if d.Name == vendor && d.Options != "" {
				p := d.Options
				if !filepath.IsAbs(p) {
					p = filepath.Join(filepath.Dir(f.Name), p)
				}
				return p
			}
		}
	}
	for _, f := range files {
		p := filepath.Join(filepath.Dir(f.Name), vendor+".opt")
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	return ""
}

// LoadOptions reads the options file at path. Every bad line is written
// to log as file:line:column: message and skipped; the good lines apply.
// A package name in the file stands for its components. It returns nil
// when there is no file or it cannot be read.
func LoadOptions(path string, packages []*licfile.Package, minTimeout time.Duration, log *DebugLog) *options.Options {
	if path == "" {
		return nil
	}
	o, err := options.ParseFile(path)
	if err != nil {
		var list options.ErrorList
		if errors.As(err, &list) {
			for _, e := range list {
				log.Printf("%v", e)
			}
		} else {
			// The manual's wording, with the reason.
			reason := err
			var pe *fs.PathError
			if errors.As(err, &pe) {
				reason = pe.Err
			}
			log.Printf("CANNOT OPEN options file %q: %v", path, reason)
		}
	}
	if o == nil {
		return nil
	}
	o.MinTimeout = minTimeout
	o.ExpandPackages(func(name string) []string {
		for _, pk := range packages {
			if pk.Name == name {
				out := make([]string, len(pk.Components))
				for i, c := range pk.Components {
					out[i] = c.Name
				}
				return out
			}
		}
		return nil
	})
	return o
}
