// Package reportlog writes and reads golm's report log: the vendor daemon's
// record of every checkout, checkin, denial, queue, reread, server start and
// stop and log switch, kept so that usage can be reported on later
// (lmreport) and so that nothing an administrator is billed by can be lost
// or altered unnoticed.
//
// # Format (version 1)
//
// A report log is a UTF-8 text file of lines ending in '\n'. The first line
// of every file is a header:
//
//	#golm-reportlog v1	seq=1	prev=00000000000000000000000000000000	vendor=demo
//
// seq is the sequence number of the first record that follows and prev the
// hash of the record before it (all zeros at the start of a chain). Every
// other line is one record: sixteen tab-separated key=value fields, always
// all of them and always in this order:
//
//	time     UTC time, RFC 3339 with milliseconds (2026-11-23T13:09:06.123Z)
//	seq      sequence number, 1, 2, 3, ... with no gap, across rotated files
//	event    START STOP OUT IN DENY QUEUE DEQUEUE REREAD SWITCH
//	feature  feature name ("" for server events)
//	version  feature version
//	user     user name
//	host     user's host
//	display  user's display
//	project  LM_PROJECT of the client
//	count    number of licenses
//	handle   license handle of the checkout
//	pool     license pool the checkout came from
//	code     FlexLM error number of a DENY (-4), 0 otherwise
//	reason   IN: normal, exit, lmremove, timeout or shutdown; SWITCH:
//	         lmswitchr or lmnewlog; otherwise free text
//	detail   free text: SWITCH names the file the log continues in (to=);
//	         DENY holds minor=M, and a summary also repeats=N
//	         (comma-separated)
//	hash     hex SHA-256, first 32 digits, of the previous record's hash,
//	         a tab, and this line up to (without) "\thash="
//
// Values are escaped so that no string a client chooses (user, host,
// display, project, feature, version) can forge a field or a line, or
// mean anything to a shell or a line-oriented tool made to read the
// file: a value holds only ASCII letters and digits, the punctuation
// - _ . , : / @ + = and printable non-ASCII characters (no space, no C0
// or C1 control, no U+0085, U+2028 or U+2029, no other Unicode space or
// format character). Backslash is written \\, tab \t, newline \n,
// carriage return \r, and every other byte as \xHH: a character that is
// escaped is written as all of its UTF-8 bytes, and so is every byte
// that is not part of valid UTF-8. Unescape reverses Escape exactly, for
// any bytes. Files written before this rule, which left spaces and
// punctuation raw, read the same. Readers must accept the fields in this
// order and reject a line that has any other layout; later versions
// change the version word of the header.
//
// # Chain and rotation
//
// The hash chain and the sequence continue across files. Rotation
// (lmswitchr: Writer.Switch, lmnewlog: Writer.NewLog) appends a SWITCH
// record to the old file, whose detail names the new file, and starts the
// new file with a header whose seq and prev continue from that record. A
// set of rotated files can therefore be put back in order from their
// headers alone (Open does), and Verify checks the whole set: every line
// well formed, every hash right, no sequence number missing or repeated,
// and each file's header matching the last record of the file before.
// A rotation while the old file cannot be written puts the SWITCH record
// first in the new file instead (see Durability); the set verifies the
// same.
//
// An OUT record's detail says how many seats its license pool has,
// total=N (none for an uncounted pool), after "queued" for a grant from
// the queue: lmreport -html draws the seats in use against it.
//
// # Restarts
//
// Beside the file it was configured with (REPORTLOG path), the writer
// keeps a state file, .NAME.state in the same directory, naming the file
// it currently writes to:
//
//	#golm-reportlog-state v1	vendor=demo	current=/var/log/m.log
//
// It is rewritten atomically (a temporary file, fsync, rename, fsync of
// the directory) when the writer opens and at every rotation. A writer
// that starts (after lmdown, a crash or kill -9) continues the chain from
// the last record of the file it names, not from the file the options
// name: with Append ('+') in that file, else in a new file at the
// configured path (an old one there kept as path.N). A state file that
// is not one, or names a file that is gone or may not be written (see
// below), is reported and the chain continues from the configured path.
// CheckSet finds what a restart from the wrong file leaves behind: a
// fork (two files holding the same sequence numbers, or a file that
// continues another record than the last of the file before it) or a
// gap (numbers no file holds); Verify fails on either, naming the files
// and the numbers.
//
// # Denials
//
// A client that asks in a loop for a license it cannot have must not be
// able to fill the disk, so repeated denials are summarised (Writer.Deny).
// The first denial of a kind (one client connection, feature, version and
// reason) is written at once as an ordinary DENY record. Repeats of it in
// the next DenialInterval (10 s by default) are only counted; when the
// interval ends, one summary record is written: the first record again,
// with the time of the summary and ",repeats=N" added to its detail,
// standing for N denials that have no record of their own. Each interval
// with repeats writes one summary; an interval without any ends it, and
// the next denial is again written at once. Summaries still open are
// written before a rotation's SWITCH record and before the vendor
// daemon's STOP. A client denied more kinds in one interval than
// DenialKeys (16) has the rest counted in one summary marked mixed=1,
// whose repeats may be of other features and reasons. One client thus
// adds at most about 2*DenialKeys records per interval, a few KB/s. A
// DENY record counts as DenialCount: N with repeats=N, 1 without.
//
// # Where a log may go
//
// A log target (REPORTLOG, DEBUGLOG, lmswitchr, lmnewlog, lmswitch) is a
// new file, or an existing golm log of the same kind and vendor: a report
// log is recognised by its header line naming the vendor (CheckReportLog),
// a debug log of vendor X by a first line of the form "hh:mm:ss (X) ..."
// (IsDebugLogLine). Anything else, an empty file included, is refused and
// left as it was: not renamed, truncated or appended to. No component of
// the path may be a symbolic link (openat2 with RESOLVE_NO_SYMLINKS on
// Linux, a component-by-component O_NOFOLLOW walk where openat2 is
// missing), and only regular files are written. lmnewlog's new name for
// the current file must not exist. A hard link to a golm log of the
// vendor is accepted: what the file holds, not how many names it has,
// says whether it may be written.
//
// # Durability
//
// Writer.Append returns once write(2) of the record's line has completed,
// so a record is in the file, and survives the vendor daemon being killed,
// before the caller answers its client. Syncing to disk is batched (see
// SyncMode): many records share one fsync, so throughput is not bound by
// the disk's sync rate. A write that fails (ENOSPC, EIO, ...) is reported
// through Config.OnError, the partial line is cut off again, and the write
// is retried until Config.WriteTimeout; then Append returns an error
// wrapping ErrNotLogged, the record is not part of the log (its sequence
// number is not used) and the server must deny the request it was for.
// An acknowledged record is never dropped.
//
// A record of something that has happened and cannot be refused (a
// checkin, a queued request withdrawn, START, STOP, REREAD: Writer.Keep)
// is not lost when it cannot be written: it is kept in memory with its
// own time and written, oldest first and before any record after it, as
// soon as the log can be written again (tried every RetryInterval,
// doubling up to a second, and before every new record) or into the new
// file of a rotation. Its seq and hash are those of the place it is
// written at; its time is when it happened, so a kept record may be
// older than the one before it. While Config.MaxPending (100,000)
// records wait, Append refuses at once (ErrBacklog: the server denies
// checkouts with -23) and denials are not kept; checkins still are
// (their number is bounded by the seats out). The backlog's start, its
// bound and its end are reported through Config.OnNotice, as is a
// backlog that Close, after WriteTimeout more, still cannot write.
//
// A rotation while the current file cannot be written (its filesystem
// is full, the new file is on another): the old file ends at its last
// record, without a SWITCH, and the new file's header continues from
// that record; its first record is the SWITCH, whose detail adds
// from=OLD, the file the log came from (to=,from=); the backlog follows.
// The set verifies as one chain like any other.
package reportlog
