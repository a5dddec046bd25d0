// Package state is the seat table of one vendor daemon: its pools of
// licenses (built from the license file's FEATURE, INCREMENT, UPGRADE and
// PACKAGE lines), the seats checked out of them, the sessions that hold
// them, lingering seats, reservations and the checkout queue, and the
// options policy that decides who may take what.
//
// The state changes only through Commands (Checkout, Checkin, Heartbeat,
// SetIdle, Disconnect, Tick, Remove, RemoveHandle, Reread, SetPolicy,
// Revoke), applied one at a time and in order by State.Apply, which
// returns what each did (a Result: the seat granted, the seats freed or
// lingering, the queued requests granted, the denial). Status, Lookup
// and FeatureStatusAt read it.
//
// The package is pure: it does no network or file I/O, logs nothing and
// never reads the system clock. Every command carries the time it
// happens at, and the state keeps two clocks from those times: the wall
// clock for dates (a line starts or expires) and an elapsed-time clock
// for lingers and TIMEOUT, which advances by the time between commands
// and stands still when the system clock is stepped back. Apply is
// therefore deterministic: the same commands, from the same pools and
// policy, give the same results and the same state. That is what lets a
// vendor daemon's network handlers be tested apart from its counting,
// and what three-server redundancy replicates: the command log, applied
// in order on every member.
//
// Pools (manual 3.2.4-3.2.6, 3.4, 3.6): the first counted FEATURE line
// of a name counts, INCREMENT lines add to the pool with the same name,
// version and node-lock hostid, an UPGRADE line moves seats to a new
// version, a PACKAGE line becomes a pool per component (BuildPools,
// PoolRules). A checkout tries node-locked uncounted lines first, then
// node-locked counted ones, then floating ones. Policies: DUP_GROUP,
// OVERDRAFT and MAX_OVERDRAFT, USER_BASED and HOST_BASED, the queue
// (granted strictly in arrival order), linger, TIMEOUT, and the options
// file's INCLUDE, EXCLUDE, RESERVE and MAX through the Policy interface.
//
// State.Snapshot writes a dump of the seat table, the same bytes for the
// same state, and State.Restore reads it into a new state built from
// the same license files and options: the restored state then answers
// every later command as the original does. Three-server redundancy
// snapshots its Raft log with it.
//
// State.CheckInvariants makes the state verify after every command that
// no pool goes over its count plus overdraft, that no reserved seat goes
// to anybody else, and that its indexes agree with its seats.
package state
