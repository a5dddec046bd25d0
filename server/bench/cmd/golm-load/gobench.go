package main

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"

	"golm/lmutil/licfile"
	"golm/lmutil/server/bench"
)

// goBench is one Go benchmark's results over -count runs.
type goBench struct {
	Pkg     string
	Name    string
	Metrics map[string]bench.Runs // unit → values
	order   []string
}

func (b *goBench) metric(unit string) bench.Runs { return b.Metrics[unit] }

// runGoBench runs the Go benchmarks of pkgs, three times each.
func (s *suite) runGoBench(pkgs []string, benchtime string) error {
	args := append([]string{"test", "-run", "^$", "-bench", ".", "-benchmem", "-count", "3", "-benchtime", benchtime}, pkgs...)
	fmt.Println("go", strings.Join(args, " "))
	cmd := exec.CommandContext(s.ctx, "go", args...)
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = os.Stderr
	err := cmd.Run()
	os.Stdout.Write(out.Bytes())
	if err != nil {
		return fmt.Errorf("go test -bench: %w", err)
	}
	s.goBench = parseGoBench(out.Bytes())
	return nil
}

// parseGoBench reads go test -bench output: "pkg: P" lines and
// "BenchmarkName-N  iterations  value unit  value unit ..." lines.
func parseGoBench(out []byte) []goBench {
	var res []goBench
	index := map[string]int{}
	pkg := ""
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		line := sc.Text()
		if p, ok := strings.CutPrefix(line, "pkg: "); ok {
			pkg = strings.TrimSpace(p)
			continue
		}
		f := strings.Fields(line)
		if len(f) < 4 || !strings.HasPrefix(f[0], "Benchmark") {
			continue
		}
		name := f[0]
		if i := strings.LastIndexByte(name, '-'); i > 0 {
			if _, err := strconv.Atoi(name[i+1:]); err == nil {
				name = name[:i]
			}
		}
		key := pkg + " " + name
		i, ok := index[key]
		if !ok {
			i = len(res)
			index[key] = i
			res = append(res, goBench{Pkg: pkg, Name: name, Metrics: map[string]bench.Runs{}})
		}
		b := &res[i]
		for k := 2; k+1 < len(f); k += 2 {
			v, err := strconv.ParseFloat(f[k], 64)
			if err != nil {
				continue
			}
			unit := f[k+1]
			if _, seen := b.Metrics[unit]; !seen {
				b.order = append(b.order, unit)
			}
			b.Metrics[unit] = append(b.Metrics[unit], v)
		}
	}
	return res
}

// probeMachine is this machine as the client package sees it, probed
// once so that opening a job in a loop measures the server, not /sys.
func probeMachine() *licfile.Machine {
	m, _ := licfile.LocalMachine()
	return m
}
