package commands

import (
	"errors"

	"github.com/urfave/cli/v2"
)

func lmcksumApplet() *Applet {
	return &Applet{
		Name:    "lmcksum",
		Usage:   "lmcksum",
		Summary: "TODO",
		Action: func(c *cli.Context, env *Env) error {
			return errors.New("lmcksum: not implemented")
		},
	}
}
