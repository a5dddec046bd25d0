package server

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLockVendor(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "lock")
	first, err := LockVendor(dir, "demo")
	if err != nil {
		t.Fatalf("first lock: %v", err)
	}
	t.Run("second of the same name", func(t *testing.T) {
		// flock locks belong to open files: a second open in the same
		// process conflicts as another process's would.
		l, err := LockVendor(dir, "demo")
		var me *MultipleError
		if !errors.As(err, &me) || !errors.Is(err, ErrMultipleVendor) {
			if l != nil {
				l.Close()
			}
			t.Fatalf("second lock = %v, want a MultipleError", err)
		}
		if me.PID != os.Getpid() {
			t.Errorf("holder pid = %d, want %d", me.PID, os.Getpid())
		}
		if got, want := err.Error(), "MULTIPLE demo servers running. Please kill, and restart license daemon."; got != want {
			t.Errorf("message = %q, want %q", got, want)
		}
	})
	t.Run("another vendor", func(t *testing.T) {
		l, err := LockVendor(dir, "other")
		if err != nil {
			t.Fatalf("lock of another vendor: %v", err)
		}
		l.Close()
	})
	t.Run("after release", func(t *testing.T) {
		first.Close()
		l, err := LockVendor(dir, "demo")
		if err != nil {
			t.Fatalf("lock after release: %v", err)
		}
		l.Close()
	})
	st, err := os.Lstat(dir)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm()&0o077 != 0 && os.Geteuid() != 0 {
		t.Errorf("lock directory mode %04o, want 0700", st.Mode().Perm())
	}
	// Nobody else may open the lock file: flock needs only a read-only
	// descriptor, and a shared lock held by another user would keep the
	// vendor daemon out forever.
	lf := filepath.Join(dir, "demo.lock")
	if st, err := os.Lstat(lf); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("lock file: %v, mode %v; want 0600", err, st.Mode().Perm())
	}
	t.Run("a readable old lock file is made private", func(t *testing.T) {
		if err := os.Chmod(lf, 0o644); err != nil {
			t.Fatal(err)
		}
		l, err := LockVendor(dir, "demo")
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		if st, err := os.Lstat(lf); err != nil || st.Mode().Perm() != 0o600 {
			t.Errorf("lock file after LockVendor: %v, mode %v; want 0600", err, st.Mode().Perm())
		}
	})
}

func TestLockVendorRefuses(t *testing.T) {
	tests := []struct {
		name    string
		setup   func(t *testing.T) string // returns the lock directory
		vendor  string
		wantErr string
	}{
		{"group-writable directory", func(t *testing.T) string {
			d := filepath.Join(t.TempDir(), "lock")
			if err := os.Mkdir(d, 0o700); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(d, 0o770); err != nil {
				t.Fatal(err)
			}
			return d
		}, "demo", "writable by group or others"},
		{"world-writable sticky directory", func(t *testing.T) string {
			d := filepath.Join(t.TempDir(), "lock")
			if err := os.Mkdir(d, 0o700); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(d, 0o777|os.ModeSticky); err != nil {
				t.Fatal(err)
			}
			return d
		}, "demo", "writable by group or others"},
		{"symbolic link to a directory", func(t *testing.T) string {
			base := t.TempDir()
			real := filepath.Join(base, "real")
			if err := os.Mkdir(real, 0o700); err != nil {
				t.Fatal(err)
			}
			link := filepath.Join(base, "lock")
			if err := os.Symlink(real, link); err != nil {
				t.Fatal(err)
			}
			return link
		}, "demo", "is not a directory"},
		{"a file", func(t *testing.T) string {
			p := filepath.Join(t.TempDir(), "lock")
			if err := os.WriteFile(p, nil, 0o600); err != nil {
				t.Fatal(err)
			}
			return p
		}, "demo", "is not a directory"},
		{"directory of another user", func(t *testing.T) string {
			if os.Geteuid() != 0 {
				t.Skip("giving a directory to another uid needs root")
			}
			d := filepath.Join(t.TempDir(), "lock")
			if err := os.Mkdir(d, 0o700); err != nil {
				t.Fatal(err)
			}
			if err := os.Chown(d, 65534, 65534); err != nil {
				t.Fatal(err)
			}
			return d
		}, "demo", "belongs to uid 65534"},
		{"lock file is a symbolic link", func(t *testing.T) string {
			d := filepath.Join(t.TempDir(), "lock")
			if err := os.Mkdir(d, 0o700); err != nil {
				t.Fatal(err)
			}
			target := filepath.Join(t.TempDir(), "elsewhere")
			if err := os.Symlink(target, filepath.Join(d, "demo.lock")); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() {
				if _, err := os.Lstat(target); err == nil {
					t.Errorf("the link's target %s was created", target)
				}
			})
			return d
		}, "demo", "is a symbolic link"},
		{"vendor name with a slash", func(t *testing.T) string { return filepath.Join(t.TempDir(), "lock") }, "../demo", "bad vendor name"},
		{"vendor name dot-dot", func(t *testing.T) string { return filepath.Join(t.TempDir(), "lock") }, "..", "bad vendor name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := tt.setup(t)
			l, err := LockVendor(dir, tt.vendor)
			if err == nil {
				l.Close()
				t.Fatalf("LockVendor(%s, %s) = nil, want an error containing %q", dir, tt.vendor, tt.wantErr)
			}
			if !strings.Contains(err.Error(), tt.wantErr) || errors.Is(err, ErrMultipleVendor) {
				t.Fatalf("LockVendor = %v, want an error containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestLockDir(t *testing.T) {
	env := func(kv ...string) func(string) string {
		return func(k string) string {
			for i := 0; i+1 < len(kv); i += 2 {
				if kv[i] == k {
					return kv[i+1]
				}
			}
			return ""
		}
	}
	def := DefaultLockDir(env("XDG_RUNTIME_DIR", "/run/user/1000"))
	if os.Geteuid() == 0 {
		if def != "/run/golm" {
			t.Errorf("root's default = %q, want /run/golm", def)
		}
	} else if def != "/run/user/1000/golm" {
		t.Errorf("default with XDG_RUNTIME_DIR = %q, want /run/user/1000/golm", def)
	}
	tests := []struct {
		name string
		flag string
		env  func(string) string
		want string
	}{
		{"flag wins", "/a", env(LockDirEnv, "/b"), "/a"},
		{"environment", "", env(LockDirEnv, "/b"), "/b"},
		{"default", "", env(), DefaultLockDir(env())},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := LockDir(tt.flag, tt.env); got != tt.want {
				t.Errorf("LockDir = %q, want %q", got, tt.want)
			}
		})
	}
}
