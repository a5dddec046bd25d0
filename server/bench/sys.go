package bench

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// RaiseNoFile raises this process's RLIMIT_NOFILE, soft and hard, to at
// least n (as root the hard limit may grow up to fs.nr_open), and returns
// the soft limit in force afterwards. Children started later inherit it.
func RaiseNoFile(n uint64) (uint64, error) {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return 0, err
	}
	if lim.Cur >= n {
		return lim.Cur, nil
	}
	want := syscall.Rlimit{Cur: n, Max: max(n, lim.Max)}
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &want); err != nil {
		// Not allowed to raise the hard limit: take what it allows.
		want = syscall.Rlimit{Cur: lim.Max, Max: lim.Max}
		if err2 := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &want); err2 != nil {
			return lim.Cur, err
		}
		return lim.Max, fmt.Errorf("RLIMIT_NOFILE hard limit is %d: %w", lim.Max, err)
	}
	return n, nil
}

// RSS returns the resident set size of process pid in bytes (VmRSS in
// /proc/PID/status).
func RSS(pid int) (int64, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	return statusKB(data, "VmRSS:")
}

// Memory is a process's resident memory: RSS, and its anonymous (the
// process's own) and file-backed (mapped binary and libraries, shared
// with other processes running the same binary) parts.
type Memory struct {
	RSS, Anon, File int64
}

// ReadMemory reads process pid's resident memory from /proc/PID/status.
func ReadMemory(pid int) (Memory, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return Memory{}, err
	}
	var m Memory
	if m.RSS, err = statusKB(data, "VmRSS:"); err != nil {
		return m, err
	}
	m.Anon, _ = statusKB(data, "RssAnon:")
	m.File, _ = statusKB(data, "RssFile:")
	return m, nil
}

// String is "15.6 MB (own 4.1 MB, binary 11.5 MB)".
func (m Memory) String() string {
	mb := func(n int64) string { return fmt.Sprintf("%.1f MB", float64(n)/(1<<20)) }
	return fmt.Sprintf("%s (own %s, binary %s)", mb(m.RSS), mb(m.Anon), mb(m.File))
}

// statusKB returns the value of a "Key:   N kB" line of a status file in
// bytes.
func statusKB(data []byte, key string) (int64, error) {
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, key) {
			continue
		}
		f := strings.Fields(line[len(key):])
		if len(f) == 0 {
			break
		}
		n, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil {
			return 0, fmt.Errorf("%s %q: %w", key, line, err)
		}
		if len(f) > 1 && f[1] == "kB" {
			n *= 1024
		}
		return n, nil
	}
	return 0, fmt.Errorf("no %s line", key)
}

// Children returns the pids of the processes whose parent is pid.
func Children(pid int) ([]int, error) {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return nil, err
	}
	var kids []int
	for _, e := range ents {
		p, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p))
		if err != nil {
			continue
		}
		pp, err := statusKB(data, "PPid:")
		if err == nil && int(pp) == pid {
			kids = append(kids, p)
		}
	}
	return kids, nil
}

// Machine describes the host: CPU model, cores, memory, kernel and Go.
type Machine struct {
	CPU     string
	Cores   int
	MemMB   int64
	Kernel  string
	Go      string
	NoFile  uint64
	PortLow int
	PortHi  int
	// Load is /proc/loadavg's first three fields: other work on the
	// machine while the suite ran.
	Load string
}

// Probe reads the machine's description from /proc.
func Probe() Machine {
	m := Machine{Cores: runtime.NumCPU(), Go: runtime.Version()}
	if data, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(data), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				m.CPU = strings.TrimSpace(v)
				break
			}
		}
	}
	if data, err := os.ReadFile("/proc/meminfo"); err == nil {
		if n, err := statusKB(data, "MemTotal:"); err == nil {
			m.MemMB = n >> 20
		}
	}
	if data, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.Kernel = strings.TrimSpace(string(data))
	}
	if data, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range"); err == nil {
		fmt.Sscan(string(data), &m.PortLow, &m.PortHi)
	}
	if data, err := os.ReadFile("/proc/loadavg"); err == nil {
		if f := strings.Fields(string(data)); len(f) >= 3 {
			m.Load = strings.Join(f[:3], " ")
		}
	}
	var lim syscall.Rlimit
	if syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim) == nil {
		m.NoFile = lim.Cur
	}
	return m
}

// ListenOverflows reads the kernel's TcpExt ListenOverflows and
// ListenDrops counters from /proc/net/netstat: connection attempts
// dropped, machine-wide, because a listen queue was full.
func ListenOverflows() (overflows, drops int64, err error) {
	data, err := os.ReadFile("/proc/net/netstat")
	if err != nil {
		return 0, 0, err
	}
	lines := strings.Split(string(data), "\n")
	for i := 0; i+1 < len(lines); i++ {
		names, values := strings.Fields(lines[i]), strings.Fields(lines[i+1])
		if len(names) == 0 || names[0] != "TcpExt:" || len(values) != len(names) || values[0] != "TcpExt:" {
			continue
		}
		for k, n := range names {
			v, _ := strconv.ParseInt(values[k], 10, 64)
			switch n {
			case "ListenOverflows":
				overflows = v
			case "ListenDrops":
				drops = v
			}
		}
		return overflows, drops, nil
	}
	return 0, 0, fmt.Errorf("/proc/net/netstat: no TcpExt counters")
}

// Somaxconn is /proc/sys/net/core/somaxconn, the listen backlog Go's
// listeners ask for (the kernel's bound on it), or 0.
func Somaxconn() int {
	data, err := os.ReadFile("/proc/sys/net/core/somaxconn")
	if err != nil {
		return 0
	}
	n, _ := strconv.Atoi(strings.TrimSpace(string(data)))
	return n
}

// CPUTime is the CPU time process pid's threads have used: the sum of
// their /proc/PID/task/TID/schedstat run times, in nanoseconds (the
// clock ticks of /proc/PID/stat are 10 ms, too coarse for the CPU of a
// few thousand heartbeats). Threads that exited are not counted; Go
// rarely ends one.
func CPUTime(pid int) (time.Duration, error) { return schedTime(pid, 1) }

// BusyTime is CPUTime plus the time the process's threads waited for a
// CPU (the second field of schedstat): on a loaded machine a process
// that works but waits for its turn is busy, not idle.
func BusyTime(pid int) (time.Duration, error) { return schedTime(pid, 2) }

// schedTime sums the first fields of /proc/PID/task/*/schedstat.
func schedTime(pid, fields int) (time.Duration, error) {
	tasks, err := os.ReadDir(fmt.Sprintf("/proc/%d/task", pid))
	if err != nil {
		return 0, err
	}
	var sum int64
	for _, t := range tasks {
		data, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%s/schedstat", pid, t.Name()))
		if err != nil {
			continue // the thread exited meanwhile
		}
		f := strings.Fields(string(data))
		if len(f) < fields {
			continue
		}
		for _, x := range f[:fields] {
			n, err := strconv.ParseInt(x, 10, 64)
			if err != nil {
				return 0, fmt.Errorf("/proc/%d/task/%s/schedstat: %q", pid, t.Name(), data)
			}
			sum += n
		}
	}
	return time.Duration(sum), nil
}

// clockTick is the unit of the CPU times in /proc/PID/stat (USER_HZ,
// which Linux fixes at 100 for what it shows user space).
const clockTick = 10 * time.Millisecond

// UserSystem is the CPU time process pid has spent in user space and in
// the kernel (utime and stime of /proc/PID/stat), in clock ticks of
// 10 ms: coarse, but over seconds of a busy process it gives the share
// of the kernel, which CPUTime does not.
func UserSystem(pid int) (user, system time.Duration, err error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, 0, err
	}
	return parseUserSystem(data)
}

// parseUserSystem reads utime and stime from the contents of a
// /proc/PID/stat file: the 14th and 15th fields, counted past the
// command name, which may hold spaces and parentheses.
func parseUserSystem(data []byte) (user, system time.Duration, err error) {
	i := bytes.LastIndexByte(data, ')')
	if i < 0 {
		return 0, 0, fmt.Errorf("stat: no command name in %q", data)
	}
	f := strings.Fields(string(data[i+1:]))
	if len(f) < 13 {
		return 0, 0, fmt.Errorf("stat: %d fields after the command name", len(f))
	}
	u, err1 := strconv.ParseInt(f[11], 10, 64)
	s, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil || u < 0 || s < 0 {
		return 0, 0, fmt.Errorf("stat: utime %q, stime %q", f[11], f[12])
	}
	return time.Duration(u) * clockTick, time.Duration(s) * clockTick, nil
}
