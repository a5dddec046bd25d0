// Package commands holds every lmutil applet (lmstat, lmdown, lmhostid, ...)
// and the one registry main.go dispatches through. Each applet runs with an
// *Env that carries its standard streams, environment, clock and working
// directory, so tests run applets in-process and nothing here touches
// os.Stdout, os.Args or os.Exit.
package commands

import (
	"io"
	"os"
	"path/filepath"
	"time"

	"golm/lmutil/licfile"
)

// Env is everything an applet may use from the outside world.
type Env struct {
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer

	// Prog is the name the binary was invoked as (argv[0] basename, or
	// "lmutil" when run as "lmutil lmstat"). It starts the banner.
	Prog string
	// Getenv looks up an environment variable; nil means none are set.
	Getenv func(string) string
	// Environ lists the environment as KEY=value (for the
	// VENDOR_LICENSE_FILE variables); nil means none are set.
	Environ func() []string
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Dir is the working directory relative paths are resolved against;
	// "" means the process's own.
	Dir string
	// Exe is the path of the running binary (for lmgrd starting vendor
	// daemons and lmver); "" means os.Executable.
	Exe string
	// Hostname returns this host's name; nil means os.Hostname.
	Hostname func() (string, error)
	// Verbose asks for the long form of error messages (-verbose).
	Verbose bool
}

// OSEnv returns the Env of the running process.
func OSEnv(prog string) *Env {
	return &Env{
		Stdin:    os.Stdin,
		Stdout:   os.Stdout,
		Stderr:   os.Stderr,
		Prog:     prog,
		Getenv:   os.Getenv,
		Environ:  os.Environ,
		Now:      time.Now,
		Hostname: os.Hostname,
	}
}

// Env returns the value of the environment variable key, or "".
func (e *Env) Env(key string) string {
	if e.Getenv == nil {
		return ""
	}
	return e.Getenv(key)
}

// Time returns the current time from the Env's clock.
func (e *Env) Time() time.Time {
	if e.Now == nil {
		return time.Now()
	}
	return e.Now()
}

// Path resolves a path given on the command line against the Env's
// working directory.
func (e *Env) Path(p string) string {
	if p == "" || filepath.IsAbs(p) || e.Dir == "" {
		return p
	}
	return filepath.Join(e.Dir, p)
}

// Host returns this host's name.
func (e *Env) Host() (string, error) {
	if e.Hostname == nil {
		return os.Hostname()
	}
	return e.Hostname()
}

// Executable returns the path of the running binary.
func (e *Env) Executable() (string, error) {
	if e.Exe != "" {
		return e.Exe, nil
	}
	return os.Executable()
}

// LicenseSources resolves a -c value (may be empty) for vendor (may be
// empty) with the one resolver every command uses: -c, else
// VENDOR_LICENSE_FILE and LM_LICENSE_FILE from the environment and
// $HOME/.flexlmrc, else the default files.
func (e *Env) LicenseSources(cflag, vendor string) []licfile.Source {
	return licfile.ResolvePath(cflag, vendor, e.pathEnv(e.Environ))
}

// ServedLicenseSources is lmgrd's license path: LicenseSources without
// the VENDOR_LICENSE_FILE variables, which tell one vendor's
// applications where to look, not lmgrd what to serve.
func (e *Env) ServedLicenseSources(cflag string) []licfile.Source {
	return licfile.ResolvePath(cflag, "", e.pathEnv(nil))
}

// pathEnv is what the license path resolution reads of the Env: its
// variables, its working directory and its $HOME (the Env's, never the
// process's own).
func (e *Env) pathEnv(environ func() []string) licfile.PathEnv {
	return licfile.PathEnv{Getenv: e.Getenv, Environ: environ, Dir: e.Dir, Home: e.Env("HOME")}
}
