// Package server is golm's license server: lmgrd, which reads the
// license files, listens on the SERVER port and supervises one vendor
// daemon process per DAEMON/VENDOR line, and the vendor daemon, which
// counts seats and answers checkouts.
//
// # lmgrd
//
// New reads the license files, finds the SERVER line that names this
// host (FindServerLine, by licfile.IsThisHost: this_host, localhost, a
// loopback address, the host name or its first label, or an address of
// this host, with a hostid that matches; a line
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
// one write(2), which keeps lines whole. DebugLog writes the manual's format with an injected
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
// The vendor daemon's pools and seats live in package state, which
// changes them only through Commands (Checkout, Checkin, Heartbeat,
// SetIdle, Disconnect, Tick, Remove, RemoveHandle, Reread, SetPolicy,
// Revoke) applied one at a time by state.State.Apply; network handlers
// translate requests into commands and cannot touch pools. Every command
// carries the time it happens at, so the same commands give the same
// state: what package triad replicates for three-server redundancy.
// Only lines whose SIGN= verifies with the
// vendor's public key (see Publisher keys) are served; the others are
// logged as "BAD CODE for f1". A stopped
// client keeps its seats while its connection lives (unless the options
// file's TIMEOUT applies); TCP keepalive finds a host that is gone in
// about three minutes (ClientKeepAliveIdle), and a closed connection frees
// all its seats at once.
//
// # Connections
//
// lmgrd and the vendor daemon serve connections through one type,
// connServer (connserver.go): an accept loop per listener (the TCP port
// and the admin socket) that pauses after a temporary accept error, from
// 5 ms doubling to a second; the connection limit; the wait for a new
// connection's HELLO; and a graceful shutdown that closes the listeners
// and connections and waits for their handlers. The vendor daemon's
// Shutdown also waits for its tick before it writes the report log's
// STOP record, so nothing is logged after it; lmgrd starts no vendor
// daemon once Serve has stopped them, whether by a restart, an lmreread
// or a DAEMON line the lmreread brought.
//
// lmgrd and each vendor daemon serve at most MaxConnections connections
// (connlimit.go). Past that, SpareConnections more TCP connections are
// taken until their HELLO, to be answered -106 (admin tools from loopback
// stay), and AdminConnections are kept for the admin socket (-2 -p), for
// peers whose kernel credentials are an administrator's: a TCP peer,
// whatever it sends, never holds one. A new connection has
// HandshakeTimeout to send its HELLO, which it waits for on the
// connection's shallow stack (protocol.Conn.WaitFrame), so that a silent
// connection or a header and nothing more costs no handshake goroutine
// and no frame buffer.
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
// count dropped in file order with a warning), MAX (-87) and NOLOG. A bad
// line of it that restricts access closes the features it names (-39,
// minor 365; options.Closure), and an options file that cannot be read,
// or that the DAEMON line names and is not there, closes every feature;
// a reread of such a file keeps the policy in force (ErrKeptOptions), and
// lmgrd refuses it with file:line (checkReread).
// state.State.CheckInvariants makes the state check after every command
// that no pool goes over its count plus overdraft and no reserved seat
// goes to anybody else.
//
// # Publisher keys
//
// A vendor daemon trusts one public key per license file, chosen in this
// order (PublisherKey):
//
//  1. a key built into the vendor daemon binary at link time, which a
//     publisher sets with
//     go build -ldflags "-X golm/lmutil/server.publisherKeys=VENDOR:HEX" golm/lmutil
//     (HEX is the 64 hex digits of the VENDOR.pub line, as lmcrypt -genkey
//     prints them; several vendors' keys are separated by commas);
//  2. VENDOR.pub beside the vendor daemon binary (the running executable,
//     symbolic links resolved; not the DAEMON line's path, which the
//     license file names);
//  3. only when neither exists, VENDOR.pub beside the license file.
//
// A key beside the license file never overrides one of the first two: it
// is named in the debug log as ignored. A built-in key that is malformed,
// or a VENDOR.pub beside the binary that cannot be read or names another
// vendor, leaves the vendor daemon trusting no key at all (every line is
// BAD CODE) rather than falling back. The debug log names the key trusted
// ("Trusting public key built in (fingerprint 0123456789abcdef)" or its
// path) with its fingerprint, the first 16 hex digits of the SHA-256 of
// the key, which lmcrypt prints too.
//
// The key order protects a publisher from a customer who edits license
// files, not from one who controls the server machine: such a customer can
// replace the vendor daemon. The guarantee that holds then is the
// application's: a client built with the publisher's key
// (client.WithPublicKey) checks every line it is granted. For that a
// client sets protocol.CheckoutSigned, and the vendor daemon answers that
// connection's grants with protocol.SignedGranted, the signed form and
// SIGN= of the lines of the seat's pool.
//
// # Trust
//
// Admin requests (Shutdown, Reread, Remove, RemoveHandle and the log
// switches: Trust lists them by message type) are accepted only from this
// host, over the local admin socket (protocol.AdminSocket) or loopback, and only
// from root, the server's own user and license administrators, as the
// kernel says: SO_PEERCRED on the socket, the owner of the client's
// socket in /proc/net/tcp over loopback. lmgrd -allow-remote-admin takes
// them over TCP from anyone. lmgrd -x lmdown and -x lmremove refuse those
// commands with -63. With -2 -p only members of the lmadmin group (root
// and group 0 when there is no such group) may. Every refusal is logged
// with the user and host the client claims, the uid and pid the kernel
// reports or the pid the client claims, and the peer address.
//
// The admin socket's name lives in Linux's abstract namespace, where any
// local user may bind it first: a daemon whose name is held serves on
// TCP, logs the holder and binds the name when it is free again
// (adminsock.go). Each vendor daemon started by lmgrd holds an flock on
// VENDOR.lock in a private lock directory (vendorlock.go), so that one
// vendor daemon per vendor name runs on a host.
package server
