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
	"golm/lmutil/server/state"
)

// OptionsPolicy is the Policy of a parsed options file.
type OptionsPolicy struct{ Opts *options.Options }

// requester is what the options file knows of a client: its claimed
// user, host, display and project, and its connection's real address.
func requester(c state.Client) options.Requester {
	ip, _ := netip.ParseAddr(c.IP)
	return options.Requester{User: c.User, Host: c.Host, Display: c.Display, IP: ip.Unmap(), Project: c.Project}
}

// lineOf is the license line a pool's options selectors are matched
// against: its first line.
func lineOf(p *state.Pool) *licfile.Feature {
	if len(p.Lines) == 0 {
		return nil
	}
	return p.Lines[0]
}

// Allow implements Policy.
func (o OptionsPolicy) Allow(p *state.Pool, c state.Client) *lmerr.Error {
	ok, code := o.Opts.Allowed(p.Feature, lineOf(p), requester(c))
	if ok {
		return nil
	}
	minor := lmerr.MinorOptions
	switch {
	case code == lmerr.Excluded:
		minor = lmerr.MinorExcluded
	case o.Opts.Closed(p.Feature) != nil:
		minor = lmerr.MinorOptionsClosed
	}
	return lmerr.New(code, minor)
}

// Reservations implements Policy.
func (o OptionsPolicy) Reservations(p *state.Pool) []state.Reservation {
	rs := o.Opts.Reservations(p.Feature, lineOf(p))
	out := make([]state.Reservation, 0, len(rs))
	for _, rv := range rs {
		out = append(out, state.Reservation{
			Pos:   rv.Pos.String(),
			Count: rv.Count,
			Kind:  rv.Type.String(),
			Name:  rv.Name,
			Match: func(c state.Client) bool { return rv.Matches(requester(c)) },
		})
	}
	return out
}

// Limits implements Policy.
func (o OptionsPolicy) Limits(p *state.Pool) []state.Limit {
	var out []state.Limit
	for _, m := range o.Opts.MaxRules(p.Feature) {
		if !m.AppliesTo(lineOf(p)) {
			continue
		}
		out = append(out, state.Limit{
			Max:     m.Limit,
			Applies: func(c state.Client) bool { return m.Matches(requester(c)) },
			Counts:  func(h, c state.Client) bool { return m.Counts(requester(h), requester(c)) },
		})
	}
	return out
}

// MaxOverdraft implements Policy.
func (o OptionsPolicy) MaxOverdraft(p *state.Pool) (int, bool) {
	return o.Opts.MaxOverdraft(p.Feature, lineOf(p))
}

// Linger implements Policy.
func (o OptionsPolicy) Linger(p *state.Pool) time.Duration {
	d, _ := o.Opts.Linger(p.Feature, lineOf(p))
	return d
}

// Timeout implements Policy.
func (o OptionsPolicy) Timeout(p *state.Pool) time.Duration {
	d, _ := o.Opts.Timeout(p.Feature, lineOf(p))
	return d
}

// Included implements Policy: the USER (GROUP members included) or HOST
// (HOST_GROUP members included) names of the INCLUDE lines of p.
func (o OptionsPolicy) Included(p *state.Pool, kind string) []string {
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

// optionsPath finds vendor's options file: the DAEMON/VENDOR line's
// options path (options= or the positional one; relative to its license
// file's directory), else VENDOR.opt beside a license file ("" when there
// is none); named is whether a license file names the path (then a
// missing file is an error, not the absence of options).
func optionsPath(vendor string, files []*licfile.File) (path string, named bool) {
	for _, f := range files {
		for _, d := range f.Vendors {
			if d.Name == vendor && d.Options != "" {
				p := d.Options
				if !filepath.IsAbs(p) {
					p = filepath.Join(filepath.Dir(f.Name), p)
				}
				return p, true
			}
		}
	}
	for _, f := range files {
		p := filepath.Join(filepath.Dir(f.Name), vendor+".opt")
		if _, err := os.Lstat(p); err == nil {
			return p, false
		}
	}
	return "", false
}

// readOptions reads and parses the options file at path without
// expanding packages: nil when there is none (path is "", or VENDOR.opt
// is gone and no license file names it). A file that cannot be read, or
// that a license file names and is not there, gives the options of
// options.Unreadable: every feature closed. The 7.1 vendor daemon logs
// CANNOT OPEN options file and runs without one; golm fails closed
// because the file is there to restrict access, and a wrong permission
// or a missing mount must not serve everyone what it keeps from some.
// Errors are every bad line, and why the file could not be read.
func readOptions(path string, named bool) (*options.Options, []error) {
	if path == "" {
		return nil, nil
	}
	o, err := options.ParseFile(path)
	if err == nil {
		return o, nil
	}
	var list options.ErrorList
	if errors.As(err, &list) {
		errs := make([]error, len(list))
		for i, e := range list {
			errs[i] = e
		}
		return o, errs
	}
	if errors.Is(err, fs.ErrNotExist) && !named {
		return nil, nil // VENDOR.opt went away: no options
	}
	o = options.Unreadable(path, err)
	return o, []error{o.Closures[0].Err}
}

// LoadOptions reads the options file at path (named: a license file
// names it) as readOptions does and logs every bad line as
// file:line:column: message (code); a file that cannot be read is logged
// as CANNOT OPEN options file "path" (manual F.2). The good lines apply;
// a feature a bad restricting line closes is served to nobody (see
// options.Closure). A package name in the file stands for its
// components. It returns nil when there is no options file.
func LoadOptions(path string, named bool, packages []*licfile.Package, minTimeout time.Duration, log *DebugLog) *options.Options {
	o, errs := readOptions(path, named)
	for _, e := range errs {
		var fe *options.FileError
		if errors.As(e, &fe) {
			log.Printf("CANNOT OPEN options file %q: %s", path, fe.Reason)
			continue
		}
		log.Printf("%v", e)
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
