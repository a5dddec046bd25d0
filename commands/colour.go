package commands

import (
	"github.com/fatih/color"
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
