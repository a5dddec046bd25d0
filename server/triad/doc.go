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
// build them stops applying (its State would no longer match), hands the
// master role on if it has it, and refuses with -96 until it is restarted
// with the right files; its snapshot still holds the whole log.
//
// Snapshots: state.State exports no dump of its sessions, queue and
// clocks, so a snapshot is the list of batches applied since the group
// started, replayed into a new State on restore. It is correct but grows
// with every command; a state dump from the server package replaces it.
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
