package commands

import (
	"errors"
	"fmt"
	"os/exec"
	"strconv"
	"syscall"
	"time"

	"github.com/urfave/cli/v2"

	"golm/lmutil/licfile"
	"golm/lmutil/protocol"
	"golm/lmutil/protocol/client"
)

func lmwrapApplet() *Applet {
	return &Applet{
		Name:         "lmwrap",
		Usage:        "lmwrap [-c license_file_list] [-vendor vendor] [-k vendor.pub] [-v version] [-n count] [-kill-on-loss[=grace]] feature -- command [args...]",
		Summary:      "run a command while holding a license",
		Description:  manText("lmwrap"),
		NoUniversalV: true,
		Flags: func() []cli.Flag {
			return []cli.Flag{
				&cli.StringFlag{Name: "c", Usage: "license file list or port@host"},
				&cli.StringFlag{Name: "v", Usage: "lowest acceptable `version`"},
				&cli.StringSliceFlag{Name: "k", Usage: "take only grants signed with the public key in `vendor.pub`; may be repeated"},
				&cli.IntFlag{Name: "n", Value: 1, Usage: "number of licenses"},
				&cli.StringFlag{Name: "vendor", Usage: "use only `vendor`'s lines and its VENDOR_LICENSE_FILE variable"},
				&boolValueFlag{GenericFlag: cli.GenericFlag{Name: "kill-on-loss", Value: &killOnLoss{},
					Usage: "stop the command when the license is lost: SIGTERM, then SIGKILL after the grace period (-kill-on-loss=30s; default 10s)"}},
			}
		},
		Action: runLmwrap,
	}
}

func runLmwrap(c *cli.Context, env *Env) error {
	a := Lookup("lmwrap")
	args := c.Args().Slice()
	if len(args) < 2 {
		return usagef(a, "lmwrap: need a feature and a command")
	}
	feature, argv := args[0], args[1:]
	count := c.Int("n")
	if count < 1 {
		return usagef(a, "lmwrap: -n %d: the count must be at least 1", count)
	}
	version := c.String("v")
	if version == "" {
		version = "0"
	}
	kill, _ := c.Generic("kill-on-loss").(*killOnLoss)
	opts := []client.Option{
		client.WithGetenv(env.Env),
		client.WithEnviron(env.Environ),
		client.WithDir(env.Dir),
		client.WithDiagnostics(env.Stderr),
		client.WithProgram("lmwrap"),
		client.WithSoftware(protocol.Software),
	}
	if v := c.String("vendor"); v != "" {
		opts = append(opts, client.WithVendor(v))
	}
	if env.Hostname != nil {
		opts = append(opts, client.WithHostname(env.Hostname))
	}
	if env.Now != nil {
		opts = append(opts, client.WithClock(env.Now))
	}
	for _, kf := range c.StringSlice("k") {
		k, err := licfile.LoadPublicKey(env.Path(kf))
		if err != nil {
			return fmt.Errorf("lmwrap: -k: %w", err)
		}
		opts = append(opts, client.WithPublicKey(k))
	}
	ctx := c.Context
	job, err := client.Open(ctx, c.String("c"), opts...)
	if err != nil {
		return err
	}
	defer job.Close()
	lic, err := job.Checkout(ctx, feature, version, count)
	if err != nil {
		return err
	}
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = env.Stdin, env.Stdout, env.Stderr
	cmd.Dir = env.Dir
	if err := cmd.Start(); err != nil {
		_ = lic.Checkin(ctx)
		return commandStatus(argv[0], err)
	}
	exited := make(chan struct{})
	watched := make(chan struct{})
	go func() {
		defer close(watched)
		watchLoss(env, lic, cmd, kill, exited)
	}()
	runErr := cmd.Wait()
	close(exited)
	<-watched
	_ = lic.Checkin(ctx)
	return commandStatus(argv[0], runErr)
}

// DefaultKillGrace is how long lmwrap -kill-on-loss waits between SIGTERM
// and SIGKILL.
const DefaultKillGrace = 10 * time.Second

// watchLoss says at once when lic is lost while cmd runs and, with kill,
// stops cmd: SIGTERM, then SIGKILL when it outlives the grace period. It
// returns when cmd has exited (exited is closed).
func watchLoss(env *Env, lic *client.License, cmd *exec.Cmd, kill *killOnLoss, exited <-chan struct{}) {
	select {
	case <-exited:
		return
	case <-lic.Lost():
	}
	fmt.Fprintf(env.Stderr, "lmwrap: license for %s lost: %v\n", lic.Feature, lic.Err())
	if kill == nil || !kill.set {
		return
	}
	fmt.Fprintf(env.Stderr, "lmwrap: stopping %s (SIGTERM, SIGKILL after %v)\n", strconv.Quote(cmd.Path), kill.grace)
	_ = cmd.Process.Signal(syscall.SIGTERM)
	t := time.NewTimer(kill.grace)
	defer t.Stop()
	select {
	case <-exited:
	case <-t.C:
		_ = cmd.Process.Kill()
	}
}

// killOnLoss is the value of -kill-on-loss[=grace]: a flag that may stand
// alone (the default grace) or carry a duration.
type killOnLoss struct {
	set   bool
	grace time.Duration
}

func (k *killOnLoss) String() string {
	if k == nil || !k.set {
		return ""
	}
	return k.grace.String()
}

func (k *killOnLoss) Set(s string) error {
	switch s {
	case "true", "":
		k.set, k.grace = true, DefaultKillGrace
		return nil
	case "false":
		k.set = false
		return nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		if n, nerr := strconv.Atoi(s); nerr == nil {
			d, err = time.Duration(n)*time.Second, nil
		}
	}
	if err != nil || d < 0 {
		return fmt.Errorf("grace %q is not a duration such as 10s", s)
	}
	k.set, k.grace = true, d
	return nil
}

// IsBoolFlag makes a bare -kill-on-loss mean the default grace (the flag
// package's boolFlag interface).
func (k *killOnLoss) IsBoolFlag() bool { return true }

// boolValueFlag is a GenericFlag that may be given without a value, so
// that the command line normaliser does not take the next argument as
// its value.
type boolValueFlag struct{ cli.GenericFlag }

// TakesValue implements cli.DocGenerationFlag: the value is optional.
func (f *boolValueFlag) TakesValue() bool { return false }

// commandStatus turns the command's end into lmwrap's exit.
func commandStatus(name string, err error) error {
	if err == nil {
		return nil
	}
	var xe *exec.ExitError
	if errors.As(err, &xe) {
		if ws, ok := xe.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return &ExitError{Status: 128 + int(ws.Signal())}
		}
		return &ExitError{Status: xe.ExitCode()}
	}
	return &ExitError{Status: 127, Err: fmt.Errorf("lmwrap: %s: %w", strconv.Quote(name), err)}
}
