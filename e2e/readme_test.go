package e2e

import (
	"os"
	"regexp"
	"strings"
	"testing"
)

// TestReadmeMetricReference checks that every metric the code defines is in
// the README's metric reference.
func TestReadmeMetricReference(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	ref := string(readme)
	if i := strings.Index(ref, "## Metric reference"); i >= 0 {
		ref = ref[i:]
	} else {
		t.Fatal("README has no metric reference")
	}
	// Every hikvision_ metric is made with collector.NewDesc, in the
	// posture areas or in the probe frame.
	descRE := regexp.MustCompile(`NewDesc\(\s*"([a-z0-9_]+)"`)
	var names []string
	for _, dir := range []string{"../collector", "../probe"} {
		files, err := os.ReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range files {
			if !strings.HasSuffix(f.Name(), ".go") || strings.HasSuffix(f.Name(), "_test.go") {
				continue
			}
			b, err := os.ReadFile(dir + "/" + f.Name())
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range descRE.FindAllStringSubmatch(string(b), -1) {
				names = append(names, "hikvision_"+m[1])
			}
		}
	}
	names = append(names, "hikvision_exporter_build_info", "hikvision_exporter_probes_total",
		"hikvision_exporter_config_last_reload_successful", "hikvision_exporter_config_last_reload_success_timestamp_seconds")
	if len(names) < 30 {
		t.Fatalf("found only %d metric definitions; the scan is broken", len(names))
	}
	for _, n := range names {
		if !strings.Contains(ref, "`"+n+"`") {
			t.Errorf("metric %s is not in the README's metric reference", n)
		}
	}
}
