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
	// posture areas or in the probe frame; the exporter's own are
	// client_golang options in the hikvision_exporter namespace.
	descRE := regexp.MustCompile(`NewDesc\(\s*"([a-z0-9_]+)"`)
	selfRE := regexp.MustCompile(`(?:Namespace:\s*"hikvision",\s*Subsystem:\s*"exporter"|Namespace:\s*"hikvision_exporter"),\s*Name:\s*"([a-z0-9_]+)"`)
	names := []string{"hikvision_exporter_build_info"} // client_golang's version collector
	self := 0
	for _, dir := range []string{"../collector", "../probe", "../config"} {
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
			for _, m := range selfRE.FindAllStringSubmatch(string(b), -1) {
				names = append(names, "hikvision_exporter_"+m[1])
				self++
			}
		}
	}
	if self < 4 {
		t.Fatalf("found only %d of the exporter's own metrics; the scan is broken", self)
	}
	if len(names) < 30 {
		t.Fatalf("found only %d metric definitions; the scan is broken", len(names))
	}
	for _, n := range names {
		if !strings.Contains(ref, "`"+n+"`") {
			t.Errorf("metric %s is not in the README's metric reference", n)
		}
	}
}
