package server

import (
	"strings"
	"testing"

	"golm/lmutil/licfile"
)

func TestFindServerLine(t *testing.T) {
	m := &licfile.Machine{Hostname: "globes.example.com", Ethers: []string{"08002b32b161"}, IPs: []string{"10.1.2.3"}}
	tests := []struct {
		name    string
		servers string
		want    string // the chosen line's host, or the error text
	}{
		{"this_host any", "SERVER this_host ANY 27000", "this_host"},
		{"short name, ethernet hostid", "SERVER globes 08002b32b161", "globes"},
		{"full name, case", "SERVER Globes.Example.COM ANY", "Globes.Example.COM"},
		{"own address", "SERVER 10.1.2.3 ANY", "10.1.2.3"},
		{"second line names us", "SERVER other ANY\nSERVER globes ANY", "globes"},
		{"wrong hostid", "SERVER globes 0123456789ab", "license.lic:1: SERVER line for host globes is locked to hostid 0123456789ab, but this host's is 08002b32b161 (lmhostid prints this host's hostids)\nglobes: Wrong hostid, exiting"},
		{"wrong hostid, second line", "SERVER other ANY\nSERVER globes 0123456789ab", "license.lic:2: SERVER line for host globes is locked to hostid 0123456789ab, but this host's is 08002b32b161 (lmhostid prints this host's hostids)\nglobes: Wrong hostid, exiting"},
		{"wrong 32-bit hostid, none here", "SERVER globes 0123abcd", "license.lic:1: SERVER line for host globes is locked to hostid 0123abcd, but this host's is unknown (lmhostid prints this host's hostids)\nglobes: Wrong hostid, exiting"},
		{"wrong INTERNET hostid", "SERVER globes INTERNET=10.9.*.*", "license.lic:1: SERVER line for host globes is locked to hostid INTERNET=10.9.*.*, but this host's is INTERNET=10.1.2.3 (lmhostid prints this host's hostids)\nglobes: Wrong hostid, exiting"},
		{"renamed host, hostid matches", "SERVER oldname 08002b32b161", "oldname"},
		{"not us", "SERVER other ANY", "license.lic:1: SERVER line names host other, which is not this host (globes.example.com): use this_host or this host's name\nother: Not a valid server host, exiting"},
		{"no SERVER line", "", "No SERVER lines in license file, exiting"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			text := tt.servers + "\nVENDOR demo\n"
			f, err := licfile.Parse(strings.NewReader(text), "license.lic")
			if err != nil {
				t.Fatalf("parse: %v", err)
			}
			s, err := FindServerLine([]*licfile.File{f}, "globes.example.com", m)
			got := ""
			if err != nil {
				got = err.Error()
			} else {
				got = s.Host
			}
			if got != tt.want {
				t.Errorf("FindServerLine = %q, want %q", got, tt.want)
			}
		})
	}
}
