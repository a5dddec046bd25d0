package server

import "time"

// A connection that asks to queue past its bounds (a second request for
// a feature it already waits for, or more than MaxQueuedPerSession) is
// refused; one that keeps doing so in a loop is also slowed down, so
// that it cannot take the vendor daemon's time from other clients. The
// first refusalFree refusals of a window cost nothing; each one past
// them waits refusalStep longer, up to refusalMaxPause, on that
// connection only. No well-behaved client is ever refused so often.
const (
	refusalWindow   = time.Second
	refusalFree     = 16
	refusalStep     = 2 * time.Microsecond
	refusalMaxPause = 200 * time.Microsecond
)

// refusalPacer counts a connection's refused queue requests in the
// current window. It is used by the connection's own goroutine only.
type refusalPacer struct {
	since time.Time
	n     int
	sleep func(time.Duration) // time.Sleep; replaced in tests
}

// refused counts one refusal at now and waits as long as the count says.
func (p *refusalPacer) refused(now time.Time) {
	if now.Sub(p.since) > refusalWindow {
		p.since, p.n = now, 0
	}
	p.n++
	if d := p.pause(); d > 0 {
		if p.sleep != nil {
			p.sleep(d)
			return
		}
		time.Sleep(d)
	}
}

// pause is the wait after the refusals counted so far.
func (p *refusalPacer) pause() time.Duration {
	if p.n <= refusalFree {
		return 0
	}
	return min(time.Duration(p.n-refusalFree)*refusalStep, refusalMaxPause)
}
