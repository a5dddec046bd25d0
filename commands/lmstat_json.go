package commands

import (
	"bufio"
	"context"
	"strings"

	"golm/lmutil/licfile"
	"golm/lmutil/protocol"
	"golm/lmutil/protocol/lmerr"
	"golm/lmutil/server/status"
)

// writeStatusJSON is lmstat -json: the status of every source as one
// JSON document. Like the text modes it returns the first error that
// kept a source or vendor daemon from being read.
func writeStatusJSON(ctx context.Context, env *Env, sources []*statSourceSpec, dial statDialer) error {
	doc := status.New(env.Time().UTC().Truncate(1e9))
	var first error
	fail := func(e *status.Error) {
		if first == nil && e != nil {
			first = lmerr.New(lmerr.Code(e.Code), lmerr.Minor(e.Minor))
		}
	}
	for _, src := range sources {
		var s *status.Server
		err := src.err
		if err == nil && len(src.spec) == 3 {
			// A triad: its members, and the rest as lmstat -a shows it.
			s = status.ReadTriad(ctx, memberNames(src.spec, src.file), memberDialer(src.spec, dial), env.Time().Location(), -1)
		} else if err == nil {
			var srv statServer
			if srv, err = dial(ctx, src.spec); err == nil {
				s = status.Read(ctx, "", srv, env.Time().Location())
				srv.Close()
			}
		}
		if s == nil {
			s = &status.Server{Name: src.name, Error: status.ErrorOf(err), LicenseFiles: []string{}, Vendors: []*status.Vendor{}}
			if first == nil {
				first = err
			}
		} else {
			if s.Members == nil {
				s.Name = src.name
			}
			if s.Up && s.Members == nil {
				s.Name = serverName(src.spec, src.file, &protocol.ServerStatus{Host: s.Host, Port: s.Port})
			}
			fail(s.Error)
			for _, v := range s.Vendors {
				fail(v.Error)
			}
		}
		doc.Servers = append(doc.Servers, s)
	}
	out := bufio.NewWriter(env.Stdout)
	if err := status.WriteJSON(out, doc, true); err != nil {
		return err
	}
	if err := out.Flush(); err != nil {
		return err
	}
	return alreadyPrinted(first)
}

// statSourceSpec is one source of the license path as lmstat asks it.
type statSourceSpec struct {
	name string // port@host list, or the source as written when it cannot be read
	spec []licfile.ServerAddr
	file *licfile.File
	err  error
}

// statSources resolves the sources of the license path, one per server
// (a directory's files of one server count once).
func statSources(sources []licfile.Source) []*statSourceSpec {
	var out []*statSourceSpec
	seen := map[string]bool{}
	for _, src := range sources {
		spec, file, err := sourceSpec(src)
		s := &statSourceSpec{name: src.String(), spec: spec, file: file, err: err}
		if err == nil {
			key := strings.ToLower(specString(spec))
			if seen[key] {
				continue
			}
			seen[key] = true
			s.name = specString(spec)
		}
		out = append(out, s)
	}
	return out
}
