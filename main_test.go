package main

import (
	"strings"
	"testing"
	"time"

	"github.com/alecthomas/kingpin/v2"
)

// TestTimeoutOffsetTakesSecondsOrDuration: --timeout-offset takes plain
// seconds, the unit of X-Prometheus-Scrape-Timeout-Seconds, as well as a Go
// duration, and refuses what would let a probe outlive the scrape.
func TestTimeoutOffsetTakesSecondsOrDuration(t *testing.T) {
	ok := map[string]time.Duration{
		"0.5": 500 * time.Millisecond, "0.5s": 500 * time.Millisecond, "500ms": 500 * time.Millisecond,
		"0": 0, "2": 2 * time.Second, "1.25": 1250 * time.Millisecond, "1m": time.Minute, "0s": 0,
	}
	for in, want := range ok {
		got, err := parseSecondsOrDuration(in)
		if err != nil || got != want {
			t.Errorf("parseSecondsOrDuration(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "-0.5", "-1s", "half", "0.5 s", "NaN", "Inf", "1e300"} {
		if got, err := parseSecondsOrDuration(in); err == nil {
			t.Errorf("parseSecondsOrDuration(%q) = %v, want an error", in, got)
		}
	}
}

// TestTimeoutOffsetFlag parses the flag as main declares it.
func TestTimeoutOffsetFlag(t *testing.T) {
	for in, want := range map[string]time.Duration{"": 500 * time.Millisecond, "0.25": 250 * time.Millisecond, "1s": time.Second} {
		app := kingpin.New("test", "")
		var v secondsOrDuration
		app.Flag("timeout-offset", "").Default("0.5s").SetValue(&v)
		var args []string
		if in != "" {
			args = []string{"--timeout-offset=" + in}
		}
		if _, err := app.Parse(args); err != nil {
			t.Errorf("--timeout-offset=%s: %v", in, err)
		} else if time.Duration(v) != want {
			t.Errorf("--timeout-offset=%s: %v, want %v", in, time.Duration(v), want)
		}
	}
	app := kingpin.New("test", "")
	var v secondsOrDuration
	app.Flag("timeout-offset", "").Default("0.5s").SetValue(&v)
	if _, err := app.Parse([]string{"--timeout-offset=-1"}); err == nil || !strings.Contains(err.Error(), "between 0 and") {
		t.Errorf("--timeout-offset=-1: err = %v", err)
	}
}
