// Package server is golm's license server: lmgrd, which reads the
// license files, listens on the SERVER port and supervises one vendor
// daemon process per DAEMON/VENDOR line, and the vendor daemon, which
// counts seats and answers checkouts.
//
// # lmgrd
//
// New reads the license files, finds the SERVER line that names this
// host (FindServerLine: this_host, localhost, the host name or its first
// label, or an address of this host, with a hostid that matches; a line
// whose specific hostid matches is taken when no name does) and binds its
// port, the first free of 27000-27009 when the line has none. A port in
// use is retried for Config.BindRetry, logging "Retrying socket bind
// (address in use)". Serve starts the vendor daemons and answers LOCATE
// (the redirect to a vendor daemon's port, by vendor or by feature),
// server status for lmstat, and the admin requests SHUTDOWN (lmdown) and
// REREAD (lmreread). lmremove and feature status go to the vendor daemon.
//
// # Vendor daemon processes
//
// A vendor daemon is the DAEMON line's program when it exists and is
// executable, else the lmutil binary itself, started with argv[0] set to
// the vendor's name. Its control channel is one end of a Unix socketpair
// passed as file descriptor 3, named by the environment variable
// ControlEnv; started without it the vendor daemon says it must be run by
// lmgrd. Over the channel (protocol frames) the vendor daemon sends HELLO
// and READY with its port; lmgrd sends SHUTDOWN and REREAD. Each side
// notices the other's death as EOF: a vendor daemon whose lmgrd died
// exits, and on Linux the kernel also sends it SIGTERM (Pdeathsig), so a
// kill -9 of lmgrd leaves nothing behind. Vendor daemons run in their own
// process group, so a terminal's ^C reaches only lmgrd, which shuts them
// down in order.
//
// lmgrd restarts a vendor daemon that dies after a pause that doubles up
// to RestartPolicy.Max and gives up after RestartPolicy.Limit deaths in a
// row, until the next lmreread; a vendor daemon that exits with
// ExitNoRestart (nothing to serve, unreadable license) is not restarted.
// The first start is logged "Started demo (internet tcp_port N pid P)",
// every later one "REStarted ...".
//
// # Debug log
//
// lmgrd and its vendor daemons share one debug log. lmgrd opens the file
// (O_APPEND) and hands it to each vendor daemon as its standard output and
// error, so every process writes its own lines directly, each line with
// one write(2), which keeps lines whole. (The protocol's LOG_LINE frame,
// a vendor daemon relaying a line through lmgrd, is also accepted on the
// control channel.) DebugLog writes the manual's format with an injected
// clock, TIMESTAMP lines at start, every TimestampEvery and at midnight,
// and rate-limits every line a client can cause (OUT, IN, DENIED, ...).
//
// # Report log
//
// REPORTLOG [+]path in the options file (relative to the options file's
// directory) names the vendor daemon's report log (package reportlog:
// '+' continues the file and its chain; without it an existing file is
// kept beside the new one as path.N); a vendor daemon without a working
// report log opens the one a reread options file names, and a changed
// REPORTLOG or DEBUGLOG otherwise applies at the next start. Every state
// change that makes
// records goes through one lock together with the writing of its
// records, so the log holds events in the order the state machine
// applied them, and each record is in the file before the client hears
// its answer. The records: START (detail version=) and STOP; OUT for a
// grant (detail "queued" when a queued request was granted, whose QUEUE
// record has the same handle); IN when a seat is given back, with the
// reason normal (checkin), exit (the connection closed), lmremove,
// timeout (TIMEOUT reclaimed an idle seat) or shutdown, written when a
// lingering seat's linger begins (detail linger=N), so that every OUT has
// exactly one IN with its handle; DENY with the FlexLM code (detail
// minor=N); QUEUE; DEQUEUE when a queued request leaves the queue without
// a seat (reason normal or exit); REREAD; SWITCH (lmswitchr, lmnewlog). A
// suite's own seat (OPTIONS=SUITE) is not recorded: its component's is.
//
// A grant whose OUT or QUEUE record cannot be written (reportlog.ErrNotLogged:
// the disk stayed full past the writer's timeout) is revoked (the Revoke
// command) and the client is denied with -23, "License server temporarily
// busy", which clients retry; a REPORTLOG that cannot be opened at start
// denies every grant that way until lmswitchr names a file that can be
// written. IN, DENY and DEQUEUE records that cannot be written do not
// change the answer (the seat is back either way) and are named in the
// debug log instead.
//
// lmswitchr (SwitchReportLog) continues the log in another file, starting
// one when there is none; lmnewlog (NewReportLog) renames the current file
// and continues under its name; lmswitch (SwitchDebugLog) moves the
// vendor daemon's debug log lines to a file, as DEBUGLOG [+]path does at
// start. Their paths are resolved on the server against the options
// file's directory (whose own symbolic links are resolved once). A log
// target must be a new file or a golm log of the same kind and vendor
// (reportlog.CheckReportLog, reportlog.IsDebugLogLine); anything else, a
// path with a symbolic link in any component, directories, devices and
// other files that are not regular are refused with -42 and left
// untouched, and new files get mode 0640. They are admin requests
// (Trust). Repeated denials of one connection are summarised
// (reportlog.Writer.Deny), and a restarted vendor daemon continues the
// report log in the file it last wrote (reportlog.StatePath).
//
// # License state
//
// The vendor daemon's pools and seats change only through Commands
// (Checkout, Checkin, Heartbeat, SetIdle, Disconnect, Expire, Tick,
// Remove, RemoveHandle, Reread, SetPolicy) applied one at a time by
// State.Apply; network handlers translate requests into commands and
// never touch pools. Every command carries the time it happens at, so the
// same commands give the same state: what a replicated log needs later
// for three-server redundancy. Only lines whose SIGN= verifies with the
// vendor's public key (VENDOR.pub beside the license file or the daemon)
// are served; the others are logged as "BAD CODE for f1". A client that
// stops sending frames for VendorConfig.ClientTimeout is dropped, and a
// closed connection frees all its seats at once.
//
// # Pools (manual 3.2.4-3.2.6, 3.4, 3.6)
//
// The first counted FEATURE line of a name counts and later counted
// FEATURE lines of it are ignored; INCREMENT lines add to the pool with
// the same name, version and node-lock hostid (and vendor string, when
// the publisher sets PoolRules.VendorStringPools); anything else is a
// pool of its own, and lmstat shows each pool as its own block. An
// UPGRADE line moves up to its count from the closest preceding line
// with from <= version < to into a pool of the new version. A PACKAGE
// line enabled by a pool of its name becomes one pool per component, with
// the component's version and its count times the enabling count; without
// OPTIONS=SUITE the package feature itself is gone (-5), with it every
// component checkout also takes a seat of the suite, shared by one user's
// components, and the suite alone is refused (-125). Lines issued before
// a later SUPERSEDE line's ISSUED= date are dropped. A checkout tries
// node-locked uncounted lines first, then node-locked counted ones, then
// floating ones (the v7+ order of 3.6). A client reports its Ethernet
// addresses (HostIDs) so that lines locked to them serve it.
//
// # Policies
//
// DUP_GROUP (U, H, D, V, SITE, NONE): checkouts whose identity agrees on
// the grouped parts share their licenses, and lmremove -h of one removes
// the group. OVERDRAFT seats beyond the count are granted, lowered by the
// options file's MAX_OVERDRAFT. USER_BASED and HOST_BASED lines serve
// only the first n users or hosts the options file INCLUDEs (-84 when it
// INCLUDEs none). A checkout with the queue flag that finds no seat
// waits; waiters are granted strictly in arrival order as seats free up,
// and a checkout without the flag gets -24 while others wait. A
// checked-in seat lingers (stays out) for the application's linger or the
// options file's LINGER, whichever is longer. TIMEOUT and TIMEOUTALL
// reclaim seats of applications that declared themselves idle or stopped
// heartbeating. The options file (found through the DAEMON line or as
// VENDOR.opt beside the license file, reread by lmreread) also decides
// INCLUDE/EXCLUDE (-39/-38), RESERVE (seats dedicated to their holders and
// counted in use; -101 when only others' remain; reservations beyond the
// count dropped in file order with a warning), MAX (-87) and NOLOG.
// State.CheckInvariants makes the state check after every command that
// no pool goes over its count plus overdraft and no reserved seat goes to
// anybody else.
//
// # Trust
//
// Admin requests (Shutdown, Reread, Remove, RemoveHandle and the log
// switches: Trust lists them by message type) are accepted only from this host: over loopback
// or the local admin socket (AdminSocket), unless lmgrd runs with
// -allow-remote-admin. lmgrd -x lmdown and -x lmremove refuse those
// commands with -63. With -2 -p they are taken only on the local admin
// socket, from members of the lmadmin group (root and group 0 when there
// is no such group) as the kernel's peer credentials say. Every refusal
// is logged with the user and host the client claims, the uid and pid
// the kernel reports or the pid the client claims, and the peer address.
package server
