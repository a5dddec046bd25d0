package client

import (
	"errors"
	"fmt"
	"strings"
)

// diagnose writes FLEXLM_DIAGNOSTICS output (manual B.2): on a failure,
// level 1 the error and the license path tried, level 2 also the checkout
// arguments; on success, level 3 how the license was granted.
func (j *Job) diagnose(feature, version string, count int, lic *License, tried []string, err error) {
	lvl := j.cfg.diagLevel
	if lvl < 1 {
		return
	}
	w := j.cfg.diag
	if err != nil {
		msg := err.Error()
		var e *Error
		if errors.As(err, &e) {
			msg = e.Error()
		}
		fmt.Fprintf(w, "golm checkout error: %s\n", msg)
		fmt.Fprintf(w, "license file(s): %s\n", strings.Join(tried, " "))
		if lvl >= 2 {
			fmt.Fprintf(w, "lm_checkout(%q, %s, %d, 0x0, ..., 0x0)\n", feature, version, count)
		}
		return
	}
	if lvl >= 3 && lic != nil {
		id := "local"
		if h := lic.Handle(); h != 0 {
			id = fmt.Sprint(h)
		}
		fmt.Fprintf(w, "Checkout succeeded: %s/%s\n", lic.Feature, id)
		fmt.Fprintf(w, "License file: %s\n", lic.Source)
		if lic.Server == "" {
			fmt.Fprintln(w, "No server used")
		} else {
			fmt.Fprintf(w, "License Server: %s\n", lic.Server)
		}
	}
}
