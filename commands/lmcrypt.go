package commands

import (
	"errors"

	"github.com/urfave/cli/v2"
)

func lmcryptApplet() *Applet {
	return &Applet{
		Name:    "lmcrypt",
		Usage:   "lmcrypt",
		Summary: "TODO",
		Action: func(c *cli.Context, env *Env) error {
			return errors.New("lmcrypt: not implemented")
		},
	}
}
