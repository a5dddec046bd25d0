// Package protocol is golm's wire format, shared by applications (through
// protocol/client), the lmutil admin commands, lmgrd and the vendor daemons.
//
// # Transport and frames
//
// Every connection is TCP (the lmgrd↔vendor daemon control channel is a
// Unix socketpair carrying the same frames). A connection is a sequence of
// frames in each direction:
//
//	+----------------+------+------------------+
//	| length N (4 B) | type | payload (N-1 B)  |
//	| big-endian     | 1 B  |                  |
//	+----------------+------+------------------+
//
// N counts the type byte and the payload. N is at least 1 and at most
// MaxFrame (64 KiB); anything else is a protocol violation. Every read and
// write of a frame has a deadline (Conn.ReadTimeout, Conn.WriteTimeout).
// A Reader takes a length for the peer's word until the bytes arrive: a
// frame longer than its 512-byte read buffer gets a frame buffer only once
// that buffer is full of it, and one past 4 KiB a buffer that doubles with
// what arrives, so a header announcing 64 KiB and nothing more costs
// nothing beyond the Reader. A Conn waiting for its next frame (Wait)
// keeps no frame buffer past 4 KiB.
//
// # Payload encoding
//
// Payloads are a fixed sequence of fields per message type, with no field
// names or tags:
//
//   - unsigned integers: uvarint (encoding/binary);
//   - signed integers (FlexLM codes, times): zig-zag varint;
//   - booleans: one byte, 0 or 1 (any other value is a violation);
//   - strings: uvarint length, then the bytes; at most MaxString bytes;
//   - lists: uvarint count, then the elements; at most MaxList elements.
//
// A payload must be consumed exactly: trailing bytes are a violation. New
// fields are only ever added by bumping Version, or by a new message type
// that a request asks for explicitly, never by appending optional tails,
// so a decoder never guesses.
//
// # Errors
//
// Two kinds. A peer error is an Error frame (TypeError) carrying a FlexLM
// code and minor number, say "Licensed number of users already reached"
// (-4); the connection stays usable. A protocol violation (a malformed
// frame, an unknown type, a bad payload, an unexpected message) is a
// *Violation: the side that sees it closes the connection and keeps
// serving everybody else. Nothing in this package panics on any input.
//
// # Handshake
//
// The first frame in each direction is Hello: the magic "GOLM", the
// protocol Version, the sender's Role and its identity (user, host,
// display, pid, LM_PROJECT, program name, and a random JobID naming the
// client's job across reconnects). A server answers with its own Hello
// (role RoleServer, its daemon name, host, golm version and RunID, a
// random number fixed for the life of the process) or with an Error frame
// and closes. A peer speaking another protocol version gets -83 ("Version
// of client newer than server") or is refused with a violation.
//
// A client need not wait for the server's Hello: it may write its Hello
// and its first requests in one write (the client package sends Hello
// and Locate to lmgrd, and Hello, HostIDs, HostInfo, Linger and the first Checkout
// to a vendor daemon, that way), and then read the answers in order. A
// server reads a connection's frames in order, so the requests are
// answered once the handshake is done; a server that refuses the Hello
// answers with the Error frame in its place and closes without reading
// the rest, and the client reads that Error frame as the FlexLM error.
// A server may answer the Hello and requests that came with it in one
// write.
//
// # Conversations
//
// After the handshake the client sends one request and reads its reply
// before sending the next (only the requests that come with the Hello are
// sent ahead); lmgrd and vendor daemons never send unsolicited frames on
// client connections. Replies:
//
//	Locate{vendor, feature}  → LocateReply{vendor, host, port} | Error(-97, -5)  (lmgrd)
//	LocateHandoff{vendor, feature} → HandedOff{vendor} | LocateReply | Error(-97, -5)  (lmgrd; see Handoff)
//	Checkout{...}            → Granted | SignedGranted | Queued{handle} | Error(-4, -5, -10, -18, -24, -25, -31, -38, -39, -87, -101 ...)
//	QueuePoll{handle}        → Granted | SignedGranted | Queued{handle} | Error(-41)
//	Checkin{handle}          → OK | Error(-22 / -41)   (a queued handle leaves the queue)
//	Idle{idle}               → OK
//	HostIDs{ethers}          → OK
//	HostInfo{platform, long} → OK   (for PLATFORMS= and 32-bit hostids)
//	Linger{seconds}          → OK   (the linger of the connection's later checkouts)
//	Heartbeat{seq}           → HeartbeatAck{seq}
//	ServerStatusRequest      → ServerStatus, VendorStatus*, End            (lmgrd)
//	FeatureStatusRequest     → (FeatureHeader, (PoolStatus, (UserEntry | ReservationEntry)*)*)*, End
//	Shutdown{vendor, force}  → OK{count} | Error(-63 ...)
//	Reread{vendor}           → OK{count} | Error
//	Remove{feature, user, host, display} / RemoveHandle{feature, handle} → OK{count} | Error
//	SwitchReportLog{path}    → LogSwitched{vendor, path, kept, seq} | Error(-42, -63, -85 ...)   (lmswitchr)
//	NewReportLog{path}       → LogSwitched{vendor, path, kept, seq} | Error(-42, -63, -85 ...)   (lmnewlog)
//	SwitchDebugLog{path}     → LogSwitched{vendor, path} | Error(-42, -63 ...)                   (lmswitch)
//
// Status replies are streamed, one frame per entry, and end with End (or an
// Error frame in place of End), so that a large table never has to fit in
// one frame.
//
// Locate, ServerStatusRequest, Shutdown and Reread go to lmgrd (Heartbeat
// is answered there too); Checkout, QueuePoll, Checkin, Heartbeat, Idle,
// HostIDs, HostInfo, FeatureStatusRequest, Remove, RemoveHandle and the three log
// switches go to a vendor daemon. A log switch names a path on the
// server; a relative one is taken relative to the directory of the
// vendor daemon's options file.
// Admin tools (RoleAdmin) use Locate like clients to find the vendor
// daemon for FeatureStatusRequest, the Remove requests and the log
// switches. A request on the wrong daemon is answered with an Error
// frame; a message that is not a request at all is a violation.
//
// # Admin requests
//
// Shutdown, Reread, Remove, RemoveHandle and the three log switches are
// admin requests. The daemon decides who may send them from the kernel's
// word, never from the Hello's user name: on its local admin socket (on
// Linux a name in the abstract namespace, "@golm-DAEMON-PORT", DAEMON
// "lmgrd" or the vendor's name, PORT lmgrd's, as AdminSocket names it;
// the frames and handshake are those of TCP) from the peer's credentials, over loopback TCP from
// the owner of the peer's socket. A request from another host, or from a
// local user without the right, is answered Error(-63) and the
// connection stays open. Admin tools on the server host try the admin
// socket first and fall back to TCP.
//
// # Handoff
//
// A client that sends LocateHandoff in place of Locate asks lmgrd to hand
// its connection over to the vendor daemon rather than redirect it to the
// daemon's port. When the vendor daemon is up and the system can pass
// descriptors (Unix), lmgrd sends the connection's descriptor to the
// vendor daemon over their control socketpair (SCM_RIGHTS, with a
// HandedOff frame), then answers HandedOff{vendor} and closes its own
// descriptor: the connection now belongs to the vendor daemon, and the
// client's next frame is its Hello to it, as on a connection it had
// dialled. One TCP connection then carries a whole short-lived client,
// and only lmgrd's port has to be reachable. Otherwise lmgrd answers as
// to Locate. lmgrd hands nothing over when the client sent more frames
// behind LocateHandoff (they would stay behind in lmgrd's buffer); the
// client sends nothing more until it has the answer. An lmgrd older than
// LocateHandoff closes the connection on it, and the client then asks
// again with Locate on a new connection.
//
// # Signed grants
//
// An application that checks its grants with the publisher's public key
// sets CheckoutSigned in a Checkout's flags. From then on the vendor
// daemon answers every grant on that connection (Checkout, and QueuePoll
// of a queued or held seat) with SignedGranted in place of Granted: the
// same fields, then the signed form Form (SignedFormGolm1: licfile's
// "golm-sig-1" text, checked with Ed25519) and up to MaxGrantLines
// license lines, each its signed form and SIGN= value: the PACKAGE line
// first for a package component, then the first lines of the seat's
// pool. The application verifies them and checks the seat back in when
// they do not license what it asked for. This is the versioned extension
// of Granted: a client that does not set the flag, and so every older
// client, is answered Granted as before; a vendor daemon older than the
// flag ignores it and answers Granted, which a checking client takes as a
// grant without lines and refuses.
//
// # Queueing
//
// A Checkout with the CheckoutQueue flag (FlexLM's LM_CO_QUEUE and
// LM_CO_WAIT) that finds no free seat is answered Queued{handle}: the
// vendor daemon keeps the request and grants queued requests strictly in
// arrival order as seats free up, holding each granted seat for its
// client. Since servers send nothing unsolicited, the client asks with
// QueuePoll{handle} until the answer is Granted; Checkin{handle} or
// closing the connection leaves the queue. A Checkout without the flag
// while others are queued for the feature is refused with -24. A
// connection may have one request queued per feature (a second is
// refused with -24) and 64 in all (one more is refused with the denial
// it would have had without the flag).
//
// # Deadlines
//
// Conn puts a deadline on every frame read and write (ReadTimeout,
// WriteTimeout). A side that waits for an idle peer's next request sets
// a long ReadTimeout bounded by the heartbeat (a vendor daemon drops a
// client silent for longer than its client timeout). The client package
// reads each reply on the requesting goroutine with the request's
// timeout as the deadline; while a connection stays idle it waits for
// the connection to become readable without reading, so that a closed
// connection is noticed at once.
//
// # lmgrd and vendor daemons
//
// A client connects to lmgrd on the SERVER line's port and sends Locate
// for its vendor; lmgrd answers with the vendor daemon's TCP port (the
// redirect), the client hangs up, and then connects to the vendor daemon
// directly and does its checkouts there, over one connection per Job.
// A client asks lmgrd again for every new connection: a restarted vendor
// daemon may listen on another port.
//
// On the control channel between lmgrd and a vendor daemon the vendor
// daemon sends Hello with RoleVendorControl and then Ready{port, version}
// once it listens; lmgrd sends Shutdown and Reread. Each writes its own
// lines to the shared debug log (frame type 25, once a vendor daemon's log
// line relayed through lmgrd, is withdrawn and stays reserved). EOF on the
// channel means the other side died.
//
// # Reconnecting without counting a seat twice
//
// A Job's Hello carries a JobID chosen at random when the Job is opened,
// and the vendor daemon's Hello carries its RunID. Every Granted reply
// names the handle. When a connection breaks, the client reconnects
// (through lmgrd again, since a restarted vendor daemon may listen on
// another port), and re-sends Checkout for each license it held with
// PrevRun and PrevHandle set. A vendor daemon whose RunID equals PrevRun
// and which still holds PrevHandle for the same JobID (its side of the old
// connection not yet noticed dead) re-adopts that handle onto the new
// connection and answers Granted{Adopted: true} with the same handle;
// otherwise it treats the request as a fresh checkout. Either way the
// checkout holds exactly one seat.
package protocol
