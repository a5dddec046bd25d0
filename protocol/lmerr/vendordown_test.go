package lmerr

import "testing"

func TestVendorDownError(t *testing.T) {
	e := VendorDownError("demo", MinorVendorDown)
	if e.Code != VendorDown {
		t.Errorf("code %d, want %d", e.Code, VendorDown)
	}
	if e.Minor != MinorVendorDown {
		t.Errorf("minor %d, want %d", e.Minor, MinorVendorDown)
	}
	if len(e.Detail) != 1 || e.Detail[0] != "Vendor: demo" {
		t.Errorf("detail %q, want [\"Vendor: demo\"]", e.Detail)
	}
}
