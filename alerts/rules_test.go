package alerts

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/hikvision-exporter/hikvision_exporter/internal/promtest"
)

func TestPromtoolCheckRules(t *testing.T) {
	wantPromtoolSuccess(t, root(t), "check", "rules", RulesFile)
}

func TestPromtoolTestRules(t *testing.T) {
	// rule_files in the test file are relative to the test file.
	wantPromtoolSuccess(t, filepath.Join(root(t), filepath.Dir(RulesTestFile)), "test", "rules", filepath.Base(RulesTestFile))
}

func TestAllExpressionsParse(t *testing.T) {
	r := root(t)
	exprs, err := Expressions(r)
	if err != nil {
		t.Fatal(err)
	}
	perFile := map[string]int{}
	for _, e := range exprs {
		perFile[e.File]++
		if strings.TrimSpace(e.PromQL) == "" {
			t.Errorf("%s: %s: empty expression", e.File, e.Location)
		}
	}
	for _, f := range append([]string{RulesFile}, DashboardFiles...) {
		if perFile[f] < 10 {
			t.Errorf("%s: found only %d expressions; is the extraction broken?", f, perFile[f])
		}
	}
	if err := checkExpressions(t, exprs); err != nil {
		t.Fatal(err)
	}
	t.Logf("promtool parsed %d expressions (%v)", len(exprs), perFile)
}

// A broken expression anywhere must make the check fail, and the failure
// must say where it is. Without this the check above could pass vacuously.
func TestBrokenExpressionIsCaught(t *testing.T) {
	promtest.Tool(t, "promtool")
	dash := []byte(`{
	  "panels": [
	    {"type": "stat", "title": "fine", "targets": [{"expr": "sum(rate(hikvision_login_failures_total{job=~\"$job\"}[$__rate_interval]))"}]},
	    {"type": "row", "title": "collapsed", "collapsed": true, "panels": [
	      {"type": "timeseries", "title": "broken nested", "targets": [
	        {"expr": "hikvision_up{instance=\"${instance}\"}"},
	        {"expr": "sum(rate(hikvision_login_failures_total[$__range])"}
	      ]}
	    ]},
	    {"type": "stat", "title": "wrong type", "targets": [{"expr": "rate(hikvision_login_failures_total)"}]}
	  ],
	  "templating": {"list": [
	    {"type": "datasource", "name": "datasource", "query": "prometheus"},
	    {"type": "query", "name": "job", "query": "label_values(hikvision_up, job)"},
	    {"type": "query", "name": "instance", "query": {"query": "label_values(hikvision_up{job=~\"$job\"}}, instance)", "refId": "x"}}
	  ]}
	}`)
	exprs, err := dashboardExpressions("broken.json", dash, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(exprs) != 6 {
		t.Fatalf("want 6 expressions (4 targets, 2 variables), got %d: %+v", len(exprs), exprs)
	}
	err = checkExpressions(t, exprs)
	if err == nil {
		t.Fatal("promtool accepted broken expressions")
	}
	msg := err.Error()
	for _, want := range []string{
		`panel "broken nested"`,
		"unclosed left parenthesis",
		`panel "wrong type"`,
		"expected type range vector",
		`variable "instance"`,
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("error does not mention %q:\n%s", want, msg)
		}
	}
	if n := strings.Count(msg, "extracted_expr_"); n != 3 {
		t.Errorf("want exactly the 3 broken expressions reported, got %d:\n%s", n, msg)
	}
	if strings.Contains(msg, `panel "fine"`) {
		t.Errorf("a valid expression was reported:\n%s", msg)
	}

	// The valid ones alone pass.
	var good []Expr
	for _, e := range exprs {
		if !strings.Contains(e.Location, "broken") && !strings.Contains(e.Location, "wrong") && !strings.Contains(e.Location, `"instance"`) {
			good = append(good, e)
		}
	}
	if err := checkExpressions(t, good); err != nil {
		t.Errorf("valid expressions rejected: %v", err)
	}

	// And a broken alert rule expression is caught the same way.
	rulesDir := t.TempDir()
	rules := "groups:\n- name: g\n  rules:\n  - alert: Broken\n    expr: hikvision_up == \n"
	if err := os.WriteFile(filepath.Join(rulesDir, "r.yml"), []byte(rules), 0o644); err != nil {
		t.Fatal(err)
	}
	rexprs, err := RuleExpressions(rulesDir, "r.yml")
	if err != nil {
		t.Fatal(err)
	}
	if err := checkExpressions(t, rexprs); err == nil || !strings.Contains(err.Error(), "alert Broken") {
		t.Errorf("broken rule expression not reported by location: %v", err)
	}
	if out, err := runPromtool(t, rulesDir, "check", "rules", "r.yml"); err == nil {
		t.Errorf("promtool check rules accepted a broken rules file:\n%s", out)
	}
}

func TestUnknownGrafanaVariableIsAnError(t *testing.T) {
	dash := []byte(`{"panels": [{"type": "stat", "title": "t", "targets": [{"expr": "hikvision_up{job=\"$nosuchvar\"}"}]}], "templating": {"list": []}}`)
	if _, err := dashboardExpressions("x.json", dash, nil); err == nil || !strings.Contains(err.Error(), "$nosuchvar") {
		t.Fatalf("want an error naming $nosuchvar, got %v", err)
	}
}

func TestExpandGrafanaVariables(t *testing.T) {
	vars := map[string]string{"job": "query", "instance": "query", "step": "interval", "datasource": "datasource"}
	for _, tc := range []struct{ in, want string }{
		{`rate(x{job=~"$job"}[$__rate_interval])`, `rate(x{job=~"standin"}[5m])`},
		{`x{instance="${instance}"}`, `x{instance="standin"}`},
		{`x{instance=~"${instance:regex}"}`, `x{instance=~"standin"}`},
		{`x{job="[[job]]"}`, `x{job="standin"}`},
		{`increase(x[$__range]) / $__range_s`, `increase(x[1h]) / 3600`},
		{`avg_over_time(x[$__interval])`, `avg_over_time(x[1m])`},
		{`avg_over_time(x[$step])`, `avg_over_time(x[5m])`},
		{`x * $__interval_ms`, `x * 60000`},
		{`no variables`, `no variables`},
	} {
		got, err := ExpandGrafanaVariables(tc.in, vars)
		if err != nil {
			t.Errorf("%s: %v", tc.in, err)
			continue
		}
		if got != tc.want {
			t.Errorf("ExpandGrafanaVariables(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	if _, err := ExpandGrafanaVariables(`x{a="$unknown"}`, vars); err == nil {
		t.Error("unknown variable accepted")
	}

	// With values, as an end-to-end test runs the panels' queries.
	values := map[string]string{"instance": "weak-cam", "job": "hikvision"}
	got, err := expandGrafanaVariables(`increase(x{job=~"$job", instance="${instance}", s="$step"}[$__range])`, vars, values)
	if want := `increase(x{job=~"hikvision", instance="weak-cam", s="5m"}[1h])`; err != nil || got != want {
		t.Errorf("with values: %q, %v; want %q", got, err, want)
	}
	if _, err := expandGrafanaVariables(`x{a="$unknown"}`, vars, map[string]string{"unknown": "x"}); err == nil {
		t.Error("a value for a variable the dashboard does not define was accepted")
	}
	exprs, err := DashboardExpressionsWith(root(t), "dashboards/hikvision-device.json", values)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range exprs {
		if strings.Contains(e.PromQL, "standin") && strings.Contains(e.Raw, "$instance") {
			t.Errorf("%s: %s: $instance not replaced: %s", e.File, e.Location, e.PromQL)
		}
	}
}

func TestMetricNamesInPromQL(t *testing.T) {
	got := metricNamesInPromQL(`sum by (job) (hikvision_up{job="hikvision_not_a_metric"} == 0)
	  unless on (job, instance) hikvision:threshold_x   # hikvision_in_comment
	  or label_replace(hikvision_auth_rejected, "reason", "hikvision_text", "instance", ".*")
	  or xhikvision_suffix or hikvision_exporter_build_info`)
	want := []string{"hikvision_up", "hikvision_auth_rejected", "hikvision_exporter_build_info"}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("got %v, want %v", got, want)
	}
}

// contractDeviceMetrics is the metric contract of /probe; contractExporterMetrics
// that of /metrics. A name used by the rules or dashboards and missing here
// is a typo (it would parse, and never match anything).
var contractDeviceMetrics = []string{
	// probe
	"hikvision_up", "hikvision_probe_duration_seconds", "hikvision_probe_timeout_seconds",
	"hikvision_scrape_collector_success", "hikvision_scrape_collector_duration_seconds",
	"hikvision_feature_supported", "hikvision_auth_rejected", "hikvision_auth_retry_timestamp_seconds",
	// device
	"hikvision_device_info", "hikvision_firmware_build_timestamp_seconds", "hikvision_firmware_advisory",
	"hikvision_firmware_below_minimum",
	// account
	"hikvision_password_default", "hikvision_password_weak", "hikvision_device_activated",
	"hikvision_password_expiry_timestamp_seconds", "hikvision_account_locked", "hikvision_login_attempts_remaining",
	"hikvision_account_unlock_timestamp_seconds", "hikvision_password_age_seconds",
	// users
	"hikvision_users", "hikvision_user_info", "hikvision_user_bound_address",
	// lockout
	"hikvision_login_lock_enabled", "hikvision_login_lock_max_attempts", "hikvision_login_lock_duration_seconds",
	"hikvision_login_failures_total", "hikvision_login_failures_last_hour", "hikvision_last_login_failure_timestamp_seconds",
	"hikvision_login_failure_notification_enabled",
	// two_factor
	"hikvision_two_factor_supported", "hikvision_two_factor_enabled", "hikvision_password_recovery_configured",
	// services
	"hikvision_service_enabled", "hikvision_service_port", "hikvision_cloud_bound", "hikvision_https_redirect_enabled",
	"hikvision_tls_version_enabled", "hikvision_auth_basic_allowed", "hikvision_tls_certificate_expiry_timestamp_seconds",
	"hikvision_snmp_community_default", "hikvision_snmp_v3_users_without_auth",
	"hikvision_upnp_port_mapping_enabled", "hikvision_upnp_mapped_ports",
	// channels
	"hikvision_channel_info", "hikvision_channel_online", "hikvision_channel_firmware_build_timestamp_seconds",
	"hikvision_channel_firmware_advisory", "hikvision_channel_admin_account", "hikvision_channel_certificate_validation_enabled",
	// time
	"hikvision_clock_skew_seconds", "hikvision_ntp_enabled",
}

var contractExporterMetrics = []string{
	"hikvision_exporter_build_info", "hikvision_exporter_probes_total", "hikvision_exporter_device_requests_total",
	"hikvision_exporter_config_last_reload_successful", "hikvision_exporter_config_last_reload_success_timestamp_seconds",
}

func TestMetricNames(t *testing.T) {
	names, err := MetricNames()
	if err != nil {
		t.Fatal(err)
	}
	contract := map[string]bool{}
	for _, n := range append(append([]string{}, contractDeviceMetrics...), contractExporterMetrics...) {
		contract[n] = true
	}
	var sorted []string
	for n := range names {
		sorted = append(sorted, n)
	}
	sort.Strings(sorted)
	for _, n := range sorted {
		if !contract[n] {
			t.Errorf("%s is not in the metric contract (typo?); used in %v", n, names[n])
		}
		if len(names[n]) == 0 {
			t.Errorf("%s: no location", n)
		}
	}
	for _, n := range contractExporterMetrics {
		if !IsExporterMetric(n) {
			t.Errorf("IsExporterMetric(%s) = false", n)
		}
	}
	if IsExporterMetric("hikvision_up") {
		t.Error("IsExporterMetric(hikvision_up) = true")
	}

	// The device dashboard shows everything about one device, and the fleet
	// dashboard shows the exporters' own state.
	r := root(t)
	for _, tc := range []struct {
		file string
		want []string
	}{
		{"dashboards/hikvision-device.json", contractDeviceMetrics},
		{"dashboards/hikvision-fleet.json", contractExporterMetrics},
	} {
		exprs, err := DashboardExpressions(r, tc.file)
		if err != nil {
			t.Fatal(err)
		}
		used := map[string]bool{}
		for _, e := range exprs {
			for _, n := range metricNamesInPromQL(e.PromQL) {
				used[n] = true
			}
		}
		for _, n := range tc.want {
			if !used[n] {
				t.Errorf("%s does not show %s", tc.file, n)
			}
		}
	}
	t.Logf("%d hikvision_* metrics referenced", len(names))
}

// rulesTestFile is the part of a promtool test file we read.
type rulesTestFile struct {
	RuleFiles []string `yaml:"rule_files"`
	Tests     []struct {
		Name          string `yaml:"name"`
		AlertRuleTest []struct {
			Alertname string           `yaml:"alertname"`
			ExpAlerts []map[string]any `yaml:"exp_alerts"`
		} `yaml:"alert_rule_test"`
	} `yaml:"tests"`
}

// Every alert has a test case where it fires and one where it does not.
func TestEveryAlertIsUnitTested(t *testing.T) {
	r := root(t)
	rf, err := readRules(r, RulesFile)
	if err != nil {
		t.Fatal(err)
	}
	data := readRepoFile(t, RulesTestFile)
	var tf rulesTestFile
	if err := yaml.Unmarshal(data, &tf); err != nil {
		t.Fatal(err)
	}
	if len(tf.RuleFiles) != 1 || tf.RuleFiles[0] != filepath.Base(RulesFile) {
		t.Errorf("%s: rule_files = %v, want [%s]", RulesTestFile, tf.RuleFiles, filepath.Base(RulesFile))
	}
	fires, quiet := map[string]int{}, map[string]int{}
	for _, tc := range tf.Tests {
		for _, a := range tc.AlertRuleTest {
			if len(a.ExpAlerts) > 0 {
				fires[a.Alertname]++
			} else {
				quiet[a.Alertname]++
			}
		}
	}
	alerts := map[string]bool{}
	for _, g := range rf.Groups {
		for _, rule := range g.Rules {
			if rule.Alert == "" {
				continue
			}
			alerts[rule.Alert] = true
			if fires[rule.Alert] == 0 {
				t.Errorf("alert %s: no test case where it fires", rule.Alert)
			}
			if quiet[rule.Alert] == 0 {
				t.Errorf("alert %s: no test case where it stays quiet", rule.Alert)
			}
		}
	}
	for name := range fires {
		if !alerts[name] {
			t.Errorf("%s tests alert %s, which the rules do not define", RulesTestFile, name)
		}
	}
	if len(alerts) < 20 {
		t.Errorf("only %d alerts found; is the rules file read correctly?", len(alerts))
	}
}

// Every alert carries a severity and on-call annotations, and every
// hikvision:threshold_* recording rule the alerts use is defined.
func TestAlertConventions(t *testing.T) {
	rf, err := readRules(root(t), RulesFile)
	if err != nil {
		t.Fatal(err)
	}
	thresholdRe := regexp.MustCompile(`hikvision:threshold_[a-z0-9_]+`)
	defined, used := map[string]bool{}, map[string]string{}
	for _, g := range rf.Groups {
		for _, rule := range g.Rules {
			if rule.Record != "" {
				defined[rule.Record] = true
				continue
			}
			switch rule.Labels["severity"] {
			case "critical", "warning", "info":
			default:
				t.Errorf("%s: severity %q, want critical, warning or info", rule.Alert, rule.Labels["severity"])
			}
			if rule.For == "" {
				t.Errorf("%s: no for: duration", rule.Alert)
			}
			for _, k := range []string{"summary", "description"} {
				if strings.TrimSpace(rule.Annotations[k]) == "" {
					t.Errorf("%s: no %s annotation", rule.Alert, k)
				}
			}
			if !strings.Contains(rule.Annotations["summary"]+rule.Annotations["description"], "$labels.instance") &&
				rule.Alert != "HikvisionNoProbeData" && rule.Alert != "HikvisionThresholdMissing" {
				t.Errorf("%s: annotations do not name the instance", rule.Alert)
			}
			for _, th := range thresholdRe.FindAllString(rule.Expr, -1) {
				used[th] = rule.Alert
			}
		}
	}
	for th, alert := range used {
		if !defined[th] {
			t.Errorf("%s uses %s, which no recording rule defines", alert, th)
		}
	}
	for th := range defined {
		if strings.HasPrefix(th, "hikvision:threshold_") && used[th] == "" {
			t.Errorf("threshold %s is defined but no alert uses it", th)
		}
	}
}

// Dashboards take their data source from a variable and never hard-code a
// data source UID.
func TestDashboardsDataSource(t *testing.T) {
	for _, f := range DashboardFiles {
		data := readRepoFile(t, f)
		var dash map[string]any
		dec := json.NewDecoder(bytes.NewReader(data))
		if err := dec.Decode(&dash); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if v, _ := dash["schemaVersion"].(float64); v < 36 {
			t.Errorf("%s: schemaVersion %v, want >= 36", f, dash["schemaVersion"])
		}
		if uid, _ := dash["uid"].(string); uid == "" {
			t.Errorf("%s: no uid", f)
		}
		vars := map[string]map[string]any{}
		tl, _ := dash["templating"].(map[string]any)
		list, _ := tl["list"].([]any)
		for _, item := range list {
			v, _ := item.(map[string]any)
			name, _ := v["name"].(string)
			vars[name] = v
		}
		if ds := vars["datasource"]; ds == nil || ds["type"] != "datasource" || ds["query"] != "prometheus" {
			t.Errorf("%s: want a datasource variable of type datasource, query prometheus; got %v", f, ds)
		}
		want := []string{"job"}
		if strings.Contains(f, "device") {
			want = append(want, "instance")
		}
		for _, name := range want {
			v := vars[name]
			q, _ := v["query"].(string)
			if v == nil || v["type"] != "query" || !strings.HasPrefix(q, "label_values(") {
				t.Errorf("%s: want a query variable %q from label_values; got %v", f, name, v)
			}
		}
		var walk func(v any, path string)
		walk = func(v any, path string) {
			switch v := v.(type) {
			case map[string]any:
				for k, c := range v {
					if k == "datasource" {
						if m, ok := c.(map[string]any); ok {
							uid, _ := m["uid"].(string)
							if uid != "${datasource}" && !(uid == "-- Grafana --" && m["type"] == "grafana") {
								t.Errorf("%s: %s.datasource: uid %q, want ${datasource}", f, path, uid)
							}
						} else if s, ok := c.(string); ok && s != "${datasource}" && s != "$datasource" {
							t.Errorf("%s: %s.datasource = %q, want ${datasource}", f, path, s)
						}
					}
					walk(c, path+"."+k)
				}
			case []any:
				for i, c := range v {
					walk(c, fmt.Sprintf("%s[%d]", path, i))
				}
			}
		}
		walk(dash, "")
	}
}

// The panels of a dashboard do not overlap and have unique ids.
func TestDashboardLayout(t *testing.T) {
	for _, f := range DashboardFiles {
		data := readRepoFile(t, f)
		var dash struct {
			Panels []panel `json:"panels"`
		}
		if err := json.Unmarshal(data, &dash); err != nil {
			t.Fatal(err)
		}
		ids := map[int]string{}
		cells := map[[2]int]string{}
		var visit func(ps []panel)
		visit = func(ps []panel) {
			for _, p := range ps {
				if other, dup := ids[p.ID]; dup {
					t.Errorf("%s: panels %q and %q share id %d", f, other, p.Title, p.ID)
				}
				ids[p.ID] = p.Title
				g := p.GridPos
				if g.W <= 0 || g.H <= 0 || g.X < 0 || g.X+g.W > 24 {
					t.Errorf("%s: panel %q: bad gridPos %+v", f, p.Title, g)
				}
				for x := g.X; x < g.X+g.W; x++ {
					for y := g.Y; y < g.Y+g.H; y++ {
						if other, taken := cells[[2]int{x, y}]; taken {
							t.Errorf("%s: panel %q overlaps %q", f, p.Title, other)
							return
						}
						cells[[2]int{x, y}] = p.Title
					}
				}
				visit(p.Panels)
			}
		}
		visit(dash.Panels)
	}
}

type panel struct {
	ID      int    `json:"id"`
	Title   string `json:"title"`
	GridPos struct {
		X, Y, W, H int
	} `json:"gridPos"`
	Panels []panel `json:"panels"`
}
