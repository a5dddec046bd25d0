package commands

import (
	"context"
	"errors"
	"strings"

	"golm/lmutil/licfile"
	"golm/lmutil/protocol/client"
	"golm/lmutil/protocol/lmerr"
)

// adminOptions are the client options of an admin command run with env.
func adminOptions(env *Env, program string) []client.Option {
	opts := []client.Option{
		client.WithGetenv(env.Env),
		client.WithDir(env.Dir),
		client.WithProgram(program),
	}
	if env.Hostname != nil {
		opts = append(opts, client.WithHostname(env.Hostname))
	}
	return opts
}

// adminTargets resolves the license path (-c, else the environment) into
// the distinct license servers it names, in path order: the SERVER lines
// of each license file, or a port@host. Files without a SERVER line are
// skipped; the error says why when nothing is left.
func adminTargets(env *Env, cflag string) ([][]licfile.ServerAddr, error) {
	sources := env.LicenseSources(cflag, "")
	var out [][]licfile.ServerAddr
	seen := map[string]bool{}
	var first error
	for _, src := range sources {
		spec := src.Servers
		if !src.IsServer() {
			f, err := licfile.ParseFile(src.File)
			var list licfile.ErrorList
			if f == nil || (err != nil && !errors.As(err, &list)) {
				if first == nil {
					first = lmerr.FromOS(lmerr.NoConfFile, lmerr.MinorAdminNoFile, err, "License path: "+src.Path)
				}
				continue
			}
			spec = licfile.ServerSpecOf(f.Servers)
		}
		if len(spec) == 0 {
			continue
		}
		k := strings.ToLower(specString(spec))
		if !seen[k] {
			seen[k] = true
			out = append(out, spec)
		}
	}
	if len(out) == 0 {
		if first == nil {
			first = lmerr.New(lmerr.NoServerLines, lmerr.MinorAdminNoServer, "License path: "+licfile.PathString(sources))
		}
		return nil, first
	}
	return out, nil
}

// adminConn is one lmgrd an admin command talks to.
type adminConn struct {
	adm     *client.Admin
	addr    string   // port@host as lmgrd names itself
	vendors []string // its vendor daemons
}

// dialAdmins connects to the lmgrd of each target, or only to the first
// that answers unless all is set. It returns the connections and the
// error of the first target that did not answer.
func dialAdmins(ctx context.Context, env *Env, program string, targets [][]licfile.ServerAddr, all bool) ([]*adminConn, error) {
	var conns []*adminConn
	var first error
	for _, spec := range targets {
		adm, err := client.DialAdmin(ctx, spec, adminOptions(env, program)...)
		if err == nil {
			var ac *adminConn
			ac, err = describeAdmin(ctx, adm)
			if err == nil {
				conns = append(conns, ac)
				if !all {
					break
				}
				continue
			}
			adm.Close()
		}
		if first == nil {
			first = err
		}
	}
	return conns, first
}

// describeAdmin asks lmgrd who it is and which vendor daemons it runs.
func describeAdmin(ctx context.Context, adm *client.Admin) (*adminConn, error) {
	st, seq, err := adm.ServerStatus(ctx)
	if err != nil {
		return nil, err
	}
	ac := &adminConn{adm: adm, addr: licfile.ServerAddr{Port: st.Port, Host: st.Host}.String()}
	for vs, err := range seq {
		if err != nil {
			return nil, err
		}
		ac.vendors = append(ac.vendors, vs.Name)
	}
	return ac, nil
}

func closeAdmins(conns []*adminConn) {
	for _, c := range conns {
		c.adm.Close()
	}
}
