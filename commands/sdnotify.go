package commands

import (
	"context"
	"fmt"
	"net"
	"strings"
	"time"

	"golm/lmutil/licfile"
	"golm/lmutil/protocol"
	"golm/lmutil/protocol/client"
	"golm/lmutil/server"
	"golm/lmutil/server/httpstatus"
	"golm/lmutil/server/status"
)

// notifySocketEnv names the socket systemd listens on for a Type=notify
// service's state (sd_notify(3)).
const notifySocketEnv = "NOTIFY_SOCKET"

// readyPoll is how often lmgrd looks whether its vendor daemons serve
// yet, before it tells systemd it is ready.
const readyPoll = 200 * time.Millisecond

// readyWait bounds that wait: a vendor daemon that does not come up is
// reported in STATUS, and lmgrd, which keeps restarting it, is ready.
const readyWait = time.Minute

// sdNotify sends one state message to systemd's notify socket: a path,
// or an abstract socket name after '@'. It does nothing without one.
func sdNotify(socket, state string) error {
	if socket == "" {
		return nil
	}
	if strings.HasPrefix(socket, "@") {
		socket = "\x00" + socket[1:]
	}
	c, err := net.DialUnix("unixgram", nil, &net.UnixAddr{Name: socket, Net: "unixgram"})
	if err != nil {
		return err
	}
	defer c.Close()
	_, err = c.Write([]byte(state))
	return err
}

// selfDialer connects to this lmgrd as lmstat would, over loopback.
func selfDialer(lm *server.Lmgrd, machine *licfile.Machine) func(ctx context.Context) (*status.AdminSource, error) {
	// lmgrd's own address: loopback, or the one -bind names.
	host := "127.0.0.1"
	if a, ok := lm.Addr().(*net.TCPAddr); ok && a.IP != nil && !a.IP.IsUnspecified() {
		host = a.IP.String()
	}
	return adminDialer([]licfile.ServerAddr{{Host: host, Port: lm.Port()}}, machine)
}

// adminDialer connects to the lmgrd of spec as lmstat does, bounded as
// a status read of lmgrd -http is.
func adminDialer(spec []licfile.ServerAddr, machine *licfile.Machine) func(ctx context.Context) (*status.AdminSource, error) {
	opts := []client.Option{client.WithProgram("lmgrd"), client.WithSoftware(protocol.Software),
		client.WithDialTimeout(httpstatus.DefaultStatusTimeout), client.WithCallTimeout(httpstatus.DefaultStatusTimeout)}
	if machine != nil {
		opts = append(opts, client.WithMachine(machine))
	}
	return func(ctx context.Context) (*status.AdminSource, error) { return status.DialAdmin(ctx, spec, opts...) }
}

// notifyReady tells systemd READY=1 once every vendor daemon of lmgrd
// serves (or readyWait has passed, saying which do not), reading the
// status as lmstat does.
func notifyReady(ctx context.Context, socket string, dial func(context.Context) (*status.AdminSource, error), log *server.DebugLog) {
	give := time.Now().Add(readyWait)
	tick := time.NewTicker(readyPoll)
	defer tick.Stop()
	for {
		up, down := vendorsUp(ctx, dial)
		if len(down) == 0 && len(up) > 0 || time.Now().After(give) {
			msg := fmt.Sprintf("READY=1\nSTATUS=Serving vendor daemons: %s", strings.Join(up, " "))
			if len(down) > 0 {
				msg += "; down: " + strings.Join(down, " ")
			}
			if err := sdNotify(socket, msg); err != nil {
				log.Printf("Cannot notify systemd: %v", err)
			}
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// vendorsUp names the vendor daemons that serve and those that do not.
func vendorsUp(ctx context.Context, dial func(context.Context) (*status.AdminSource, error)) (up, down []string) {
	src, err := dial(ctx)
	if err != nil {
		return nil, nil
	}
	defer src.Close()
	st, seq, err := src.ServerStatus(ctx)
	if err != nil || st == nil {
		return nil, nil
	}
	for vs, err := range seq {
		if err != nil {
			return nil, nil
		}
		if vs.Up {
			up = append(up, vs.Name)
		} else {
			down = append(down, vs.Name)
		}
	}
	return up, down
}
