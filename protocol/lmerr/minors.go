package lmerr

// Minor is golm's minor error number: it says where an error was raised,
// as the second number of (-15,570) does. Every place in golm that raises
// an error takes its minor from the table below, and no number means two
// things (TestMinorsUnique), so that a minor read off a user's screen
// leads to one condition, raised in one place or, where the same check
// is made on two paths, in the places the comment names. The table is
// grouped by where the errors are raised; each comment names the code and
// the condition. Non-test sources never write a minor as a number
// (TestNoLiteralMinors).
type Minor int

// lmgrd starting up (server/lmgrd.go, commands/lmgrd.go): 1-19.
const (
	MinorLmgrdNoLicenseFile    Minor = 1 // -1: no license file in the path (a directory without *.lic, servers only)
	MinorLmgrdOpenLicenseFile  Minor = 2 // -1: a license file of the path cannot be opened
	MinorLmgrdSyntax           Minor = 3 // -2: a license file of the path has bad lines
	MinorLmgrdNoServerLines    Minor = 4 // -13: the license files have no SERVER line
	MinorLmgrdWrongHostid      Minor = 5 // -9: a SERVER line names this host with another hostid
	MinorLmgrdNotServerHost    Minor = 6 // -9: no SERVER line names this host
	MinorLmgrdListen           Minor = 7 // -57: lmgrd cannot listen on its address
	MinorLmgrdPortInUse        Minor = 8 // -57: every port lmgrd may take is in use
	MinorLmgrdStoppedPortInUse Minor = 9 // -57: lmgrd was stopped while waiting for its port
)

// The wire protocol (package protocol): 20-29.
const (
	MinorHandshakeVersion Minor = 20 // -83: the client speaks a newer protocol version than the server
)

// lmgrd answering requests (server/lmgrd.go, server/child.go): 120-129;
// lmreread refused before any vendor daemon rereads (server/reread_guard.go): 130-139.
const (
	MinorLmgrdUnknownVendor  Minor = 120 // -97: LOCATE names a vendor daemon lmgrd does not run
	MinorVendorDown          Minor = 121 // -97: the vendor daemon is down (also when a status reply gives no reason)
	MinorLmgrdDownNoVendor   Minor = 122 // -97: lmdown -vendor names a vendor daemon lmgrd does not run
	MinorLmgrdRereadNoVendor Minor = 123 // -97: lmreread -vendor names a vendor daemon lmgrd does not run
	MinorLmgrdNoFeature      Minor = 124 // -5: LOCATE of a feature no vendor daemon serves
	MinorLmgrdVendorControl  Minor = 125 // -85: a vendor daemon's control HELLO reached lmgrd
	MinorRereadSyntax        Minor = 130 // -2: lmreread refused: a license file has bad lines
	MinorRereadUnreadable    Minor = 131 // -30: lmreread refused: a license file cannot be read
	MinorRereadOptionsSyntax Minor = 132 // -2: lmreread refused: an options file has a bad restricting line
	MinorRereadOptionsNoFile Minor = 133 // -30: lmreread refused: an options file cannot be read
)

// A vendor daemon granting and denying (server/state, server/options.go,
// server/report.go, server/vendor.go, server/connlimit.go): 340-399.
const (
	MinorMaxUsers         Minor = 342 // -4: every seat of the feature is in use
	MinorNoFeature        Minor = 346 // -5: the vendor daemon serves no such feature
	MinorServerLowVersion Minor = 347 // -25: the pools' versions are older than the request
	MinorExpired          Minor = 348 // -10: the pool's line has expired
	MinorNotStarted       Minor = 349 // -31: the pool's line starts in the future
	MinorNotThisHost      Minor = 350 // -9: the pool's line is locked to another host
	MinorTooMany          Minor = 351 // -26: more seats asked for than the pool has
	MinorNoHandle         Minor = 352 // -41: checkin of a handle the session holds no seat or queued request under
	MinorBadVersion       Minor = 354 // -77: the requested version is not a number
	MinorQueued           Minor = 355 // -24: denied: others are queued for the feature and the request does not queue
	MinorInQueue          Minor = 356 // -24: the session has this feature queued already
	MinorReserved         Minor = 357 // -101: the free seats are reserved for others
	MinorMaxOption        Minor = 358 // -87: the options file's MAX is reached
	MinorNoUsers          Minor = 359 // -84: a USER_BASED pool has no INCLUDEd user
	MinorPackageOnly      Minor = 360 // -125: checkout of a PACKAGE alone
	MinorQueueFull        Minor = 361 // a denial's code: the session has too many queued requests
	MinorNotIncluded      Minor = 362 // -39: the user is not on the pool's INCLUDE list
	MinorExcluded         Minor = 363 // -38: the options file EXCLUDEs the user
	MinorOptions          Minor = 364 // the options file denies for another reason (its code)
	MinorOptionsClosed    Minor = 365 // the options file has a bad restricting line
	MinorStatusNoFeature  Minor = 366 // -5: a status request names a feature the daemon does not serve
	MinorNotSupported     Minor = 367 // -85: a request the vendor daemon's state does not handle
	MinorHandleRange      Minor = 368 // -41: a handle that does not fit in 32 bits
	MinorQueuedWait       Minor = 369 // -24: the request joins the feature's queue
	MinorNotLogged        Minor = 370 // -23: the report log cannot be written
	MinorReportLogPath    Minor = 371 // -42: the report log path cannot be used
	MinorNoReportLog      Minor = 372 // -42: the vendor daemon keeps no report log
	MinorPlatform         Minor = 373 // -89: the pool's PLATFORMS= does not list the client's platform
	MinorQueuedAhead      Minor = 374 // -24: queued requests come first; no new seat for this one
	MinorRemoveNoHandle   Minor = 375 // -41: lmremove -h of a handle no seat of the feature has
	MinorRemoveNoMatch    Minor = 376 // -41: lmremove matches no seat
	MinorNotQueued        Minor = 377 // -41: a queue poll of a handle neither queued nor granted
	MinorLicenseText      Minor = 380 // -1: the license file text cannot be read for the client
	MinorVendorAdmin      Minor = 390 // -85: lmdown or lmreread sent to the vendor daemon, not lmgrd
	MinorCheckoutParam    Minor = 391 // -42: a checkout with no feature or a count out of bounds
	MinorNoConnections    Minor = 392 // -106: the daemon's connection limit is reached
)

// The client package's checkouts (protocol/client): 461-519, 570-589.
const (
	MinorClientNoKey            Minor = 461 // -8: no public key to verify a local line
	MinorClientSignature        Minor = 462 // -8: a local line's signature does not verify
	MinorGrantNoKey             Minor = 463 // -8: a grant from a vendor the application has no key of
	MinorGrantUnsigned          Minor = 464 // -8: a grant without signed license lines
	MinorGrantSign              Minor = 465 // -8: a granted line's signature does not verify
	MinorGrantLine              Minor = 466 // -8: no granted line licenses the feature
	MinorGrantExpired           Minor = 467 // -10: the granted line expired
	MinorGrantStart             Minor = 468 // -31: the granted line has not started
	MinorClientKeyConfig        Minor = 469 // -8: the public key given to the job is unusable
	MinorClientNoSign           Minor = 470 // -114: a local line carries no SIGN=
	MinorGrantForm              Minor = 471 // -8: a grant's license lines in a signed form this package does not know
	MinorClientKeyFile          Minor = 472 // -8: the vendor's public key beside the license file is unusable
	MinorGrantVersion           Minor = 473 // -8: no granted line licenses the requested version
	MinorGrantVendor            Minor = 474 // -8: a granted line is signed for another vendor
	MinorClientNoLicensePath    Minor = 500 // -1: the license path names no source
	MinorClientReadFile         Minor = 501 // -1: a license file of the path cannot be opened
	MinorClientEmptyFile        Minor = 502 // -2: a license file of the path holds nothing usable
	MinorClientParse            Minor = 503 // a license file of the path does not parse (its parser's code)
	MinorClientNoSource         Minor = 504 // -1: no source of the path could be used for the feature
	MinorClientNoFeature        Minor = 505 // -5: no line of the path names the feature
	MinorClientNoServer         Minor = 506 // -13: a counted line but no SERVER line
	MinorClientOldVersion       Minor = 507 // -21: the local lines are older than the request
	MinorClientExpired          Minor = 508 // -10: the local line expired
	MinorClientNotStarted       Minor = 509 // -31: the local line has not started
	MinorClientHost             Minor = 510 // -9: the local line is locked to another host
	MinorClientPlatform         Minor = 511 // -89: the local line's PLATFORMS= does not list this platform
	MinorClientBadParam         Minor = 512 // -42: a count below 1 or an empty feature
	MinorClientBadVersion       Minor = 513 // -77: the requested version is not a number
	MinorClientClosed           Minor = 514 // -42: the job is closed
	MinorClientCheckin          Minor = 515 // -41: the license was checked in already
	MinorClientQueued           Minor = 516 // -35: the request waits in the server's queue
	MinorClientVendorDown       Minor = 517 // -97: lmgrd names the vendor daemon, which does not answer
	MinorClientConnect          Minor = 570 // -15: connect to lmgrd or the vendor daemon failed
	MinorClientRead             Minor = 571 // -16: read from the server failed or timed out
	MinorClientWrite            Minor = 572 // -17: write to the server failed
	MinorClientProtocol         Minor = 573 // -12: a frame from the server breaks the protocol
	MinorClientHostLookup       Minor = 574 // -14: the server's host name does not resolve
	MinorClientNoReply          Minor = 575 // -16: the server sent no reply within the timeout
	MinorClientHandshakeVersion Minor = 576 // -12: the server speaks another protocol version
	MinorClientHandshake        Minor = 577 // -12: the server's first frame is no HELLO
	MinorClientLocateReply      Minor = 578 // -12: lmgrd answered LOCATE with something else
	MinorClientStatusReply      Minor = 579 // -12: SERVER_STATUS_REQUEST answered with something else
	MinorClientAdminReply       Minor = 580 // -12: an admin request answered with something else
	MinorClientStreamReply      Minor = 581 // -12: a frame out of place in a status stream
	MinorClientStatsReply       Minor = 582 // -12: VENDOR_STATS_REQUEST answered with something else
	MinorClientCheckoutReply    Minor = 583 // -12: CHECKOUT answered with something else
	MinorClientRecheckoutReply  Minor = 584 // -12: a re-checkout after a reconnect answered with something else
	MinorClientRequeueReply     Minor = 585 // -12: a request queued again answered with something else
	MinorClientQueuePollReply   Minor = 586 // -12: QUEUE_POLL answered with something else
	MinorClientLogReply         Minor = 587 // -12: a log switch request answered with something else
)

// Admin requests a license server refuses (server/trust.go): 601-609.
const (
	MinorAdminNotLocal      Minor = 601 // -63: an admin command from another host
	MinorAdminLmdownOff     Minor = 602 // -63: lmdown is disabled (lmgrd -x lmdown)
	MinorAdminLmremoveOff   Minor = 603 // -63: lmremove is disabled (lmgrd -x lmremove)
	MinorAdminNotLmadmin    Minor = 604 // -63: not in the lmadmin group (lmgrd -2 -p)
	MinorAdminNoCredentials Minor = 605 // -63: the asking user cannot be told
	MinorAdminNotAdmin      Minor = 606 // -63: the user is no license administrator
)

// The lmutil commands (commands): 701-849, 7301-7999.
const (
	MinorHostidNoEther       Minor = 701  // -29: lmhostid finds no Ethernet address
	MinorHostidNoInternet    Minor = 702  // -62: lmhostid finds no IP address
	MinorHostidNoLong        Minor = 703  // -62: lmhostid cannot compute the 32-bit hostid
	MinorHostidNoHostname    Minor = 704  // -42: lmhostid cannot tell the host name
	MinorHostidNoUser        Minor = 705  // -42: lmhostid cannot tell the user name
	MinorHostidUnsupported   Minor = 706  // -42: a hostid type golm does not support
	MinorHostidNoDisplayable Minor = 707  // -42: lmhostid cannot tell the display
	MinorLmverOpen           Minor = 711  // -30: lmver cannot open the file
	MinorLmverRead           Minor = 712  // -30: lmver cannot read the file
	MinorStatNoFile          Minor = 801  // -1: lmstat cannot read a license file of the path
	MinorStatSyntax          Minor = 802  // lmstat: a license file has bad lines (the first line's code)
	MinorStatNoServer        Minor = 803  // -13: lmstat: a license file has no SERVER line to ask
	MinorAdminNoServer       Minor = 811  // -13: no source of the license path names a server
	MinorAdminNoFile         Minor = 812  // -1: a license file of the path cannot be read
	MinorDiagNoFeature       Minor = 821  // -5: lmdiag: no license line matches the selection
	MinorDiagNoFile          Minor = 822  // -1: lmdiag: no license file of the path can be read
	MinorDiagWrongNode       Minor = 823  // -9: lmdiag: a node-locked line names another host
	MinorSwitchNoFeature     Minor = 831  // -5: lmswitchr: no license line names the feature
	MinorCksumOpen           Minor = 7301 // -1: lmcksum cannot open the file
	MinorCksumParse          Minor = 7302 // -30: lmcksum cannot parse the file
	MinorCksumSource         Minor = 7304 // -30: lmcksum cannot read a file of the path
	MinorInstallRead         Minor = 7801 // -30: lminstall cannot read the input file
	MinorCryptOpen           Minor = 7901 // -1: lmcrypt cannot open the file
	MinorCryptParse          Minor = 7902 // -30: lmcrypt cannot parse the file
)

// Signatures of license lines (licfile): 851-869.
const (
	MinorSigMissing    Minor = 851 // -8: the line carries no SIGN=
	MinorSigEncoding   Minor = 852 // -8: SIGN= is not a base32 signature
	MinorSigMismatch   Minor = 853 // -8: the signature does not match the line
	MinorSigNoKey      Minor = 854 // -8: verifying a line or a grant without a public key
	MinorSigKind       Minor = 855 // -8: the line kind is not signed
	MinorManifest      Minor = 856 // -8: a signed manifest does not verify
	MinorSigVendorName Minor = 857 // -8: a vendor name that cannot name a VENDOR.pub file
	MinorSigNoPubFile  Minor = 858 // -8: no VENDOR.pub beside the license file or the vendor daemon
)

// Three-server redundancy (server/triad): 640-649.
const (
	MinorTriadNoQuorum  Minor = 640 // -96: no master, or the command was not committed by a quorum (it may be later)
	MinorTriadNotMaster Minor = 641 // -96: this member is not the master (the detail names the one that is)
	MinorTriadShutdown  Minor = 642 // -97: the member is shutting down
	MinorTriadBroken    Minor = 643 // -96: this member's state stopped following the log
)
