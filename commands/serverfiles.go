package commands

import (
	"context"
	"strings"

	"golm/lmutil/licfile"
	"golm/lmutil/protocol/client"
)

// serverFile is a license file that an lmgrd serves, as it read it.
type serverFile struct {
	Path string
	Text string
	File *licfile.File
	Err  error // the parser's, nil when every line is good
}

// serverLicenseFiles asks the lmgrd at spec for the license files it
// serves and parses them, as lmutil reads a port@host license path for
// lmstat -i and lmcksum. Each file keeps its path on the server, with
// the parser's errors (file:line) naming it.
func serverLicenseFiles(ctx context.Context, env *Env, program string, spec []licfile.ServerAddr, extra ...client.Option) ([]serverFile, error) {
	adm, err := client.DialAdmin(ctx, spec, append(adminOptions(env, program), extra...)...)
	if err != nil {
		return nil, err
	}
	defer adm.Close()
	files, err := adm.LicenseFiles(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]serverFile, len(files))
	for i, lf := range files {
		f, perr := licfile.Parse(strings.NewReader(lf.Text), lf.Path)
		out[i] = serverFile{Path: lf.Path, Text: lf.Text, File: f, Err: perr}
	}
	return out, nil
}
