// Package options reads a vendor daemon's options file (manual chapter
// 6) and evaluates the policy it sets: who may check out which feature
// (INCLUDE, EXCLUDE), dedicated seats (RESERVE), per-user and per-group
// limits (MAX), overdraft limits, linger and idle timeouts, what the
// debug log leaves out, and where the report and debug logs go.
//
// # Reading
//
// Locate finds a vendor daemon's options file: the path on its DAEMON
// line (positional or options=), else vendor.opt beside the license file.
// Parse, like licfile.Parse, reports every bad line in one pass as an
// ErrorList of *ParseError printing file:line:column: message (code),
//
//	vendor.opt:3:22: unknown type "USR" (-90)
//
// and returns the options of the good lines all the same: the vendor
// daemon logs the errors and runs with the rest, except for the
// features a bad restricting line closes (see below). Parse never
// panics.
//
// # Syntax
//
// One option per line; blank lines and lines whose first non-blank
// character is # are skipped; a line ending in \ continues on the next
// (unless that one is blank). A logical line may be MaxLineLength
// (4000) characters long. Words are separated by blanks; double quotes
// make a stretch with blanks one word (REPORTLOG "+/var/log/my app.rl",
// f1:NOTICE="for lab use"). Keywords, member types, NOLOG items and
// ON/OFF are read in any case; feature names, user names, displays,
// projects and group names are case sensitive; host names compare
// ignoring case, and HOST mainline also admits mainline.example.com.
//
//	INCLUDE feature[:keyword=value] type name...
//	EXCLUDE feature[:keyword=value] type name...
//	INCLUDEALL type name...
//	EXCLUDEALL type name...
//	GROUP name user...          (USER_GROUP is an alias; lines concatenate)
//	HOST_GROUP name host...     (lines concatenate)
//	RESERVE num feature[:keyword=value] type name...
//	MAX num feature[:keyword=value] type name...
//	MAX_OVERDRAFT feature[:keyword=value] num
//	LINGER feature[:keyword=value] seconds
//	TIMEOUT feature[:keyword=value] seconds
//	TIMEOUTALL seconds
//	NOLOG IN|OUT|DENIED|QUEUED...
//	REPORTLOG [+]path
//	DEBUGLOG [+]path
//	GROUPCASEINSENSITIVE ON|OFF
//
// Types are USER, HOST, DISPLAY, INTERNET, PROJECT (the client's
// LM_PROJECT), GROUP and HOST_GROUP. An INTERNET name is a dotted IPv4
// pattern whose parts are numbers or * (123.123.123.*), matched against
// the connection's real peer address, which the caller puts in
// Requester.IP. A GROUP or HOST_GROUP member that names another group of
// the same kind stands for its members, to any depth; cycles are
// harmless. GROUPCASEINSENSITIVE ON makes user names match GROUP members
// ignoring case, wherever the line sits in the file.
//
// A selector feature:keyword=value restricts an option to the license
// lines of the feature whose keyword has that value: VERSION (compared
// as a number), HOSTID, EXPDATE, KEY, SIGN, VENDOR_STRING, ISSUER,
// NOTICE, SN, or a lower-case user-editable attribute (dist_info,
// user_info, asset_info, ...). A package name stands for its components
// once the caller runs ExpandPackages.
//
// # Policy
//
// The rules of precedence of manual 6.4, as Allowed applies them: an
// EXCLUDE or EXCLUDEALL naming the requester denies with -38, whatever
// INCLUDE says; when an INCLUDE (for the feature's line) or INCLUDEALL
// exists, anyone on none of them is denied with -39; otherwise everyone
// may use the feature. Reservations (Reservations, Reservation.Matches)
// and MAX limits (MaxRules, Max.AppliesTo, Max.Matches, Max.Counts) are
// counted, and fitted into the pools, by the vendor daemon, which knows
// the seats in use and denies with lmerr.Reserved (-101) and
// lmerr.MaxExceeded (-87). LINGER, TIMEOUT
// and TIMEOUTALL, MAX_OVERDRAFT, NOLOG, REPORTLOG and DEBUGLOG are plain
// values (Linger, Timeout, MaxOverdraft, the NoLog, ReportLog and
// DebugLog fields). A nil *Options is an empty file. Allowed does not
// allocate, and an *Options is safe for concurrent readers.
//
// # Where golm differs from the 7.1 manual
//
//   - lmreread rereads the options file too; the 7.1 vendor daemon reads
//     it only at start-up (6.3). The daemon parses the new file and
//     switches to it whole, or, when it has closures, keeps the options
//     it has.
//   - Lines may be 4000 characters long, not 2048.
//   - A type may be followed by several names (EXCLUDE f1 USER a b c),
//     which is the same as one line per name; the 6.5.2 advice of one
//     name per line still works. RESERVE 1 f1 USER a b reserves one
//     seat for each.
//   - A line that fails to parse is reported and ignored, unless it
//     restricts access: a typo never opens access. A bad INCLUDE,
//     INCLUDEALL, EXCLUDE, EXCLUDEALL, INCLUDE_BORROW, EXCLUDE_BORROW,
//     RESERVE, MAX or MAX_OVERDRAFT line (too long, continuations
//     joined; an unterminated quote; a bad type, number, selector or
//     INTERNET pattern; an undefined group), or a bad GROUP or
//     HOST_GROUP line that one of those uses, closes the features it
//     names: they are served to nobody (-39) until the file is fixed
//     (Options.Closures, Closed). A line that names no feature that can
//     be read (truncated, not text, an ...ALL line) closes every
//     feature. An unknown keyword counts as restricting when it begins
//     with INCLUDE or EXCLUDE, is a truncation or near misspelling of a
//     restricting keyword (EXCL, INCLDUE, RESERV), or is not text; any
//     other (a misspelt NOLOG, a keyword of a later release) is only
//     reported. Unreadable returns the options of a file that cannot be
//     read: every feature closed.
//   - Reservations beyond a pool's count are fitted in file order: the
//     first that does not fit whole is cut down to the seats left, the
//     rest are dropped, each with a warning for the debug log.
//   - TIMEOUT and TIMEOUTALL below the minimum (DefaultMinTimeout, 900
//     seconds, unless the publisher sets Options.MinTimeout) are raised
//     to it. When both a TIMEOUT with a selector and one without apply to
//     a line, the one with the selector wins; otherwise the last line
//     wins. LINGER and MAX_OVERDRAFT follow the same rule.
//   - For MAX with USER, HOST, DISPLAY, PROJECT or INTERNET each listed
//     name has its own limit; with GROUP or HOST_GROUP the group shares
//     one.
package options
