package state

import "time"

// LineBlock is one license line's block of lmstat -a: the line (its
// part of a pool) and the seats shown under it.
type LineBlock struct {
	Part   PoolPart
	Issued int
	InUse  int
	Seats  []Seat
	First  bool // reservations and queued requests are shown here
}

// LineBlocks splits a pool's status into one block per license line
// when the pool's lines differ in their dates (OUTPUT-FORMATS: "each line
// gets its own block with its own expiry"). Seats belong to the pool, not
// to a line: they fill the lines valid now in file order, each up to its
// count and overdraft, and what is left stays with the last of them. A
// pool whose lines share their dates is one block, as before.
func LineBlocks(ps PoolStatus, now time.Time) []LineBlock {
	parts := ps.Pool.parts()
	one := []LineBlock{{Issued: ps.Issued, InUse: ps.InUse, Seats: ps.Seats, First: true}}
	if len(parts) < 2 || ps.Pool.Uncounted {
		return one
	}
	same := true
	for _, pp := range parts[1:] {
		if pp.Expiry.Text != parts[0].Expiry.Text || pp.Start.Text != parts[0].Start.Text {
			same = false
		}
	}
	if same {
		return one
	}
	blocks := make([]LineBlock, len(parts))
	valid := -1 // the first line valid now
	last := -1
	for i, pp := range parts {
		blocks[i].Part = pp
		if pp.validAt(now) && !ps.Pool.Removed {
			blocks[i].Issued = pp.Count
			if valid < 0 {
				valid = i
			}
			last = i
		}
	}
	if valid < 0 {
		valid, last = 0, len(parts)-1
	}
	blocks[valid].First = true
	at, room := valid, parts[valid].Count+parts[valid].Overdraft
	inSeats := 0
	for _, st := range ps.Seats {
		for at < last && (room < st.Count || !parts[at].validAt(now)) {
			at++
			room = parts[at].Count + parts[at].Overdraft
		}
		blocks[at].Seats = append(blocks[at].Seats, st)
		blocks[at].InUse += st.Count
		room -= st.Count
		inSeats += st.Count
	}
	// Reserved seats nobody uses count as in use on the line that shows
	// the reservations.
	blocks[valid].InUse += ps.InUse - inSeats
	return blocks
}
