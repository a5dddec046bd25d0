package e2e_test

import (
	"fmt"
	"strings"
	"testing"
)

// TestLicenseFromServer: lmstat -i and lmcksum given port@host read the
// license file from the server, as lmutil does, and print what they
// print for the file itself.
func TestLicenseFromServer(t *testing.T) {
	t.Parallel()
	s := startServer(t, twoSeats)
	at := fmt.Sprintf("%d@localhost", s.port)

	local := s.run(nil, "lmstat", "-i", "-c", s.lic)
	remote := s.run(nil, "lmstat", "-i", "-c", at)
	if local.status != 0 || remote.status != 0 || remote.stderr != "" {
		t.Fatalf("lmstat -i: file exit %d, port@host exit %d, stderr %q", local.status, remote.status, remote.stderr)
	}
	if tableOf(remote.stdout) != tableOf(local.stdout) || !strings.Contains(remote.stdout, "\nf2 ") {
		t.Errorf("lmstat -i -c %s:\n%s\nwant the table of the file:\n%s", at, remote.stdout, local.stdout)
	}
	// A feature name selects its lines there too.
	if r := s.run(nil, "lmstat", "-i", "f2", "-c", at); strings.Contains(r.stdout, "\nf1 ") || !strings.Contains(r.stdout, "\nf2 ") {
		t.Errorf("lmstat -i f2 -c %s:\n%s", at, r.stdout)
	}

	local = s.run(nil, "lmcksum", "-c", s.lic)
	remote = s.run(nil, "lmcksum", "-c", at)
	if local.status != 0 || remote.status != 0 {
		t.Fatalf("lmcksum: file exit %d (%q), port@host exit %d (%q)", local.status, local.stderr, remote.status, remote.stderr)
	}
	if sums(remote.stdout) != sums(local.stdout) || sums(local.stdout) == "" {
		t.Errorf("lmcksum -c %s:\n%s\nwant the checksums of the file:\n%s", at, remote.stdout, local.stdout)
	}
	if !strings.Contains(remote.stdout, s.lic) {
		t.Errorf("lmcksum -c %s does not name the server's file %s:\n%s", at, s.lic, remote.stdout)
	}

	// Nothing listening: -15, as for lmstat -a.
	s.run(nil, "lmdown", "-q", "-c", s.lic)
	<-s.done
	if r := s.run(nil, "lmstat", "-i", "-c", at); r.status != 241 || !strings.Contains(r.stderr, "(-15,") {
		t.Errorf("lmstat -i with no server: exit %d, stderr %q", r.status, r.stderr)
	}
	if r := s.run(nil, "lmcksum", "-c", at); r.status != 241 {
		t.Errorf("lmcksum with no server: exit %d, stderr %q", r.status, r.stderr)
	}
}

// tableOf is lmstat -i's output from its note on (the date line varies).
func tableOf(out string) string {
	if i := strings.Index(out, "NOTE:"); i >= 0 {
		return out[i:]
	}
	return ""
}

// sums is lmcksum's output without its banner and "using" lines.
func sums(out string) string {
	var b strings.Builder
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, "lmcksum") || strings.Contains(l, "Copyright") {
			continue
		}
		b.WriteString(l + "\n")
	}
	return strings.TrimSpace(b.String())
}
