package bench

import (
	"fmt"
	"os"
	"testing"
	"time"
)

// TestMain runs the test binary as a simulator or load-generator child of
// the fleet benchmark when HIKBENCH_CHILD says so (see the package comment).
func TestMain(m *testing.M) {
	if os.Getenv(ChildEnv) != "" {
		os.Exit(RunChild())
	}
	os.Exit(m.Run())
}

// field picks one figure out of every run.
func field(runs []countRun, f func(countRun) int) []int {
	out := make([]int, len(runs))
	for i, r := range runs {
		out[i] = f(r)
	}
	return out
}

// ms renders a duration in milliseconds, as BENCHMARKS.md does.
func ms(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d)/1e6) }

func ratio(a, b time.Duration) float64 {
	if b <= 0 {
		return 0
	}
	return float64(a) / float64(b)
}
