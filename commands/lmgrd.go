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
	"golm/lmutil/server/status"
)

// readyEnv names the environment variable that tells a detaching lmgrd's
// background half which file descriptor to report "listening" on.
const readyEnv = "GOLM_LMGRD_READY_FD"

// bindRetryEnv overrides how long lmgrd retries a busy port (a Go
// duration such as "10s"); the default is about six minutes.
const bindRetryEnv = "GOLM_LMGRD_BIND_RETRY"

// vendorApplet is the hidden applet a vendor daemon runs as.
const vendorApplet = "vendord"

// serverApplets are lmgrd and the hidden vendor daemon.
func serverApplets() []*Applet { return []*Applet{lmgrdApplet(), vendordApplet()} }

func lmgrdApplet() *Applet {
	return &Applet{
		Name:    "lmgrd",
		Usage:   "lmgrd [-c license_file_list] [-l [+]debug_log] [-z] [-2 -p] [-local] [-allow-remote-admin] [-x lmdown] [-x lmremove] [-lockdir dir] [-bind address] [-http addr] [-v] [-help]",
		Summary: "the license manager daemon",
		Description: `lmgrd reads the license files, checks that one of their SERVER lines names this host (by name, this_host, or hostid; ANY matches any host), ` +
			`listens on that line's port (the first free of 27000-27009 when it has none) and starts one vendor daemon per DAEMON or VENDOR line, ` +
			`the program the line names if it exists and is executable, else lmutil itself under the vendor's name. ` +
			`Clients ask lmgrd for their vendor daemon, and lmgrd hands the client's connection over to it (on Unix systems; elsewhere, and for clients that do not ask for that, it tells the client the vendor daemon's port), so that licensed applications need only lmgrd's port (lmutil commands run on other hosts still connect to the vendor daemon's port).

Without -z lmgrd detaches into the background and the command returns 0 once lmgrd listens and its vendor daemons serve (or after 10 seconds, $` + lmgrdReadyWaitEnv + ` sets another Go duration), so that a command run next finds them; with -z it stays in the foreground (for systemd). ` +
			`Run by systemd as a Type=notify service (NOTIFY_SOCKET set), lmgrd -z says READY=1 once every vendor daemon serves (after a minute at most, naming the ones that do not in STATUS) and STOPPING=1 when it stops; contrib/systemd has a unit file. ` +
			`The debug log goes to standard output, or to debug_log with -l (appended to with -l +debug_log). Vendor daemons write to the same log.

Every debug log line is hh:mm:ss (daemon) message, the daemon being lmgrd or the vendor's name, also for what a vendor daemon prints on its standard error; TIMESTAMP M/D/YYYY lines give the date at start, every six hours and on a new day. ` +
			`Every usage line is written, none rate-limited: OUT: "feature" user@host, IN: "feature" user@host (followed by (INACTIVE) when a TIMEOUT reclaimed the seat), ` +
			`each with (N licenses) when the checkout took more than one; DENIED: "feature" user@host  (reason (code,minor)); UNSUPPORTED: "feature" (PORT_AT_HOST_PLUS ) user@host (reason); ` +
			`QUEUED: "feature" user@host and DEQUEUED: "feature" user@host when the request leaves the queue (granted, then OUT, or given up); REMOVING user@host from feature (lmremove); ` +
			`RESERVE feature for USER name (or HOST, DISPLAY, INTERNET, PROJECT, GROUP, HOST_GROUP) for each reservation, with (N licenses) when it holds more than one, as a vendor daemon starts; EXPIRED: feature; BAD CODE for feature. ` +
			`A component of an OPTIONS=SUITE package logs OUT and IN for itself and for the suite. The options file's NOLOG IN, OUT, DENIED (with UNSUPPORTED) and QUEUED (with DEQUEUED) turn those off. ` +
			`lmgrd logs Started vendor and REStarted vendor (internet tcp_port N pid P), vendor exited: reason, SHUTDOWN request from user at node host, Shutting down vendor (lmdown, lmdown -vendor, SIGTERM), ` +
			`EXITING DUE TO SIGNAL n, and Unknown host: host for a SERVER host that does not resolve; a vendor daemon logs CANNOT OPEN options file "path": reason and No features to serve!. ` +
			`Lines are buffered and written every 10 milliseconds, when the buffer fills and at shutdown, so a daemon killed with kill -9 loses at most its last 10 milliseconds of lines. ` +
			`Only noise a client can cause without a license (malformed requests, handshakes that do not come, refused admin requests and connections, failed accepts) is limited, to 50 lines a minute of each kind, ` +
			`and (N more kind messages not logged) is written when that minute ends and at shutdown.

A port in use is retried for about six minutes (the environment variable ` + bindRetryEnv + ` sets another Go duration), logging Retrying socket bind (address in use), then lmgrd exits with status 1. ` +
			`A vendor daemon that dies is restarted after a pause that doubles up to 30 seconds, and logged as REStarted; after 10 deaths in a row lmgrd gives up on it until the next lmreread. ` +
			`SIGTERM or SIGINT shut lmgrd and every vendor daemon down (EXITING DUE TO SIGNAL 15).

The admin commands (lmdown, lmreread, lmremove, lmswitchr, lmswitch, lmnewlog) are accepted only from this host, and only from root, the user lmgrd runs as and license administrators (members of the lmadmin group; root and members of group 0 when there is no lmadmin group); lmstat and lmdiag stay open to everyone. ` +
			`Who asks is what the kernel says, never the user name a command sends: lmgrd and each vendor daemon listen on a local Unix socket (@golm-lmgrd-PORT and @golm-VENDOR-PORT in the abstract namespace) and read the caller's uid there, and over loopback TCP they read the uid that owns the caller's socket from /proc/net/tcp (Linux only; elsewhere admin commands need -allow-remote-admin). ` +
			`Another local user is refused with You are not a license administrator. (-63,606), a request from another host with -63,601, and each refusal is logged with the user, host, uid, pid and address it came from. ` +
			`-allow-remote-admin, golm's own flag, accepts admin commands over TCP from anyone who can reach the port, other hosts included (FLEXlm's lmgrd did). -x lmdown and -x lmremove disable those commands for everyone (-63). ` +
			`-local is accepted for compatibility: admin commands are local unless -allow-remote-admin is given. ` +
			`With -2 -p only license administrators may run them, as the manual says: when the lmadmin group exists, root and lmgrd's user too must be members of it (others get -63,604).

Any local user can bind a name in the abstract namespace. When another process holds a daemon's socket name, the daemon logs that process's uid and pid, goes on serving on TCP and tries the name again every 30 seconds ($` + server.AdminSocketRetryEnv + ` sets another Go duration). ` +
			`The admin commands talk on a local socket only when root, their own user or the user that owns the daemon's TCP port listens there, and use TCP otherwise, so a squatter can neither answer for the server nor keep licensing from working.

One vendor daemon per vendor name runs on a host, as in FLEXlm: each holds a lock on VENDOR.lock in the lock directory (-lockdir, else $` + server.LockDirEnv + `, else /run/golm for root and $XDG_RUNTIME_DIR/golm or /tmp/golm-UID for other users), which the kernel drops when the vendor daemon ends, kill -9 included. ` +
			`A second vendor daemon of the same name (from another lmgrd, or from a copy of the license file with another port) logs MULTIPLE VENDOR servers running. Please kill, and restart license daemon. and exits with status 4; lmgrd says so on its standard error and does not restart it until an lmreread. ` +
			`A vendor daemon waits up to 10 seconds ($` + server.LockWaitEnv + `) for a lock still held by the vendor daemon of an lmgrd that was just stopped. ` +
			`lmgrd creates the lock directory 0700 (0755 for root) and refuses to start unless it is a directory, not a symbolic link, owned by root or by lmgrd's user and writable by no one else. ` +
			`Vendor daemons of two different users use two directories and do not see each other.

-bind address, golm's own flag, makes lmgrd and its vendor daemons listen on that IP address only (by default they listen on every address of the host); the admin commands on this host still reach them over the local socket, which is named after the port: two lmgrds on one host need two ports, whatever their -bind. ` +
			`ps, pgrep, top and ss -p show lmgrd as lmgrd and each vendor daemon under its vendor's name (Linux). ` +
			`When lmgrd cannot start it says why on its terminal and exits with status 1, or 255 for a license file it cannot find (Cannot find license file. (-1,...) and the license path), as lmutil does; ` +
			`a SERVER line for this host with another hostid names the file and line, the hostid it wants and this host's (lmhostid prints them all).

lmgrd started as root logs a warning that it should run as a non-privileged user, and keeps working.

-http addr, golm's own flag, serves the status read-only over HTTP: a status page at / (readable without JavaScript; a small script refreshes it in place every 10 seconds, /?refresh=seconds sets another interval), ` +
			`the status as JSON at /api/v1/status (the document lmstat -a -json prints, versioned; its JSON Schema at /api/v1/schema) and Prometheus metrics at /metrics. ` +
			`addr is a port (served on 127.0.0.1 only), :port (every address) or host:port. lmgrd reads the status as lmstat -a does, at most once a second however many clients ask. ` +
			`The server is off without -http; it has no authentication, so anyone who can reach addr sees who uses which license from which host: keep it on loopback or behind a reverse proxy that authenticates.

Each vendor daemon reads its options file: the one its DAEMON or VENDOR line names (options=path, or the path after the daemon's), else VENDOR.opt beside the license file. ` +
			`A bad line of it is logged with its file:line and skipped, unless it restricts access (INCLUDE, INCLUDEALL, EXCLUDE, EXCLUDEALL, RESERVE, MAX, MAX_OVERDRAFT, or a GROUP or HOST_GROUP one of those uses): ` +
			`then the features it names are served to nobody (-39) until the file is fixed, and every feature when it names none that can be read. ` +
			`An options file that exists but cannot be read, or that the DAEMON line names and is not there, is logged as CANNOT OPEN options file and closes every feature (FLEXlm 7.1 runs without it). ` +
			`Unlike FLEXlm 7.1, lmreread rereads the options file too, and the new one applies at once; one with such a bad line is refused and the options in force stay.

lmgrd and each vendor daemon accept at most $GOLM_MAX_CONNECTIONS connections (default 10000, lowered to fit the open-file limit). ` +
			`Past that, 8 more TCP connections are taken until their handshake, to tell clients -106 and to let admin tools in over loopback while one is free, ` +
			`and with -2 -p 8 more are kept for administrators on the local Unix socket (root, lmgrd's account, the lmadmin group, as the kernel reports the caller), which no TCP connection can take. ` +
			`A new connection must send its handshake within 10 seconds ($GOLM_HANDSHAKE_TIMEOUT, a duration such as 5s, sets another). ` +
			`A vendor daemon runs with GOGC=50 (raised while its live heap is small, to leave 8 MB between collections) and a soft memory limit of 80 MiB unless $GOGC or $GOMEMLIMIT is set in lmgrd's environment; raise GOMEMLIMIT for more than about 12,000 idle clients.`,
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
	home, _ := os.UserHomeDir()
	srcs := licfile.ResolvePath(c.String("c"), "", licfile.PathEnv{Getenv: env.Getenv, Dir: env.Dir, Home: home})
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
	log.Printf("-----------------------------------------------")
	log.Printf("%s", VersionLine("lmgrd"))
	log.Printf("%s", Banner("lmgrd"))
	log.Printf("lmgrd running as pid %d", os.Getpid())
	defer server.StartProfile(env.Env(server.ProfileEnv), "lmgrd", log.Printf)()
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
		LicenseFiles: files,
		Log:          log,
		VendorOutput: vendorOut,
		Exe:          exe,
		Hostname:     host,
		Machine:      machine,
		Trust:        trust,
		BindRetry:    bindRetry,
		Software:     Version,
		Now:          env.Now,
		LockDir:      lockDir(c, env),
		Stderr:       notices,
		Bind:         c.String("bind"),
		DataDir:      dataDir(c, env),

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
	web, err := httpstatus.New(httpstatus.Config{
		Listener: ln,
		Dial: func(ctx context.Context) (httpstatus.Conn, error) {
			return dial(ctx)
		},
		Name:       fmt.Sprintf("%d@%s", lm.Port(), lm.Host()),
		Software:   Version,
		Now:        env.Now,
		Logf:       log.Printf,
		LogLimited: log.Limited,
	})
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
// runs: the table renderer's text-width cache (about 1.5 MB, allocated
// when the process starts) serves lmreport's tables only.
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
	err = server.RunVendorDaemon(c.Context, server.VendorConfig{
		Name:         name,
		LicenseFiles: c.StringSlice("c"),
		Addr:         net.JoinHostPort(c.String("bind"), strconv.Itoa(c.Int("port"))),
		ServerHost:   serverHost,
		LmgrdPort:    c.Int("lmgrd-port"),
		Software:     Version,
		Log:          log,
		Now:          env.Now,
		Trust:        trust,
		BuiltinKeys:  server.BuiltinKeys(),
		Executable:   exe,
		Identity:     protocol.Identity{User: env.Env("USER"), Host: host, PID: os.Getpid(), Program: name},
		LockDir:      c.String("lockdir"),
		Triad:        triadConfig(c, env, name, log),

		AdminSocketRetry: server.AdminSocketRetry(env.Env),
	}, conn)
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
