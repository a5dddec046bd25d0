// Package triad replicates a vendor daemon's seat table over Raft, for
// three-server redundancy (three SERVER lines).
//
// Each vendor is one Raft group of three members whose membership is
// fixed by the SERVER lines. The Raft leader is the master: it is the
// only member that grants, and it answers a checkout, checkin, remove,
// reread, linger end or TIMEOUT reclaim only after the command is
// committed by a quorum (two of three). Commands are batched: one Raft
// log entry carries every command that arrived while the previous one
// was being written. Each member applies the committed entries to its
// own state.State (the FSM), so the three seat tables are the same and a
// new master has every seat, with the same handles.
//
// Commands carry their clock: the master stamps Now on each command
// before it proposes it, and members apply the times the log carries, so
// State.Apply, which is deterministic, gives every member the same
// state. Liveness stays with the master: client heartbeats are not
// replicated one by one. The master proposes at most one Heartbeat per
// session per Tick (so that TIMEOUT reclaims the same seats on every
// member) and a TimedOut for each session it finds silent: which
// sessions are silent depends on heartbeats the others never saw.
//
// Pools and options policies do not travel in the log. A Reread or
// SetPolicy names the SHA-256 of the license or options text it was
// built from, and every member builds its own from its own copy of the
// files (Config.PoolsByHash, Config.PolicyByHash). A member that cannot
// build them applies nothing of that batch and stops applying (its State
// would no longer match), hands the master role on if it has it, and
// refuses with -96 until it is restarted with the right files; it keeps
// the seat table it stopped at and every entry since, in its snapshots
// too, so that it catches up where the files are.
//
// Snapshots are the seat table, not the log: the hashes of the license
// and options texts the pools and policy were built from, and the
// state's own dump (state.State.Snapshot: sessions, seats with their
// handles, lingers, the queue in order, the pools an lmreread removed,
// the clocks and the next handle). A member restores it into a new State
// built from its own copy of those texts, and then answers every later
// command as the member that took it. A snapshot's size is the seat
// table's, whatever the length of the log.
//
// Report logs: every member writes its report log from the committed
// commands, so record N of the triad's chain is the same on every
// member. A snapshot (version 3) carries the report log's position at
// its index, read under the FSM's lock after every command's records
// were written (FSMConfig.ReportMark): the next sequence number and the
// last record's hash. Restore hands it to FSMConfig.OnRestore, and a
// fresh state machine starts at record 1, so that the report log knows
// which record each commit produces: one its file holds already is
// skipped (a restart, or a deleted data directory, replays the log), and
// records a restored snapshot compacted are fetched from another member
// on the Raft port (fetch.go: the port's stream layer sorts Raft's
// connections from fetches by their first byte; a fetch is answered only
// to the members' hosts) and appended verbatim, each checked against the
// chain, an lmswitchr among them made again. What no member can give is left as a gap the report log's
// Verify names, and said so in the debug log. A version-2 snapshot (no
// position) still restores: the report log then goes on at its own
// position, and the DataDir/reported position keeps a replay from
// writing records twice.
//
// A Propose that fails may still be committed later (Raft cannot tell a
// command lost from one committed after the answer): a seat granted that
// way belongs to a session whose client was told no, and goes back when
// that session disconnects or falls silent.
//
// Lost quorum: a member that is not the master, or a master that cannot
// reach a quorum, grants nothing; Propose fails with a FlexLM -96
// ("License server machine is down or not responding"), minor MinorNoQuorum
// or MinorNotMaster, as a FlexLM triad that lost quorum serves no
// licenses (manual, "Lost quorum").
package triad
