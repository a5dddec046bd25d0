package commands

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"regexp"
	"runtime"
	"sort"
	"strconv"
	"strings"

	"github.com/urfave/cli/v2"
	"golm/lmutil/protocol"
)

// CopyrightYear is the year in the banner.
const CopyrightYear = "2026"

func init() {
	// urfave/cli treats any flag named "help" or "h" as its own help
	// switch. lmutil's -help is the applet's own and lmremove's -h means
	// "by handle", so the library's global help flag is switched off once,
	// before anything runs.
	cli.HelpFlag = nil
}

// Applet is one lmutil command.
type Applet struct {
	Name    string   // lmstat
	Aliases []string // short aliases for "lmutil stat"
	// Usage is the synopsis without "usage: ", as -help and errors print it.
	Usage string
	// Summary is one line for the lmutil usage list and the man page NAME.
	Summary string
	// Description is the man page body: paragraphs separated by blank lines.
	Description string
	// Flags returns the applet's own flags; the universal ones (-help, -v,
	// -verbose, -e) are added by Run. A StringFlag listed in Optional takes
	// an optional value (lmstat -f [feature]).
	Flags    func() []cli.Flag
	Optional []string
	// NoUniversalV leaves -v to the applet's own flags (lmwrap -v version).
	NoUniversalV bool
	// Hidden applets are not listed (the vendor daemon).
	Hidden bool
	// Action runs the applet after its flags are parsed.
	Action func(c *cli.Context, env *Env) error
}

// Applets returns the registry in usage-list order.
func Applets() []*Applet {
	list := []*Applet{
		lmcksumApplet(),
		lmcryptApplet(),
		lmdiagApplet(),
		lmdownApplet(),
		lmhostidApplet(),
		lminstallApplet(),
		lmnewlogApplet(),
		lmpathApplet(),
		lmreportApplet(),
		lmrereadApplet(),
		lmremoveApplet(),
		lmstatApplet(),
		lmswitchApplet(),
		lmswitchrApplet(),
		lmverApplet(),
		lmwrapApplet(),
	}
	list = append(list, serverApplets()...)
	sort.Slice(list, func(i, j int) bool { return list[i].Name < list[j].Name })
	return list
}

// Lookup finds an applet by name or alias; nil if there is none. Every
// applet answers to its name without the "lm" prefix as well ("lmutil stat",
// "lmutil hostid"), besides the Aliases it lists.
func Lookup(name string) *Applet {
	name = strings.TrimSuffix(name, ".exe")
	if name == "" {
		return nil
	}
	list := Applets()
	for _, a := range list {
		if a.Name == name {
			return a
		}
		for _, al := range a.Aliases {
			if al == name {
				return a
			}
		}
	}
	if !strings.HasPrefix(name, "lm") {
		for _, a := range list {
			if !a.Hidden && a.Name == "lm"+name {
				return a
			}
		}
	}
	return nil
}

// Dispatch decides which applet argv runs, busybox style: argv[0]'s
// basename if it names an applet, else argv[1] ("lmutil lmstat -a").
// It returns the applet (nil for the lmutil usage list), the program name
// for the banner and the applet's arguments.
func Dispatch(argv []string) (a *Applet, prog string, args []string, err error) {
	if len(argv) == 0 {
		return nil, "lmutil", nil, nil
	}
	prog = baseName(argv[0])
	if a := Lookup(prog); a != nil {
		return a, prog, argv[1:], nil
	}
	if len(argv) < 2 || argv[1] == "-help" || argv[1] == "--help" || argv[1] == "-h" {
		return nil, prog, nil, nil
	}
	if argv[1] == "-v" || argv[1] == "-list-applets" {
		return nil, prog, argv[1:2], nil
	}
	if argv[1] == "-completion" {
		return nil, prog, argv[1:], nil
	}
	if a := Lookup(argv[1]); a != nil {
		return a, prog, argv[2:], nil
	}
	return nil, prog, nil, &UsageError{Msg: fmt.Sprintf("%s: unknown command %q", prog, argv[1])}
}

// Main is the whole program behind main.go: it dispatches argv, runs the
// applet with env and returns the process exit status. env.Prog is set
// from argv. "lmutil -list-applets" prints one visible applet name a line,
// and "lmutil -completion bash|zsh" a shell completion script, for make
// install.
func Main(ctx context.Context, argv []string, env *Env) int {
	applet, prog, args, err := Dispatch(argv)
	if a, vprog, vargs, ok := vendorDaemonDispatch(argv, env); ok {
		applet, prog, args, err = a, vprog, vargs, nil
	}
	env.Prog = prog
	if err != nil {
		Report(env.Stderr, err, false)
		UsageList(env.Stderr, prog)
		return ExitStatus(err)
	}
	if applet == nil {
		switch {
		case len(args) > 0 && args[0] == "-v":
			fmt.Fprintln(env.Stdout, Banner(prog))
			fmt.Fprintln(env.Stdout, VersionLine(prog))
		case len(args) > 0 && args[0] == "-completion":
			return writeCompletion(env, args[1:])
		case len(args) > 0 && args[0] == "-list-applets":
			for _, a := range Applets() {
				if !a.Hidden {
					fmt.Fprintln(env.Stdout, a.Name)
				}
			}
		default:
			UsageList(env.Stdout, prog)
		}
		return 0
	}
	err = Run(ctx, env, applet, args)
	Report(env.Stderr, err, env.Verbose)
	return ExitStatus(err)
}

func baseName(p string) string {
	if i := strings.LastIndexAny(p, `/\`); i >= 0 {
		p = p[i+1:]
	}
	return strings.TrimSuffix(p, ".exe")
}

// Banner is the first line lmutil commands print.
func Banner(prog string) string {
	return fmt.Sprintf("%s - Copyright (c) %s golm authors. All Rights Reserved.", prog, CopyrightYear)
}

// Platform is the FlexNet platform name of this build (x64_lsb on linux/amd64).
func Platform() string { return platformFor(runtime.GOOS, runtime.GOARCH) }

// VersionLine is what -v prints after the banner.
func VersionLine(name string) string {
	return fmt.Sprintf("%s v%s build %s %s", name, protocol.Software, protocol.Build, Platform())
}

// UsageList writes the usage list `lmutil` alone and `lmutil -help` print.
func UsageList(w io.Writer, prog string) {
	fmt.Fprintln(w, Banner(prog))
	first := true
	for _, a := range Applets() {
		if a.Hidden {
			continue
		}
		for _, u := range strings.Split(a.Usage, "\n") {
			lead := "        "
			if first {
				lead = "usage:  "
				first = false
			}
			fmt.Fprintf(w, "%slmutil %s\n", lead, u)
		}
	}
}

// universalFlags are taken by every applet (manual 7.2).
func universalFlags(a *Applet) []cli.Flag {
	fl := []cli.Flag{
		&cli.BoolFlag{Name: "help", Usage: "print usage and exit"},
		&cli.BoolFlag{Name: "verbose", Usage: "print the long explanation of every error"},
		&cli.StringFlag{Name: "e", Usage: "write error messages to `filename`"},
	}
	if !a.NoUniversalV {
		fl = append(fl, &cli.BoolFlag{Name: "v", Usage: "print the version and exit"})
	}
	return fl
}

// allFlags is the applet's whole flag set, universal ones first.
func (a *Applet) allFlags() []cli.Flag {
	fl := universalFlags(a)
	if a.Flags != nil {
		fl = append(fl, a.Flags()...)
	}
	return fl
}

// Run parses args (after legacy normalisation) and runs the applet.
func Run(ctx context.Context, env *Env, a *Applet, args []string) error {
	flags := a.allFlags()
	args = Normalize(args, specOf(flags, a.Optional))
	app := &cli.App{
		Name:           a.Name,
		HideHelp:       true,
		HideVersion:    true,
		Writer:         env.Stdout,
		ErrWriter:      env.Stderr,
		ExitErrHandler: func(*cli.Context, error) {},
		Flags:          flags,
		OnUsageError: func(_ *cli.Context, err error, _ bool) error {
			if errors.Is(err, flag.ErrHelp) { // -h: as -help
				printHelp(env.Stdout, a, flags)
				return nil
			}
			return &UsageError{Applet: a.Name, Msg: usageMessage(a.Name, err)}
		},
		Action: func(c *cli.Context) error {
			if c.Bool("help") {
				printHelp(env.Stdout, a, flags)
				return nil
			}
			if !a.NoUniversalV && c.Bool("v") {
				fmt.Fprintln(env.Stdout, Banner(env.Prog))
				fmt.Fprintln(env.Stdout, VersionLine(a.Name))
				return nil
			}
			env.Verbose = c.Bool("verbose")
			p := c.String("e")
			if p == "" {
				return a.Action(c, env)
			}
			// -e: the applet's error messages, and the final error
			// itself, go to the file; the file is closed before Run
			// returns, so the error is reported here and marked printed.
			f, err := os.OpenFile(env.Path(p), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
			if err != nil {
				return fmt.Errorf("%s: cannot open error file: %w", a.Name, err)
			}
			env.Stderr = f
			err = a.Action(c, env)
			Report(f, err, env.Verbose)
			if cerr := f.Close(); cerr != nil && err == nil {
				err = cerr
			}
			return alreadyPrinted(err)
		},
	}
	return app.RunContext(ctx, append([]string{a.Name}, args...))
}

// badValue is the flag parser's complaint about a value it cannot parse.
var badValue = regexp.MustCompile(`^invalid value "(.*)" for flag -([^:]+): `)

// usageMessage turns a flag parser's complaint into lmutil's wording.
func usageMessage(applet string, err error) string {
	msg := err.Error()
	if f, ok := strings.CutPrefix(msg, "flag provided but not defined: "); ok {
		return applet + ": unknown option " + f
	}
	if f, ok := strings.CutPrefix(msg, "flag needs an argument: "); ok {
		return applet + ": option " + f + " needs an argument"
	}
	if m := badValue.FindStringSubmatch(msg); m != nil {
		return applet + ": option -" + m[2] + ": bad value " + strconv.Quote(m[1])
	}
	return applet + ": " + msg
}

func printHelp(w io.Writer, a *Applet, flags []cli.Flag) {
	for i, u := range strings.Split(a.Usage, "\n") {
		lead := "usage: "
		if i > 0 {
			lead = "       "
		}
		fmt.Fprintln(w, lead+u)
	}
	for _, f := range flags {
		df, ok := f.(cli.DocGenerationFlag)
		if !ok {
			continue
		}
		name := "-" + f.Names()[0]
		if df.TakesValue() {
			name += " " + argName(df)
		}
		fmt.Fprintf(w, "  %-24s %s\n", name, usageText(df))
	}
}

// argName is the placeholder of a flag's value: the back-quoted word of its
// usage text, or "value".
func argName(f cli.DocGenerationFlag) string {
	u := f.GetUsage()
	if i := strings.IndexByte(u, '`'); i >= 0 {
		if j := strings.IndexByte(u[i+1:], '`'); j >= 0 {
			return u[i+1 : i+1+j]
		}
	}
	return "value"
}

func usageText(f cli.DocGenerationFlag) string {
	return strings.ReplaceAll(f.GetUsage(), "`", "")
}
