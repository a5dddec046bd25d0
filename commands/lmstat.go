package commands

import (
	"errors"

	"github.com/urfave/cli/v2"
)

func lmstatApplet() *Applet {
	return &Applet{
		Name:    "lmstat",
		Aliases: []string{"stat"},
		Usage:   "lmstat",
		Summary: "TODO",
		Action: func(c *cli.Context, env *Env) error {
			return errors.New("lmstat: not implemented")
		},
	}
}
