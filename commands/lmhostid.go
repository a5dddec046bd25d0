package commands

import (
	"errors"

	"github.com/urfave/cli/v2"
)

func lmhostidApplet() *Applet {
	return &Applet{
		Name:    "lmhostid",
		Usage:   "lmhostid",
		Summary: "TODO",
		Action: func(c *cli.Context, env *Env) error {
			return errors.New("lmhostid: not implemented")
		},
	}
}
