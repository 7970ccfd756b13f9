package e2e

import (
	"fmt"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/hikvision-exporter/hikvision_exporter/alerts"
	"github.com/hikvision-exporter/hikvision_exporter/internal/promtest"
)

// shard is one Prometheus shard of TestShardedPrometheusesMatchUnsharded
// and the exporter replica it scrapes through.
type shard struct {
	job      string
	exporter *process
	prom     *process
	devices  []string // the devices whose name hashes to this shard
}

// TestShardedPrometheusesMatchUnsharded runs examples/prometheus-hashmod.yml
// as a sharded deployment: as many exporter replicas as the example's
// hashmod modulus, all serving the same hikvision.yml (the demo fleet's),
// and as many Prometheus servers, server N running the example's job with
// the example's relabelling as written, only its shard number N (as the
// example says) and its exporter replica's address changed, and the shipped
// rules with every `for:` at 0s. It checks that every demo device is
// scraped by exactly one shard, the one its name hashes to (Prometheus'
// targets, and the exporter replicas' own lists of the targets they probed),
// and that the union of the shards' firing alerts is exactly the alert set
// of one unsharded Prometheus (examples/prometheus.yml through its own demo
// exporter), job label aside, each alert coming from one shard only.
func TestShardedPrometheusesMatchUnsharded(t *testing.T) {
	promtest.Tool(t, "prometheus")
	promtest.Tool(t, "promtool")
	started := time.Now()

	const what = "examples/prometheus-hashmod.yml"
	jobs := scrapeConfigs(t, what, readExample(t, "prometheus-hashmod.yml"))
	if len(jobs) != 1 {
		t.Fatalf("%s: %d jobs; the test expects shard 0 written out and the others described in a comment", what, len(jobs))
	}
	shard0, _ := jobs[0].(map[string]any)
	modulus := hashmodModulus(t, what, shard0)

	// The replicas: the first runs the demo fleet, the others serve its
	// configuration file, so all probe the same devices.
	first := startExporter(t, "http", "--demo")
	devices := sdDevices(t, first)
	config := demoConfigPath(t, first)
	dir := t.TempDir()
	rules := filepath.Join(dir, filepath.Base(alerts.RulesFile))
	writeRulesForZero(t, rules)

	shards := make([]*shard, modulus)
	for i := range shards {
		s := &shard{job: fmt.Sprintf("hikvision-shard-%d", i), exporter: first}
		if i > 0 {
			s.exporter = startExporter(t, "http", "--config.file="+config)
		}
		for _, d := range devices {
			if hashmod(d, uint64(modulus)) == uint64(i) {
				s.devices = append(s.devices, d)
			}
		}
		job := shardJob(t, what, shard0, i, s.job, s.exporter.addr)
		shards[i] = s
		s.prom = startShardPrometheus(t, rules, []any{job})
	}

	// The unsharded reference: examples/prometheus.yml through an exporter
	// of its own.
	single := startExporter(t, "http", "--demo")
	singleCfg := pointAtExporter(t, "examples/prometheus.yml", readExample(t, "prometheus.yml"), single.addr).(map[string]any)
	scrapeJob(t, "examples/prometheus.yml", singleCfg, "hikvision")
	unsharded := startShardPrometheus(t, rules, scrapeConfigs(t, "examples/prometheus.yml", singleCfg))

	// Every device scraped by exactly one shard, the one its name hashes to.
	scrapedBy := map[string][]string{}
	for _, s := range shards {
		ts := waitForShardTargets(t, s, devices, modulus)
		for _, tg := range ts.ActiveTargets {
			scrapedBy[tg.Labels["instance"]] = append(scrapedBy[tg.Labels["instance"]], s.job)
		}
	}
	var summary []string
	for _, d := range devices {
		want := fmt.Sprintf("hikvision-shard-%d", hashmod(d, uint64(modulus)))
		if got := scrapedBy[d]; len(got) != 1 || got[0] != want {
			t.Errorf("%s is scraped by %v, want exactly %s (its name's hash modulo %d)", d, got, want, modulus)
		}
		summary = append(summary, fmt.Sprintf("%s -> %s", d, strings.Join(scrapedBy[d], ",")))
	}
	for d, by := range scrapedBy {
		if !slices.Contains(devices, d) {
			t.Errorf("%v scrape %q, which /sd does not offer", by, d)
		}
	}
	t.Logf("%d devices, %d shards: %s", len(devices), modulus, strings.Join(summary, "; "))
	if t.Failed() {
		return
	}

	// The same data, then the same alerts.
	for _, s := range shards {
		waitForAlertData(t, s.prom, s.job, s.devices, started)
	}
	waitForAlertData(t, unsharded, "unsharded", devices, started)
	var union, reference map[string]string
	var from map[string][]string
	deadline := time.Now().Add(alertGrace * 2)
	for {
		union, from, reference = map[string]string{}, map[string][]string{}, alertSet(t, unsharded, "unsharded")
		for _, s := range shards {
			for id, desc := range alertSet(t, s.prom, s.job) {
				union[id] = desc
				from[id] = append(from[id], s.job)
			}
		}
		if sameKeys(union, reference) || time.Now().After(deadline) {
			break
		}
		time.Sleep(pollInterval)
	}
	for _, id := range sortedKeys(union) {
		if _, ok := reference[id]; !ok {
			t.Errorf("fires on %v but not on the unsharded Prometheus: %s", from[id], union[id])
		}
		if len(from[id]) > 1 {
			t.Errorf("fires on %d shards %v, want one: %s", len(from[id]), from[id], union[id])
		}
	}
	for _, id := range sortedKeys(reference) {
		if _, ok := union[id]; !ok {
			t.Errorf("fires on the unsharded Prometheus but on no shard: %s", reference[id])
		}
	}
	// Each alert comes from the shard that probes its device.
	for _, s := range shards {
		for id, desc := range alertSet(t, s.prom, s.job) {
			if inst := alertInstance(id); inst != "" && !slices.Contains(s.devices, inst) {
				t.Errorf("%s fires %s about %s, which it does not probe (its devices: %v)", s.job, desc, inst, s.devices)
			}
		}
	}
	for _, must := range []string{"HikvisionDefaultPassword weak-cam", "HikvisionCredentialsRejected wrong-password"} {
		found := false
		for id := range reference {
			found = found || strings.HasPrefix(id, must+" ")
		}
		if !found {
			t.Errorf("the unsharded Prometheus does not fire %s: the comparison is vacuous", must)
		}
	}

	// Each replica probed exactly the devices of its shard: a device's
	// connections, hold-off and log cursor live in one exporter.
	for _, s := range shards {
		if got := probedTargets(t, s.exporter); strings.Join(got, ",") != strings.Join(s.devices, ",") {
			t.Errorf("exporter of %s (%s) probed %v, want exactly its shard's devices %v", s.job, s.exporter.addr, got, s.devices)
		}
	}
	perShard := make([]string, len(shards))
	for i, s := range shards {
		perShard[i] = fmt.Sprintf("%s: %d devices %v, %d alerts", s.job, len(s.devices), s.devices, countFrom(from, s.job))
	}
	t.Logf("%s; unsharded: %d alerts, the same set; test took %s", strings.Join(perShard, "; "), len(reference), time.Since(started).Round(time.Second))
}

// startShardPrometheus runs a Prometheus with the scrape jobs and the rules
// file, scraping and evaluating every second.
func startShardPrometheus(t *testing.T, rules string, jobs []any) *process {
	t.Helper()
	dir := t.TempDir()
	writePrometheusConfig(t, dir, map[string]any{"global": fastGlobal(), "rule_files": []any{rules}, "scrape_configs": jobs})
	return startPrometheus(t, dir)
}

// waitForShardTargets waits until the shard scrapes exactly its devices,
// all up, having discovered and dropped the others, and returns its
// targets.
func waitForShardTargets(t *testing.T, s *shard, devices []string, modulus int) targetsResponse {
	t.Helper()
	var ts targetsResponse
	eventually(t, s.job+" to scrape its devices", func() (bool, string, error) {
		var err error
		if ts, err = getTargets(s.prom); err != nil {
			return false, "", err
		}
		status := fmt.Sprintf("%s, want %v active and up, %d dropped:\n%s", s.job, s.devices, len(devices)-len(s.devices), describeTargets(ts))
		if len(ts.ActiveTargets) != len(s.devices) || len(ts.DroppedTargets) != len(devices)-len(s.devices) {
			return false, status, nil
		}
		for _, tg := range ts.ActiveTargets {
			if tg.Health != "up" {
				return false, status, nil
			}
		}
		return true, "", nil
	})
	for _, tg := range ts.DroppedTargets {
		if d := tg.DiscoveredLabels["__meta_hikvision_device"]; hashmod(d, uint64(modulus)) == hashmod(s.devices[0], uint64(modulus)) {
			t.Errorf("%s dropped %s, whose name hashes to it", s.job, d)
		}
	}
	return ts
}

// waitForAlertData waits until a Prometheus has a steady view of its
// devices: each probed and up (or rejected), every collector succeeding,
// every device log read up to the present, and every rule group evaluated
// after that.
func waitForAlertData(t *testing.T, prom *process, name string, devices []string, started time.Time) {
	t.Helper()
	var steadyAt time.Time
	eventually(t, name+" to hold steady data and evaluate its rules on it", func() (bool, string, error) {
		for _, c := range []struct{ query, why string }{
			{`count(hikvision_up)`, "every device probed"},
		} {
			res, err := instantQuery(prom, c.query)
			if err != nil {
				return false, "", err
			}
			if len(res) != 1 || sampleValue(t, res[0]) != float64(len(devices)) {
				return false, fmt.Sprintf("%s: %s: %v, want %d", c.why, c.query, res, len(devices)), nil
			}
		}
		for _, c := range []struct{ query, why string }{
			{`hikvision_up == 0 unless on (job, instance) hikvision_auth_rejected == 1`, "every device that accepts the credentials must answer"},
			{`hikvision_scrape_collector_success != 1`, "every collector must succeed"},
			{fmt.Sprintf(`hikvision_up == 1 unless on (job, instance) hikvision_log_search_cursor_timestamp_seconds >= %d`, started.Add(-2*time.Second).Unix()),
				"every device log must be read up to the present"},
		} {
			res, err := instantQuery(prom, c.query)
			if err != nil {
				return false, "", err
			}
			if len(res) > 0 {
				steadyAt = time.Time{}
				return false, fmt.Sprintf("%s: %s: %v", c.why, c.query, res), nil
			}
		}
		if steadyAt.IsZero() {
			steadyAt = time.Now()
		}
		groups, err := getRules(prom)
		if err != nil {
			return false, "", err
		}
		for _, g := range groups {
			if !g.LastEvaluation.After(steadyAt) {
				return false, fmt.Sprintf("rule group %s last evaluated at %s, before the steady data at %s", g.Name, g.LastEvaluation, steadyAt), nil
			}
		}
		return len(groups) > 0, "no rule groups", nil
	})
}

// alertSet returns a Prometheus' firing alerts, keyed by alert name,
// instance and the other labels except job (which names the shard), each
// with a description for messages.
func alertSet(t *testing.T, prom *process, name string) map[string]string {
	t.Helper()
	as, err := getAlerts(prom)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	out := map[string]string{}
	for _, a := range as {
		if a.State != "firing" {
			continue
		}
		var extra []string
		for _, k := range sortedKeys(a.Labels) {
			if k != "alertname" && k != "instance" && k != "job" {
				extra = append(extra, k+"="+a.Labels[k])
			}
		}
		id := a.Labels["alertname"] + " " + a.Labels["instance"] + " " + strings.Join(extra, ",")
		out[id] = labelString(a.Labels)
	}
	return out
}

// alertInstance is the instance of an alertSet key.
func alertInstance(id string) string {
	parts := strings.SplitN(id, " ", 3)
	if len(parts) < 2 {
		return ""
	}
	return parts[1]
}

var probedTargetRE = regexp.MustCompile(`<tr><td>([^<]+)</td><td>[^<]*</td>`)

// probedTargets returns the targets an exporter has probed, from its
// landing page's list of recent probes, sorted.
func probedTargets(t *testing.T, exp *process) []string {
	t.Helper()
	_, body := exp.get(t, "/")
	var out []string
	for _, m := range probedTargetRE.FindAllStringSubmatch(body, -1) {
		out = append(out, m[1])
	}
	sort.Strings(out)
	return out
}

func sameKeys(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k := range a {
		if _, ok := b[k]; !ok {
			return false
		}
	}
	return true
}

func countFrom(from map[string][]string, job string) int {
	n := 0
	for _, jobs := range from {
		if slices.Contains(jobs, job) {
			n++
		}
	}
	return n
}
