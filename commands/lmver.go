package commands

import (
	"errors"

	"github.com/urfave/cli/v2"
)

func lmverApplet() *Applet {
	return &Applet{
		Name:    "lmver",
		Usage:   "lmver",
		Summary: "TODO",
		Action: func(c *cli.Context, env *Env) error {
			return errors.New("lmver: not implemented")
		},
	}
}
