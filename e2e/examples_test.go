package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/hikvision-exporter/hikvision_exporter/internal/promtest"
)

// prometheusExamples returns the names of the examples/*.yml files that are
// Prometheus configurations (the others are exporter configurations and
// the Alertmanager configuration, which alertmanager_test.go checks).
func prometheusExamples(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(repoRoot(t), "examples", "*.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range files {
		doc := readExample(t, filepath.Base(f))
		_, prom := doc["scrape_configs"]
		_, exporter := doc["modules"]
		_, alertmanager := doc["receivers"]
		switch {
		case prom && !exporter:
			names = append(names, filepath.Base(f))
		case !exporter && !alertmanager:
			t.Errorf("examples/%s is neither a Prometheus, an exporter nor an Alertmanager configuration", filepath.Base(f))
		}
	}
	if len(names) < 4 {
		t.Fatalf("only %d Prometheus examples found (%v); the scan is broken", len(names), names)
	}
	return names
}

// TestPrometheusExamplesPassPromtool: every Prometheus example passes
// `promtool check config` as shipped, run where it lies, so that relative
// paths (rule_files) are checked as Prometheus would read them.
func TestPrometheusExamplesPassPromtool(t *testing.T) {
	promtool := promtest.Tool(t, "promtool")
	for _, name := range prometheusExamples(t) {
		cmd := exec.Command(promtool, "check", "config", name)
		cmd.Dir = filepath.Join(repoRoot(t), "examples")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("promtool check config examples/%s: %v\n%s", name, err, out)
		}
	}
}

// sdJobs returns the jobs of a Prometheus example that discover devices
// from the exporter's /sd.
func sdJobs(t *testing.T, name string) []map[string]any {
	t.Helper()
	var jobs []map[string]any
	for _, j := range scrapeConfigs(t, "examples/"+name, readExample(t, name)) {
		job, _ := j.(map[string]any)
		if strings.Contains(fmt.Sprint(job["http_sd_configs"]), "/sd") {
			jobs = append(jobs, job)
		}
	}
	return jobs
}

// labelledDevices are the devices of TestSDExamplesKeepDeviceLabels. Their
// names are chosen so that the first hashmod shard keeps some of them.
var labelledDevices = []string{"cam-a", "cam-b", "cam-c", "cam-d", "cam-e", "cam-f"}

// TestSDExamplesKeepDeviceLabels runs Prometheus with every job of the
// examples that discovers devices from /sd, against an exporter whose
// devices carry labels, and checks that every target keeps its device's
// labels (the labelmap rule). The devices' addresses are loopback ports
// where nothing listens: the labels matter here, not the probes.
func TestSDExamplesKeepDeviceLabels(t *testing.T) {
	promtest.Tool(t, "prometheus")
	promtest.Tool(t, "promtool")
	dir := t.TempDir()
	var cfg strings.Builder
	cfg.WriteString("modules:\n  default: {username: u, password: p, scheme: http, timeout: 1s}\ndevices:\n")
	for i, d := range labelledDevices {
		fmt.Fprintf(&cfg, "  - {name: %s, address: \"127.0.0.1:%d\", labels: {site: site-%s, rack: r%d}}\n", d, i+1, d, i)
	}
	cfgPath := filepath.Join(dir, "hikvision.yml")
	if err := os.WriteFile(cfgPath, []byte(cfg.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	exp := startExporter(t, "http", "--config.file="+cfgPath)

	var jobs []any
	for _, name := range prometheusExamples(t) {
		for _, job := range sdJobs(t, name) {
			job["job_name"] = strings.TrimSuffix(name, ".yml") + "-" + fmt.Sprint(job["job_name"])
			jobs = append(jobs, pointAtExporter(t, "examples/"+name, job, exp.addr))
		}
	}
	if len(jobs) < 2 {
		t.Fatalf("%d jobs discover from /sd; want those of prometheus.yml and prometheus-hashmod.yml", len(jobs))
	}
	if !slices.ContainsFunc(labelledDevices, func(d string) bool { return hashmod(d, 3) == 0 }) {
		t.Fatal("no device hashes to the first shard; choose other names")
	}
	writePrometheusConfig(t, dir, map[string]any{"global": fastGlobal(), "scrape_configs": jobs})
	prom := startPrometheus(t, dir)

	eventually(t, "every /sd job to have its targets, each with its device's labels", func() (bool, string, error) {
		ts, status, err := targetsStatus(prom)
		if err != nil {
			return false, "", err
		}
		byJob := targetsByJob(ts)
		for _, j := range jobs {
			name := fmt.Sprint(j.(map[string]any)["job_name"])
			if len(byJob[name]) == 0 {
				return false, status + "no target yet for " + name, nil
			}
		}
		for _, tg := range ts.ActiveTargets {
			dev := tg.DiscoveredLabels["__meta_hikvision_device"]
			i := slices.Index(labelledDevices, dev)
			want := map[string]string{"site": "site-" + dev, "rack": fmt.Sprintf("r%d", i)}
			if i < 0 || !hasLabels(want, tg.Labels) {
				t.Fatalf("job %s, device %q: target labels %v lack the device's labels %v", tg.Labels["job"], dev, tg.Labels, want)
			}
		}
		return true, "", nil
	})
}
