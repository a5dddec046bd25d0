package bench

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"syscall"
	"time"
)

// Server is an lmgrd process (and the vendor daemon it started) in its own
// process group.
type Server struct {
	cmd         *exec.Cmd
	Name        string // a triad member's "port@host" (StartMember); "" for one server
	LicensePath string
	LogPath     string
	Port        int // lmgrd's port
	VendorPort  int
	VendorPID   int
	done        chan struct{}
}

var startedRE = regexp.MustCompile(`Started ` + Vendor + ` \(internet tcp_port (\d+) pid (\d+)\)`)
var lmgrdPortRE = regexp.MustCompile(`lmgrd tcp-port (\d+)`)

// StartLmgrd runs lmutil lmgrd -z on license in its own process group,
// with its debug log in dir/debug.log, and waits (polling the log, up to
// timeout) until the vendor daemon has started. env is added to the
// environment.
func StartLmgrd(lmutil, license, dir string, env []string, timeout time.Duration) (*Server, error) {
	return startLmgrd(lmutil, license, dir, nil, env, timeout)
}

// startLmgrd is StartLmgrd with more lmgrd arguments.
func startLmgrd(lmutil, license, dir string, args, env []string, timeout time.Duration) (*Server, error) {
	s := &Server{LicensePath: license, LogPath: filepath.Join(dir, "debug.log"), done: make(chan struct{})}
	_ = os.Remove(s.LogPath)
	s.cmd = exec.Command(lmutil, append([]string{"lmgrd", "-z", "-c", license, "-l", s.LogPath}, args...)...)
	s.cmd.Dir = dir
	s.cmd.Env = append(append(os.Environ(), "GOLM_LMGRD_BIND_RETRY=1s", "GOLM_LOCKDIR="+filepath.Join(dir, "lock")), env...)
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := s.cmd.Start(); err != nil {
		return nil, err
	}
	go func() { _ = s.cmd.Wait(); close(s.done) }()
	deadline := time.Now().Add(timeout)
	for {
		data, _ := os.ReadFile(s.LogPath)
		if m := startedRE.FindSubmatch(data); m != nil {
			s.VendorPort, _ = strconv.Atoi(string(m[1]))
			s.VendorPID, _ = strconv.Atoi(string(m[2]))
			if m := lmgrdPortRE.FindSubmatch(data); m != nil {
				s.Port, _ = strconv.Atoi(string(m[1]))
			}
			return s, nil
		}
		select {
		case <-s.done:
			return nil, fmt.Errorf("lmgrd exited before its vendor daemon started:\n%s", data)
		default:
		}
		if time.Now().After(deadline) {
			s.Stop()
			return nil, fmt.Errorf("vendor daemon not started within %v:\n%s", timeout, data)
		}
		time.Sleep(20 * time.Millisecond) // polling a log file, not waiting blindly
	}
}

// PID is lmgrd's process id.
func (s *Server) PID() int { return s.cmd.Process.Pid }

// Stop sends SIGTERM to lmgrd's process group, waits up to ten seconds for
// lmgrd to exit and then kills the group.
func (s *Server) Stop() {
	pg := s.cmd.Process.Pid
	_ = syscall.Kill(-pg, syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(10 * time.Second):
	}
	// Give the vendor daemon the same time to finish (its profile, its
	// logs), then kill whatever is left of the group.
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if syscall.Kill(s.VendorPID, 0) != nil {
			break
		}
	}
	_ = syscall.Kill(-pg, syscall.SIGKILL)
	<-s.done
}

// WallTime runs name with args once in dir and returns its wall time, the
// bytes it wrote to stdout, and its error. ctx bounds it.
func WallTime(ctx context.Context, dir, name string, args ...string) (time.Duration, int64, error) {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	var out countWriter
	cmd.Stdout = &out
	start := time.Now()
	err := cmd.Run()
	return time.Since(start), out.n, err
}

type countWriter struct{ n int64 }

func (w *countWriter) Write(p []byte) (int, error) { w.n += int64(len(p)); return len(p), nil }

// LogWatch counts the lines of a server's debug log that contain a
// string, reading only what was appended since it last looked.
type LogWatch struct {
	path   string
	substr []byte
	offset int64
	part   []byte // a last line not yet ended
	n      int
}

// Watch returns a LogWatch of the lines of s's debug log that contain
// substr, from the log's present end on.
func (s *Server) Watch(substr string) *LogWatch {
	w := &LogWatch{path: s.LogPath, substr: []byte(substr)}
	if fi, err := os.Stat(s.LogPath); err == nil {
		w.offset = fi.Size()
	}
	return w
}

// Count reads what the log gained and returns the lines seen so far.
func (w *LogWatch) Count() int {
	f, err := os.Open(w.path)
	if err != nil {
		return w.n
	}
	defer f.Close()
	buf := make([]byte, 256<<10)
	for {
		k, err := f.ReadAt(buf, w.offset)
		w.offset += int64(k)
		data := append(w.part, buf[:k]...)
		for {
			i := bytes.IndexByte(data, '\n')
			if i < 0 {
				break
			}
			if bytes.Contains(data[:i], w.substr) {
				w.n++
			}
			data = data[i+1:]
		}
		w.part = append(w.part[:0], data...)
		if err != nil || k == 0 {
			return w.n
		}
	}
}

// Wait polls until Count reaches n, or timeout passes (an error).
func (w *LogWatch) Wait(n int, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for w.Count() < n {
		if time.Now().After(deadline) {
			return fmt.Errorf("%d lines with %q in %s after %v, want %d", w.n, w.substr, w.path, timeout, n)
		}
		time.Sleep(10 * time.Millisecond) // polling a log file
	}
	return nil
}
