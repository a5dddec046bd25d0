package commands

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/olekukonko/tablewriter/pkg/twwidth"
	"github.com/urfave/cli/v2"

	"golm/lmutil/licfile"
	"golm/lmutil/protocol"
	"golm/lmutil/protocol/lmerr"
	"golm/lmutil/server"
	"golm/lmutil/server/httpstatus"
	"golm/lmutil/server/reportlog"
	"golm/lmutil/server/status"
)

// readyEnv names the environment variable that tells a detaching lmgrd's
// background half which file descriptor to report "listening" on.
const readyEnv = "GOLM_LMGRD_READY_FD"

// bindRetryEnv overrides how long lmgrd retries a busy port (a Go
// duration such as "10s"); the default is about six minutes.
const bindRetryEnv = "GOLM_LMGRD_BIND_RETRY"

// bindRetryEveryEnv overrides the pause between two tries of a busy port
// (a Go duration; default 2s).
const bindRetryEveryEnv = "GOLM_LMGRD_BIND_RETRY_EVERY"

// vendorApplet is the hidden applet a vendor daemon runs as.
const vendorApplet = "vendord"

// serverApplets are lmgrd and the hidden vendor daemon.
func serverApplets() []*Applet { return []*Applet{lmgrdApplet(), vendordApplet()} }

func lmgrdApplet() *Applet {
	return &Applet{
		Name:        "lmgrd",
		Usage:       "lmgrd [-c license_file_list] [-l [+]debug_log] [-z] [-2 -p] [-local] [-allow-remote-admin] [-x lmdown] [-x lmremove] [-lockdir dir] [-bind address] [-http addr] [-v] [-help]",
		Summary:     "the license manager daemon",
		Description: manText("lmgrd", "lmgrdReadyWaitEnv", lmgrdReadyWaitEnv, "bindRetryEnv", bindRetryEnv, "bindRetryEveryEnv", bindRetryEveryEnv, "AdminSocketRetryEnv", server.AdminSocketRetryEnv, "LockDirEnv", server.LockDirEnv, "LockWaitEnv", server.LockWaitEnv),
		Flags: func() []cli.Flag {
			return []cli.Flag{
				&cli.StringFlag{Name: "c", Usage: "read `license_file_list`"},
				&cli.StringFlag{Name: "l", Usage: "write the debug log to `[+]debug_log` (+ appends)"},
				&cli.BoolFlag{Name: "z", Usage: "run in the foreground"},
				&cli.BoolFlag{Name: "2", Usage: "with -p: restrict admin commands to license administrators"},
				&cli.BoolFlag{Name: "p", Usage: "with -2: restrict admin commands to license administrators"},
				&cli.BoolFlag{Name: "local", Usage: "accept admin commands from this host only (the default)"},
				&cli.BoolFlag{Name: "allow-remote-admin", Usage: "accept admin commands over TCP from anyone, other hosts included"},
				&cli.StringSliceFlag{Name: "x", Usage: "disable `lmdown` or lmremove"},
				&cli.StringFlag{Name: "lockdir", Usage: "keep the vendor daemon locks in `dir` (default $" + server.LockDirEnv + ", /run/golm for root, $XDG_RUNTIME_DIR/golm, /tmp/golm-UID)"},
				&cli.StringFlag{Name: "http", Usage: "serve the status page, /metrics and /api/v1/status on `addr` (port, :port or host:port)"},
				&cli.StringFlag{Name: "bind", Usage: "listen on IP `address` only, lmgrd and its vendor daemons (default: every address)"},
				&cli.StringFlag{Name: "data", Usage: "keep a triad's Raft log and snapshots in `dir` (default $" + server.TriadDataEnv + ", /var/lib/golm for root, $XDG_STATE_HOME/golm, ~/.local/state/golm)"},
			}
		},
		Action: runLmgrd,
	}
}

func runLmgrd(c *cli.Context, env *Env) error {
	daemonMemory()
	if c.NArg() > 0 {
		return &UsageError{Applet: "lmgrd", Msg: fmt.Sprintf("lmgrd: unexpected argument %q", c.Args().First())}
	}
	var trust server.Trust
	for _, x := range c.StringSlice("x") {
		switch x {
		case "lmdown":
			trust.NoLmdown = true
		case "lmremove":
			trust.NoLmremove = true
		default:
			return &UsageError{Applet: "lmgrd", Msg: fmt.Sprintf("lmgrd: -x takes lmdown or lmremove, not %q", x)}
		}
	}
	if c.Bool("2") != c.Bool("p") {
		return &UsageError{Applet: "lmgrd", Msg: "lmgrd: -2 and -p go together"}
	}
	if v := c.String("http"); c.IsSet("http") {
		if _, err := httpstatus.ParseAddr(v); err != nil {
			return &UsageError{Applet: "lmgrd", Msg: fmt.Sprintf("lmgrd: -http: %v", err)}
		}
	}
	trust.AdminOnly = c.Bool("2")
	trust.AllowRemote = c.Bool("allow-remote-admin")
	if b := c.String("bind"); b != "" && net.ParseIP(b) == nil {
		return &UsageError{Applet: "lmgrd", Msg: fmt.Sprintf("lmgrd: -bind takes an IP address of this host, not %q", b)}
	}
	if !c.Bool("z") && env.Env(readyEnv) == "" {
		return detachLmgrd(c, env)
	}
	return foregroundLmgrd(c, env, trust)
}

// detachLmgrd starts lmgrd again with -z in a new session and returns once
// it reports that it listens (or why it could not).
func detachLmgrd(c *cli.Context, env *Env) error {
	exe, err := env.Executable()
	if err != nil {
		return err
	}
	args := []string{"lmgrd", "-z"}
	if v := c.String("c"); v != "" {
		// As given: a list, a directory or port@host entries mean the
		// same in the child, which starts in this directory.
		args = append(args, "-c", v)
	}
	if v := c.String("l"); v != "" {
		plus := strings.HasPrefix(v, "+")
		p := absFrom(env, strings.TrimPrefix(v, "+"))
		if plus {
			p = "+" + p
		}
		args = append(args, "-l", p)
	}
	for _, x := range c.StringSlice("x") {
		args = append(args, "-x", x)
	}
	if v := c.String("lockdir"); v != "" {
		args = append(args, "-lockdir", absFrom(env, v))
	}
	if v := c.String("http"); v != "" {
		args = append(args, "-http", v)
	}
	if v := c.String("bind"); v != "" {
		args = append(args, "-bind", v)
	}
	if v := c.String("data"); v != "" {
		args = append(args, "-data", absFrom(env, v))
	}
	for _, b := range []string{"2", "p", "local", "allow-remote-admin"} {
		if c.Bool(b) {
			args = append(args, "-"+b)
		}
	}
	r, w, err := os.Pipe()
	if err != nil {
		return err
	}
	defer r.Close()
	cmd := &exec.Cmd{
		Path:        exe,
		Args:        args,
		Env:         append(environ(env), readyEnv+"=3"),
		Dir:         env.Dir,
		ExtraFiles:  []*os.File{w},
		SysProcAttr: &syscall.SysProcAttr{Setsid: true},
	}
	if c.String("l") == "" {
		// The log stays on the terminal, as FLEXlm's lmgrd without -l.
		if f, ok := env.Stdout.(*os.File); ok {
			cmd.Stdout = f
		}
		if f, ok := env.Stderr.(*os.File); ok {
			cmd.Stderr = f
		}
	}
	err = cmd.Start()
	w.Close()
	if err != nil {
		return err
	}
	waited := make(chan struct{})
	go func() { // reap it if it fails before it is ready
		cmd.Wait()
		close(waited)
	}()
	// The child writes notices ("NOTE: ..."), shown at once, then "OK"
	// or why it could not start. Ctrl-C or SIGTERM before that stops it.
	lines := make(chan string)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(io.LimitReader(r, 1<<20))
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	var text []string
	for {
		select {
		case <-c.Context.Done():
			_ = cmd.Process.Signal(syscall.SIGTERM)
			for range lines { // its last words, until it closes the pipe
			}
			return errors.New("lmgrd: stopped before it listened")
		case line, ok := <-lines:
			switch {
			case !ok && len(text) == 0:
				return errors.New("lmgrd: exited before it listened; see the debug log")
			case !ok:
				// It said why it stops; its exit status says how (255
				// for a license file it cannot find).
				status := 1
				select {
				case <-waited:
					status = cmd.ProcessState.ExitCode()
				case <-time.After(stopTimeout):
				}
				if status <= 0 {
					status = 1
				}
				return &ExitError{Status: status, Err: errors.New(strings.Join(text, "\n"))}
			case strings.HasPrefix(line, noticePrefix):
				fmt.Fprintln(env.Stderr, strings.TrimPrefix(line, noticePrefix))
			case line == "OK":
				return nil
			case strings.TrimSpace(line) != "":
				text = append(text, line)
			}
		}
	}
}

// noticePrefix marks a line the detached lmgrd sends its parent to show
// on the terminal while it starts (a busy port, say).
const noticePrefix = "NOTE: "

// noticeWriter is where the starting lmgrd says what its terminal should
// see: through the ready pipe to the waiting parent until lmgrd listens,
// then to its own standard error.
type noticeWriter struct {
	mu    sync.Mutex
	ready *os.File // nil once lmgrd listens
	after io.Writer
}

func (n *noticeWriter) Write(p []byte) (int, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.ready == nil {
		return n.after.Write(p)
	}
	for _, line := range strings.Split(strings.TrimRight(string(p), "\n"), "\n") {
		fmt.Fprintf(n.ready, "%s%s\n", noticePrefix, line)
	}
	return len(p), nil
}

// detach stops sending notices through the ready pipe.
func (n *noticeWriter) detach() {
	n.mu.Lock()
	n.ready = nil
	n.mu.Unlock()
}

func absFrom(env *Env, p string) string {
	if p == "" {
		return p
	}
	p = env.Path(p)
	if a, err := filepath.Abs(p); err == nil {
		return a
	}
	return p
}

// environ is the environment to hand a child process.
func environ(env *Env) []string {
	if env.Getenv == nil {
		return nil
	}
	return os.Environ()
}

// licenseFiles resolves lmgrd's license path to absolute file names.
func licenseFiles(c *cli.Context, env *Env) []string {
	srcs := env.ServedLicenseSources(c.String("c"))
	var files []string
	for _, s := range srcs {
		if s.IsServer() {
			continue
		}
		p := s.File
		if a, err := filepath.Abs(p); err == nil {
			p = a
		}
		files = append(files, p)
	}
	return files
}

func foregroundLmgrd(c *cli.Context, env *Env, trust server.Trust) (err error) {
	// ps and pgrep show lmgrd, also when it was started as lmutil lmgrd.
	server.SetProcessName("lmgrd")
	ready := readyPipe(env)
	defer func() {
		err = lmgrdFailure(err)
		if ready != nil {
			if err != nil {
				// The waiting parent says it on the terminal.
				fmt.Fprintf(ready, "%v\n", err)
				err = alreadyPrinted(err)
			}
			ready.Close()
		}
	}()
	logw, vendorOut, _, err := openDebugLog(c.String("l"), env)
	if err != nil {
		return err
	}
	if f, ok := logw.(*os.File); ok && f != os.Stdout && vendorOut == f {
		defer f.Close()
	}
	log := server.NewDebugLog(logw, "lmgrd", env.Now)
	defer log.Close() // the buffered lines, and the summaries of open rate limits
	host, _ := env.Host()
	machine, _ := licfile.LocalMachine()
	if machine != nil && host != "" {
		machine.Hostname = host
	}
	exe, _ := env.Executable()
	bindRetry := server.DefaultBindRetry
	if v := env.Env(bindRetryEnv); v != "" {
		if d, perr := time.ParseDuration(v); perr == nil {
			bindRetry = d
		}
	}
	var bindRetryEvery time.Duration // 0: the default
	if d, perr := time.ParseDuration(env.Env(bindRetryEveryEnv)); perr == nil && d > 0 {
		bindRetryEvery = d
	}
	log.Printf("-----------------------------------------------")
	log.Printf("%s", VersionLine("lmgrd"))
	log.Printf("%s", Banner("lmgrd"))
	log.Printf("lmgrd running as pid %d", os.Getpid())
	defer startProfile(env.Env(profileEnv), "lmgrd", log.Printf)()
	// The -http port is bound first, so that a port in use stops lmgrd
	// before it takes the license port.
	httpLn, err := listenHTTP(c.String("http"), log)
	if err != nil {
		return err
	}
	notices := &noticeWriter{ready: ready, after: env.Stderr}
	defer notices.detach()
	files := licenseFiles(c, env)
	if len(files) == 0 && c.String("c") != "" {
		// A directory without *.lic files, or servers only: name it.
		e := lmerr.New(lmerr.NoConfFile, lmerr.MinorLmgrdNoLicenseFile)
		log.Printf("Cannot find license file: no license file in %s", c.String("c"))
		return &server.ConfigError{Msg: e.Error() + "\nLicense path: " + c.String("c") + " (no license file in it)", Err: e, Status: e.ExitStatus()}
	}
	lm, err := server.New(c.Context, server.Config{
		LicenseFiles:   files,
		Log:            log,
		VendorOutput:   vendorOut,
		Exe:            exe,
		Hostname:       host,
		Machine:        machine,
		Trust:          trust,
		BindRetry:      bindRetry,
		BindRetryEvery: bindRetryEvery,
		Software:       protocol.Software,
		Now:            env.Now,
		LockDir:        lockDir(c, env),
		Stderr:         notices,
		Bind:           c.String("bind"),
		DataDir:        dataDir(c, env),

		AdminSocketRetry: server.AdminSocketRetry(env.Env),
	})
	if err != nil {
		if httpLn != nil {
			httpLn.Close()
		}
		return err
	}
	if httpLn != nil {
		stop, err := startHTTP(httpLn, lm, machine, env, log)
		if err != nil {
			return err
		}
		defer stop()
	}
	server.ReleaseMemory() // what reading the license files left behind
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if ready != nil {
		// The detaching parent returns once the vendor daemons serve (or
		// readyWait has passed), so that a command run right after
		// lmgrd finds them; until then what lmgrd has to say reaches the
		// terminal.
		r := ready
		ready = nil
		wait := lmgrdReadyWait(env)
		go func() {
			waitVendorsUp(ctx, selfDialer(lm, machine), wait)
			log.Flush() // the start-up lines are in the log when lmgrd returns
			notices.detach()
			fmt.Fprintln(r, "OK")
			r.Close()
		}()
	}
	go func() {
		select {
		case <-c.Context.Done():
			log.Printf("EXITING DUE TO SIGNAL %d", server.SignalNumber(c.Context))
			cancel()
		case <-ctx.Done():
		}
	}()
	if sock := env.Env(notifySocketEnv); sock != "" {
		// Run by systemd as Type=notify: ready once the vendor daemons serve.
		go notifyReady(ctx, sock, selfDialer(lm, machine), log)
		defer sdNotify(sock, "STOPPING=1")
	}
	return lm.Serve(ctx)
}

// stopTimeout bounds the wait for the exit status of a detaching lmgrd
// that said why it cannot start.
const stopTimeout = 5 * time.Second

// lmgrdFailure is how lmgrd says on its terminal why it cannot start:
// each line after "lmgrd: ", with the exit status the error calls for
// (255 for a license file it cannot find, as lmutil's -1; 1 for the
// rest). Usage errors and errors already said pass unchanged.
func lmgrdFailure(err error) error {
	var ue *UsageError
	var p printed
	var ee *ExitError
	if err == nil || errors.As(err, &ue) || errors.As(err, &p) || errors.As(err, &ee) {
		return err
	}
	status := ExitStatus(err)
	var ce *server.ConfigError
	if errors.As(err, &ce) && ce.Status != 0 {
		status = ce.Status
	}
	lines := strings.Split(err.Error(), "\n")
	for i, l := range lines {
		if !strings.HasPrefix(l, "lmgrd: ") {
			lines[i] = "lmgrd: " + l
		}
	}
	return &ExitError{Status: status, Err: errors.New(strings.Join(lines, "\n"))}
}

// lockDir is the vendor daemon lock directory: -lockdir, $GOLM_LOCKDIR
// or the default, made absolute.
func lockDir(c *cli.Context, env *Env) string {
	flag := c.String("lockdir")
	if flag != "" {
		flag = absFrom(env, flag)
	} else if v := env.Env(server.LockDirEnv); v != "" {
		flag = absFrom(env, v)
	}
	return server.LockDir(flag, env.Env)
}

// listenHTTP binds lmgrd -http's addr; nil without -http.
func listenHTTP(addr string, log *server.DebugLog) (net.Listener, error) {
	if addr == "" {
		return nil, nil
	}
	ln, err := httpstatus.Listen(addr)
	if err != nil {
		var op *net.OpError
		if errors.As(err, &op) {
			err = op.Err // "bind: address already in use", without Go's wording around it
		}
		log.Printf("Cannot serve HTTP on %s: %v", addr, err)
		return nil, fmt.Errorf("lmgrd: -http %s: cannot listen: %v", addr, err)
	}
	return ln, nil
}

// startHTTP serves lmgrd -http on ln and returns what stops it. It
// reads the status as lmstat does, over an admin connection to lmgrd's
// own port on loopback: see package httpstatus for why.
func startHTTP(ln net.Listener, lm *server.Lmgrd, machine *licfile.Machine, env *Env, log *server.DebugLog) (stop func(), err error) {
	dial := selfDialer(lm, machine)
	cfg := httpstatus.Config{
		Listener: ln,
		Dial: func(ctx context.Context) (httpstatus.Conn, error) {
			return dial(ctx)
		},
		Name:       fmt.Sprintf("%d@%s", lm.Port(), lm.Host()),
		Software:   protocol.Software,
		Now:        env.Now,
		Logf:       log.Printf,
		LogLimited: log.Limited,
	}
	if names, addrs, self := lm.TriadMembers(); names != nil {
		// A triad: the page shows its members, as lmstat -a does.
		cfg.Members, cfg.Self = names, self
		cfg.DialMember = func(ctx context.Context, i int) (httpstatus.Conn, error) {
			c, err := adminDialer(addrs[i:i+1], machine)(ctx)
			if err != nil {
				return nil, err
			}
			return c, nil
		}
	}
	web, err := httpstatus.New(cfg)
	if err != nil {
		ln.Close()
		return nil, err
	}
	log.Printf("Serving HTTP status on http://%s/", ln.Addr())
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := web.Serve(); err != nil {
			log.Printf("HTTP status: %v", err)
		}
	}()
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		web.Shutdown(ctx)
		<-done
	}, nil
}

// daemonMemory drops what a daemon process holds for commands it never
// runs: the table renderer's text-width cache, allocated when the
// process starts, serves lmreport's tables only.
func daemonMemory() { twwidth.SetCacheCapacity(0) }

// readyPipe is the pipe a detaching parent waits on, nil in the
// foreground.
func readyPipe(env *Env) *os.File {
	v := env.Env(readyEnv)
	if v == "" {
		return nil
	}
	fd, err := strconv.Atoi(v)
	if err != nil || fd < 3 {
		return nil
	}
	return os.NewFile(uintptr(fd), "ready")
}

// openDebugLog opens the -l log (a leading + appends), or returns the
// applet's stdout. vendorOut is the file vendor daemons write to.
func openDebugLog(spec string, env *Env) (w io.Writer, vendorOut *os.File, path string, err error) {
	if spec == "" {
		f, _ := env.Stdout.(*os.File)
		return env.Stdout, f, "", nil
	}
	flags := os.O_WRONLY | os.O_CREATE | os.O_APPEND
	if strings.HasPrefix(spec, "+") {
		spec = spec[1:]
	} else {
		flags |= os.O_TRUNC
	}
	path = env.Path(spec)
	f, err := os.OpenFile(path, flags, 0o644)
	if err != nil {
		return nil, nil, "", fmt.Errorf("cannot open debug log %s: %s", path, server.SystemError(err))
	}
	return f, f, path, nil
}

func vendordApplet() *Applet {
	return &Applet{
		Name:    vendorApplet,
		Hidden:  true,
		Usage:   "vendord (started by lmgrd under the vendor's name)",
		Summary: "a vendor daemon; lmgrd starts it",
		Flags: func() []cli.Flag {
			return []cli.Flag{
				&cli.StringSliceFlag{Name: "c", Usage: "license `file`"},
				&cli.StringFlag{Name: "server-host", Usage: "the SERVER `host` lmstat shows"},
				&cli.IntFlag{Name: "lmgrd-port", Usage: "lmgrd's `port`"},
				&cli.IntFlag{Name: "port", Usage: "listen on `port` (0: any)"},
				&cli.StringSliceFlag{Name: "x", Usage: "disable `lmremove`"},
				&cli.StringFlag{Name: "daemon-path", Usage: "the DAEMON line's `path` (not where keys are looked for: the license file names it)"},
				&cli.BoolFlag{Name: "2", Usage: "with -p: lmremove only from license administrators"},
				&cli.BoolFlag{Name: "p", Usage: "with -2"},
				&cli.BoolFlag{Name: "allow-remote-admin", Usage: "accept lmremove from other hosts"},
				&cli.StringFlag{Name: "lockdir", Usage: "take the vendor's lock in `dir`"},
				&cli.StringFlag{Name: "bind", Usage: "listen on `address` only"},
				&cli.StringFlag{Name: "triad-peers", Usage: "the triad's members, `member=raft_address,...` in SERVER-line order"},
				&cli.StringFlag{Name: "triad-self", Usage: "this `member` of the triad"},
				&cli.StringFlag{Name: "data", Usage: "the triad's data `dir`"},
			}
		},
		Action: runVendord,
	}
}

func runVendord(c *cli.Context, env *Env) error {
	daemonMemory()
	name := env.Prog
	fdText := env.Env(server.ControlEnv)
	if fdText == "" || name == vendorApplet || name == "lmutil" {
		fmt.Fprintf(env.Stderr, "%s: this vendor daemon must be run by lmgrd\n", name)
		return alreadyPrinted(&ExitError{Status: 1})
	}
	fd, err := strconv.Atoi(fdText)
	if err != nil || fd < 3 {
		return fmt.Errorf("%s: bad %s=%q", name, server.ControlEnv, fdText)
	}
	f := os.NewFile(uintptr(fd), "control")
	conn, err := net.FileConn(f)
	f.Close()
	if err != nil {
		return fmt.Errorf("%s: control channel: %w", name, err)
	}
	server.SetProcessName(name) // ps and pgrep show the vendor's name, as argv[0] does
	trust := server.Trust{AdminOnly: c.Bool("2") && c.Bool("p"), AllowRemote: c.Bool("allow-remote-admin")}
	for _, x := range c.StringSlice("x") {
		if x == "lmremove" {
			trust.NoLmremove = true
		}
	}
	host, _ := env.Host()
	exe, _ := env.Executable()
	serverHost := c.String("server-host")
	if serverHost == "" {
		serverHost = host
	}
	log := server.NewDebugLog(env.Stdout, name, env.Now)
	stopProfile := startProfile(env.Env(profileEnv), name, log.Printf)
	err = server.RunVendorDaemon(c.Context, server.VendorConfig{
		Name:         name,
		LicenseFiles: c.StringSlice("c"),
		Addr:         net.JoinHostPort(c.String("bind"), strconv.Itoa(c.Int("port"))),
		ServerHost:   serverHost,
		LmgrdPort:    c.Int("lmgrd-port"),
		Software:     protocol.Software,
		Log:          log,
		Now:          env.Now,
		Trust:        trust,
		BuiltinKeys:  server.BuiltinKeys(),
		Executable:   exe,
		Identity:     protocol.Identity{User: env.Env("USER"), Host: host, PID: os.Getpid(), Program: name},
		LockDir:      c.String("lockdir"),
		Triad:        triadConfig(c, env, name, log),

		AdminSocketRetry: server.AdminSocketRetry(env.Env),
		ReportLog:        reportLogWriteTimeout(env),
	}, conn)
	stopProfile()
	log.Close() // before the error below, which lmgrd logs as this daemon's too
	switch {
	case err == nil:
		return nil
	case errors.Is(err, server.ErrLostLmgrd):
		return alreadyPrinted(&ExitError{Status: 1})
	case errors.Is(err, server.ErrMultipleVendor):
		// Logged already; lmgrd tells its terminal and does not restart it.
		return alreadyPrinted(&ExitError{Status: server.ExitMultiple})
	}
	// Nothing to serve, unreadable files, a port that cannot be bound:
	// restarting will not help until the files change.
	fmt.Fprintf(env.Stderr, "%s: %v\n", name, err)
	return alreadyPrinted(&ExitError{Status: server.ExitNoRestart})
}

// vendorDaemonDispatch recognises a vendor daemon started by lmgrd: argv[0]
// is the vendor's name (lmgrd sets it; the binary is lmutil, so its file
// name says nothing) and the control channel variable is set. A vendor
// named like an applet (a vendor "lmstat" or "down") is still one when
// lmgrd's -lmgrd-port is among its arguments. It returns the hidden
// vendor daemon applet.
func vendorDaemonDispatch(argv []string, env *Env) (a *Applet, prog string, args []string, ok bool) {
	if len(argv) == 0 || env.Env(server.ControlEnv) == "" {
		return nil, "", nil, false
	}
	prog = baseName(argv[0])
	if prog == "lmutil" || (Lookup(prog) != nil && !slices.Contains(argv[1:], "-lmgrd-port")) {
		return nil, "", nil, false
	}
	return Lookup(vendorApplet), prog, argv[1:], true
}

// reportLogWriteTimeoutEnv sets how long a vendor daemon's report log
// retries a failing write (a full disk) before the checkout is refused (a
// Go duration); the default is reportlog.DefaultWriteTimeout. Tests set
// it short.
const reportLogWriteTimeoutEnv = "GOLM_REPORTLOG_WRITE_TIMEOUT"

// reportLogWriteTimeout is the VendorConfig.ReportLog hook that applies
// $GOLM_REPORTLOG_WRITE_TIMEOUT, or nil when it is not set.
func reportLogWriteTimeout(env *Env) func(*reportlog.Config) {
	d, err := time.ParseDuration(env.Env(reportLogWriteTimeoutEnv))
	if err != nil || d <= 0 {
		return nil
	}
	return func(c *reportlog.Config) { c.WriteTimeout = d }
}

// lmgrdReadyWaitEnv sets how long a detaching lmgrd waits for its vendor
// daemons to serve before it returns anyway (a Go duration).
const lmgrdReadyWaitEnv = "GOLM_LMGRD_READY_WAIT"

// lmgrdReadyWait is $GOLM_LMGRD_READY_WAIT, else 10 seconds.
func lmgrdReadyWait(env *Env) time.Duration {
	if d, err := time.ParseDuration(env.Env(lmgrdReadyWaitEnv)); err == nil && d >= 0 {
		return d
	}
	return 10 * time.Second
}

// waitVendorsUp polls lmgrd's status until every vendor daemon serves,
// wait has passed or ctx ends.
func waitVendorsUp(ctx context.Context, dial func(context.Context) (*status.AdminSource, error), wait time.Duration) {
	give := time.Now().Add(wait)
	for {
		pctx, cancel := context.WithTimeout(ctx, time.Second)
		up, down := vendorsUp(pctx, dial)
		cancel()
		if len(up) > 0 && len(down) == 0 || !time.Now().Before(give) {
			return
		}
		t := time.NewTimer(50 * time.Millisecond)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}
