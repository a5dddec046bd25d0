package protocol

import "testing"

func TestAdminSocket(t *testing.T) {
	tests := []struct {
		daemon string
		port   int
		want   string
	}{
		{"lmgrd", 27000, "@golm-lmgrd-27000"},
		{"demo", 27000, "@golm-demo-27000"},
		{"demo", 1700, "@golm-demo-1700"},
	}
	for _, tt := range tests {
		if got := AdminSocket(tt.daemon, tt.port); got != tt.want {
			t.Errorf("AdminSocket(%q, %d) = %q, want %q", tt.daemon, tt.port, got, tt.want)
		}
	}
}
