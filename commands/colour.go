package commands

import (
	"io"
	"os"

	"github.com/fatih/color"
	"github.com/mattn/go-isatty"
)

// paint returns a function that colours text with attrs when the Env's
// standard output is a terminal and the user has not asked for plain text
// (NO_COLOR set to anything, or TERM=dumb). Output that scripts read — a
// pipe, a file — is never coloured, so byte-exact formats stay byte-exact.
func paint(env *Env, attrs ...color.Attribute) func(string) string {
	c := color.New(attrs...)
	if colourOn(env, fileIsTerminal(env.Stdout)) {
		c.EnableColor()
	} else {
		c.DisableColor()
	}
	return func(s string) string { return c.Sprint(s) }
}

// colourOn decides colour for output that is, or is not, a terminal.
func colourOn(env *Env, terminal bool) bool {
	return terminal && env.Env("NO_COLOR") == "" && env.Env("TERM") != "dumb"
}

// isTerminal reports whether r is a terminal (a Cygwin or MSYS pty
// included), as fatih/color decides for its own output.
func isTerminal(r io.Reader) bool {
	f, ok := r.(*os.File)
	if !ok {
		return false
	}
	return isatty.IsTerminal(f.Fd()) || isatty.IsCygwinTerminal(f.Fd())
}
