package e2e

import (
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hikvision-exporter/hikvision_exporter/alerts"
	"github.com/hikvision-exporter/hikvision_exporter/internal/promtest"
)

// dashboardStates are the metrics whose panels show nothing on
// `hikvision_exporter --demo` as it is, because the state they show needs
// something the demo cannot have yet: why, and how the test brings the state
// about on the running demo, after checking everything else, to prove those
// panels too. The test fails when the plain demo does show one of them (the
// entry is stale) and when a panel shows nothing for any other reason.
var dashboardStates = map[string]struct{ why, how string }{
	"hikvision_password_age_seconds": {
		why: "the policy source needs password_max_age in the module; the demo's modules (simulator.Fleet.ConfigYAML) carry none. https-cam reports residualValidity 30",
		how: "password_max_age: 90d on https-cam's module, then POST /-/reload: age 60 days, under the 90-day alert threshold",
	},
	"hikvision_firmware_below_minimum": {
		why: "needs a firmware_minimums entry in the configuration; the demo's has none",
		how: "firmware_minimums: [{models: [DS-2CD2T86G2*], version: V5.7.0}], then POST /-/reload: hardened-cam (V5.7.18) is above it, 0",
	},
	"hikvision_account_unlock_timestamp_seconds": {
		why: "only while a device reports the exporter's account locked; a demo device locked from the start would stop the steady state of TestAlertsFireForWeakDeviceOnly (every device but wrong-password up)",
		how: "5 wrong logins sent straight to verified-dvr lock it for 30 minutes, as a password guesser would",
	},
}

// dashboardView is a dashboard with its variables set as a user would.
type dashboardView struct {
	file, name string
	values     map[string]string
	// nothing: the view selects no device; its device panels must show no
	// device and no count above 0.
	nothing bool
}

// panelQuery is one query of a dashboard: a panel target or a template
// variable's query.
type panelQuery struct {
	expr     alerts.Expr
	title    string // panel title or "variable <name>"
	instant  bool
	legend   string
	variable bool
}

// panelResult is what one query returned in one view.
type panelResult struct {
	series []map[string]string
	values []float64 // the last value of each series
	err    error
}

// TestDashboardPanelsShowDemoData runs every query of both dashboards (every
// panel target, every template variable) against a real Prometheus that
// scrapes `hikvision_exporter --demo` as examples/prometheus.yml says, with
// the shipped rules, and with the dashboard variables set as a user would:
// the fleet dashboard for all devices, for one device and for none, the
// device dashboard for each demo device. Time series panels run as range
// queries over the run, the others as instant queries. It fails when a
// query errors, when a fleet query returns nothing, when a device query
// returns nothing for every demo device, when a legend's {{label}} is not
// on every series the query returns, when a label of a `by (...)` clause is
// not on the metrics it aggregates, and when a fleet query does not
// restrict every device series to $job and $instance (the exporter's own
// series to $exporter_job and $exporter). Panels that need a state the demo
// lacks (dashboardStates) are proven after the state is brought about.
func TestDashboardPanelsShowDemoData(t *testing.T) {
	promtest.Tool(t, "prometheus")
	started := time.Now()
	root := repoRoot(t)
	exp := startExporter(t, "http", "--demo")
	devices := sdDevices(t, exp)

	dir := t.TempDir()
	cfg := pointAtExporter(t, "examples/prometheus.yml", readExample(t, "prometheus.yml"), exp.addr).(map[string]any)
	cfg["global"] = fastGlobal()
	cfg["rule_files"] = []any{filepath.Join(root, alerts.RulesFile)}
	scrapeJob(t, "examples/prometheus.yml", cfg, "hikvision")
	scrapeJob(t, "examples/prometheus.yml", cfg, "hikvision_exporter")
	writePrometheusConfig(t, dir, cfg)
	prom := startPrometheus(t, dir)
	promStarted := time.Now()

	queries := map[string][]panelQuery{}
	for _, f := range alerts.DashboardFiles {
		queries[f] = dashboardQueries(t, root, f, nil)
	}
	checkDashboardSelectors(t, queries)

	waitForDashboardData(t, prom, devices, started)
	views := dashboardViews(devices)

	run := func(views []dashboardView, only func(panelQuery) bool) map[string]map[string]panelResult {
		out := map[string]map[string]panelResult{} // query key -> view name -> result
		end := time.Now()
		for _, v := range views {
			for _, q := range dashboardQueries(t, root, v.file, v.values) {
				if only != nil && !only(q) {
					continue
				}
				k := queryKey(q)
				if out[k] == nil {
					out[k] = map[string]panelResult{}
				}
				out[k][v.name] = runPanelQuery(prom, q, promStarted, end)
			}
		}
		return out
	}
	results := run(views, nil)
	total := 0
	for _, f := range alerts.DashboardFiles {
		total += len(queries[f])
	}
	t.Logf("%d queries of %d dashboards in %d views, demo devices %s", total, len(alerts.DashboardFiles), len(views), strings.Join(devices, ", "))

	// Every query: no error, data, labels that exist.
	var empty []panelQuery
	for _, f := range alerts.DashboardFiles {
		for _, q := range queries[f] {
			res := results[queryKey(q)]
			if !checkPanelQuery(t, q, res, views) {
				empty = append(empty, q)
			}
		}
	}
	checkNothingSelected(t, queries, results, views)

	// What the plain demo cannot show.
	needed := map[string]bool{}
	for _, q := range empty {
		m := stateMetric(q)
		if m == "" {
			t.Errorf("%s: %s: returns nothing on the demo in every view (%s): %s",
				q.expr.File, describeQuery(q), strings.Join(viewNames(views, q.expr.File), "; "), q.expr.Raw)
			continue
		}
		needed[m] = true
	}
	for _, m := range sortedKeys(dashboardStates) {
		if !needed[m] {
			t.Errorf("dashboardStates lists %s, but every panel showing it has data on the plain demo: remove the entry", m)
		}
	}
	t.Logf("before the special states: %d of %d queries return nothing on the plain demo (%s)",
		len(empty), total, strings.Join(sortedKeys(needed), ", "))
	if t.Failed() || len(empty) == 0 {
		checkByLabels(t, prom, root, views, false)
		t.Logf("test took %s", time.Since(started).Round(time.Second))
		return
	}

	bringAboutDashboardStates(t, exp, prom)
	emptyKeys := map[string]bool{}
	for _, q := range empty {
		emptyKeys[queryKey(q)] = true
	}
	again := run(views, func(q panelQuery) bool { return emptyKeys[queryKey(q)] })
	for _, q := range empty {
		if !checkPanelQuery(t, q, again[queryKey(q)], views) {
			t.Errorf("%s: %s: still returns nothing with the state brought about (%s): %s",
				q.expr.File, describeQuery(q), dashboardStates[stateMetric(q)].how, q.expr.Raw)
		}
	}
	checkByLabels(t, prom, root, views, true)
	t.Logf("after the special states (%s): every query returns data; test took %s",
		strings.Join(sortedKeys(needed), ", "), time.Since(started).Round(time.Second))
}

// dashboardViews are the views the test looks through.
func dashboardViews(devices []string) []dashboardView {
	const fleet, device = "dashboards/hikvision-fleet.json", "dashboards/hikvision-device.json"
	exporter := map[string]string{"exporter_job": "hikvision_exporter", "exporter": ".*"}
	with := func(m map[string]string) map[string]string {
		out := map[string]string{}
		for k, v := range exporter {
			out[k] = v
		}
		for k, v := range m {
			out[k] = v
		}
		return out
	}
	views := []dashboardView{
		// "All" of a multi-value variable: the instance variable's allValue
		// is .*; the job variable has none, so Grafana sends the values.
		{file: fleet, name: "fleet, all devices", values: with(map[string]string{"job": "(hikvision)", "instance": ".*"})},
		{file: fleet, name: "fleet, weak-cam", values: with(map[string]string{"job": "(hikvision)", "instance": "(weak-cam)"})},
		{file: fleet, name: "fleet, no such device", values: with(map[string]string{"job": "(hikvision)", "instance": "(no-such-device)"}), nothing: true},
		{file: fleet, name: "fleet, no such job", values: with(map[string]string{"job": "(no-such-job)", "instance": ".*"}), nothing: true},
	}
	for _, d := range devices {
		views = append(views, dashboardView{file: device, name: "device " + d, values: map[string]string{"job": "hikvision", "instance": d}})
	}
	return views
}

func viewNames(views []dashboardView, file string) []string {
	var out []string
	for _, v := range views {
		if v.file == file && !v.nothing {
			out = append(out, v.name)
		}
	}
	return out
}

// dashboardQueries returns the queries of a dashboard with values for its
// variables, each with its panel target's settings.
func dashboardQueries(t *testing.T, root, file string, values map[string]string) []panelQuery {
	t.Helper()
	exprs, err := alerts.DashboardExpressionsWith(root, file, values)
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(root, file))
	if err != nil {
		t.Fatal(err)
	}
	var doc any
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	var out []panelQuery
	for _, e := range exprs {
		path, _, _ := strings.Cut(e.Location, " (")
		q := panelQuery{expr: e}
		if strings.HasPrefix(path, ".templating.") {
			v, _ := jsonAt(doc, path).(map[string]any)
			q.variable, q.instant, q.title = true, true, fmt.Sprintf("variable %v", v["name"])
			out = append(out, q)
			continue
		}
		target, ok := jsonAt(doc, strings.TrimSuffix(path, ".expr")).(map[string]any)
		if !ok {
			t.Fatalf("%s: %s: no query target at %s", file, e.Location, path)
		}
		q.legend, _ = target["legendFormat"].(string)
		q.instant, _ = target["instant"].(bool)
		if strings.HasPrefix(path, ".annotations.") {
			q.instant = false
		}
		if m := regexp.MustCompile(`\(panel "(.*)"\)$`).FindStringSubmatch(e.Location); m != nil {
			q.title = m[1]
		}
		if ref, _ := target["refId"].(string); ref != "" {
			q.title += " [" + ref + "]"
		}
		out = append(out, q)
	}
	return out
}

// jsonAt returns the value at a path such as .panels[3].targets[0].
func jsonAt(doc any, path string) any {
	cur := doc
	for _, m := range regexp.MustCompile(`\.([^.\[]+)|\[(\d+)\]`).FindAllStringSubmatch(path, -1) {
		switch {
		case m[1] != "":
			obj, _ := cur.(map[string]any)
			cur = obj[m[1]]
		default:
			arr, _ := cur.([]any)
			i, _ := strconv.Atoi(m[2])
			if i >= len(arr) {
				return nil
			}
			cur = arr[i]
		}
	}
	return cur
}

func queryKey(q panelQuery) string { return q.expr.File + " " + q.expr.Location }

func describeQuery(q panelQuery) string {
	if q.variable {
		return q.title
	}
	return fmt.Sprintf("panel %q", q.title)
}

// runPanelQuery runs a query as its panel does: an instant query, or a range
// query over the run.
func runPanelQuery(prom *process, q panelQuery, start, end time.Time) panelResult {
	var r panelResult
	if q.instant {
		var d struct {
			ResultType string          `json:"resultType"`
			Result     json.RawMessage `json:"result"`
		}
		if r.err = prometheusAPI(prom, "/api/v1/query?query="+url.QueryEscape(q.expr.PromQL), &d); r.err != nil {
			return r
		}
		switch d.ResultType {
		case "vector":
			var vec []querySample
			if r.err = json.Unmarshal(d.Result, &vec); r.err != nil {
				return r
			}
			for _, s := range vec {
				r.series = append(r.series, s.Metric)
				v, _ := strconv.ParseFloat(fmt.Sprint(s.Value[1]), 64)
				r.values = append(r.values, v)
			}
		case "scalar":
			var s [2]any
			_ = json.Unmarshal(d.Result, &s)
			v, _ := strconv.ParseFloat(fmt.Sprint(s[1]), 64)
			r.series, r.values = []map[string]string{{}}, []float64{v}
		default:
			r.err = fmt.Errorf("result type %s", d.ResultType)
		}
		return r
	}
	var d struct {
		Result []struct {
			Metric map[string]string `json:"metric"`
			Values [][2]any          `json:"values"`
		} `json:"result"`
	}
	step := max(end.Sub(start)/200, time.Second)
	params := url.Values{
		"query": {q.expr.PromQL},
		"start": {strconv.FormatInt(start.Unix(), 10)},
		"end":   {strconv.FormatInt(end.Unix(), 10)},
		"step":  {strconv.FormatFloat(step.Seconds(), 'f', 0, 64)},
	}
	if r.err = prometheusAPI(prom, "/api/v1/query_range?"+params.Encode(), &d); r.err != nil {
		return r
	}
	for _, s := range d.Result {
		r.series = append(r.series, s.Metric)
		var v float64
		if n := len(s.Values); n > 0 {
			v, _ = strconv.ParseFloat(fmt.Sprint(s.Values[n-1][1]), 64)
		}
		r.values = append(r.values, v)
	}
	return r
}

var legendLabelRE = regexp.MustCompile(`\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}`)

// checkPanelQuery reports errors and legend labels missing from a query's
// series, and returns whether the query returned data where it must: in the
// fleet view of all devices, or for at least one demo device.
func checkPanelQuery(t *testing.T, q panelQuery, res map[string]panelResult, views []dashboardView) bool {
	t.Helper()
	data := false
	for _, v := range views {
		r, ok := res[v.name]
		if !ok || v.file != q.expr.File {
			continue
		}
		if r.err != nil {
			t.Errorf("%s (%s): %s: %v\n    %s", q.expr.File, v.name, describeQuery(q), r.err, q.expr.PromQL)
			continue
		}
		if len(r.series) > 0 && !v.nothing && (strings.Contains(q.expr.File, "device") || v.name == "fleet, all devices") {
			data = true
		}
		for _, m := range legendLabelRE.FindAllStringSubmatch(q.legend, -1) {
			for _, s := range r.series {
				if s[m[1]] == "" {
					t.Errorf("%s (%s): %s: legend %q names %s, which the series %v lacks", q.expr.File, v.name, describeQuery(q), q.legend, m[1], s)
					break
				}
			}
		}
	}
	return data
}

// stateMetric returns the dashboardStates metric a query shows, if any.
func stateMetric(q panelQuery) string {
	for _, m := range metricSelectors(q.expr.Raw) {
		if _, ok := dashboardStates[m.name]; ok {
			return m.name
		}
	}
	return ""
}

// ---------------------------------------------------------------------------
// Static checks of the selectors and aggregations.

// selector is one metric selected in an expression, with its label matchers
// as written.
type selector struct {
	name, matchers string
}

var (
	promqlStringRE = regexp.MustCompile("\"(?:[^\"\\\\]|\\\\.)*\"|'(?:[^'\\\\]|\\\\.)*'|`[^`]*`")
	metricRefRE    = regexp.MustCompile(`\b(hikvision_[a-z0-9_]+|up)\b\s*(\{[^}]*\})?`)
	labelListRE    = regexp.MustCompile(`\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)`)
)

// metricSelectors returns the hikvision_* (and up) metrics an expression
// selects, with their matchers. Strings, label lists and recording-rule
// names (hikvision:...) are not selectors.
func metricSelectors(expr string) []selector {
	// Blank strings outside braces and label lists, keep the braces' text.
	var out []selector
	blanked := []byte(expr)
	for _, loc := range labelListRE.FindAllStringIndex(expr, -1) {
		for i := loc[0]; i < loc[1]; i++ {
			blanked[i] = ' '
		}
	}
	// Strings that are not inside braces (label_replace arguments).
	depth := 0
	for i := 0; i < len(blanked); i++ {
		switch c := blanked[i]; {
		case c == '{':
			depth++
		case c == '}':
			depth--
		case (c == '"' || c == '\'') && depth == 0:
			if loc := promqlStringRE.FindIndex(blanked[i:]); loc != nil && loc[0] == 0 {
				for j := i; j < i+loc[1]; j++ {
					blanked[j] = ' '
				}
				i += loc[1] - 1
			}
		}
	}
	s := string(blanked)
	for _, m := range metricRefRE.FindAllStringSubmatchIndex(s, -1) {
		if m[0] > 0 && (isIdentByte(s[m[0]-1]) || s[m[0]-1] == ':') {
			continue
		}
		name := s[m[2]:m[3]]
		if rest := strings.TrimLeft(s[m[3]:], " "); strings.HasPrefix(rest, "(") || strings.HasPrefix(rest, ":") {
			continue // a function, or a recording rule
		}
		var matchers string
		if m[4] >= 0 {
			matchers = s[m[4]:m[5]]
		}
		out = append(out, selector{name: name, matchers: matchers})
	}
	return out
}

func isIdentByte(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// checkDashboardSelectors checks that every selector of a fleet panel
// restricts device series to $job and $instance and the exporter's own to
// $exporter_job and $exporter, and every selector of a device panel to the
// one device.
func checkDashboardSelectors(t *testing.T, queries map[string][]panelQuery) {
	t.Helper()
	for file, qs := range queries {
		fleet := strings.Contains(file, "fleet")
		for _, q := range qs {
			if q.variable {
				continue
			}
			sels := metricSelectors(q.expr.Raw)
			if len(sels) == 0 {
				t.Errorf("%s: %s selects no hikvision_* metric: %s", file, describeQuery(q), q.expr.Raw)
			}
			for _, s := range sels {
				var want []string
				switch {
				case fleet && alerts.IsExporterMetric(s.name):
					want = []string{`job=~"$exporter_job"`, `instance=~"$exporter"`}
				case fleet:
					want = []string{`job=~"$job"`, `instance=~"$instance"`}
				default:
					want = []string{`job="$job"`, `instance="$instance"`}
				}
				for _, w := range want {
					if !strings.Contains(s.matchers, w) {
						t.Errorf("%s: %s: %s%s lacks %s: %s", file, describeQuery(q), s.name, s.matchers, w, q.expr.Raw)
					}
				}
			}
		}
	}
}

// aggregation is one `agg by (labels) (argument)` of an expression.
type aggregation struct {
	op       string
	labels   []string
	argument string
}

var aggByRE = regexp.MustCompile(`\b(sum|min|max|avg|group|count|stddev|stdvar|topk|bottomk|quantile|count_values)\s*(by|without)?\s*(\(([^()]*)\))?\s*\(`)

// aggregations returns the `by` aggregations of an expression, and an error
// for the forms the test cannot read (by after the argument).
func aggregations(expr string) ([]aggregation, error) {
	var out []aggregation
	for _, m := range aggByRE.FindAllStringSubmatchIndex(expr, -1) {
		open := m[1] - 1
		closeAt := matchingParen(expr, open)
		if closeAt < 0 {
			return nil, fmt.Errorf("unbalanced parentheses")
		}
		op := expr[m[2]:m[3]]
		if m[4] < 0 {
			// No grouping before the argument: grouping after it is not read.
			if rest := strings.TrimLeft(expr[closeAt+1:], " \n"); strings.HasPrefix(rest, "by") || strings.HasPrefix(rest, "without") {
				return nil, fmt.Errorf("%s(...) by (...): write the grouping before the argument", op)
			}
			continue
		}
		if expr[m[4]:m[5]] != "by" {
			continue
		}
		arg := expr[open+1 : closeAt]
		if op == "topk" || op == "bottomk" || op == "quantile" || op == "count_values" {
			if i := topLevelComma(arg); i >= 0 {
				arg = arg[i+1:]
			}
		}
		var labels []string
		for _, l := range strings.Split(expr[m[8]:m[9]], ",") {
			if l = strings.TrimSpace(l); l != "" {
				labels = append(labels, l)
			}
		}
		out = append(out, aggregation{op: op, labels: labels, argument: strings.TrimSpace(arg)})
	}
	return out, nil
}

// matchingParen returns the index of the parenthesis closing the one at
// open, skipping strings.
func matchingParen(s string, open int) int {
	depth := 0
	for i := open; i < len(s); i++ {
		switch s[i] {
		case '"', '\'', '`':
			if loc := promqlStringRE.FindStringIndex(s[i:]); loc != nil && loc[0] == 0 {
				i += loc[1] - 1
			}
		case '(':
			depth++
		case ')':
			depth--
			if depth == 0 {
				return i
			}
		}
	}
	return -1
}

func topLevelComma(s string) int {
	depth := 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '(', '{', '[':
			depth++
		case ')', '}', ']':
			depth--
		case ',':
			if depth == 0 {
				return i
			}
		}
	}
	return -1
}

var labelReplaceTargetRE = regexp.MustCompile(`label_replace\s*\([\s\S]*?,\s*"([A-Za-z_][A-Za-z0-9_]*)"`)

// checkByLabels checks that every label of a `by (...)` clause exists on a
// metric the aggregation reads (on some series of it in the demo's data),
// or is made by a label_replace inside it; and that where the aggregated
// expression returns series, some carry the label (labels a device does not
// send are empty, so not every series has each). Before the special states
// (withStates false), aggregations of their metrics alone are left out.
func checkByLabels(t *testing.T, prom *process, root string, views []dashboardView, withStates bool) {
	t.Helper()
	onMetric := map[string]bool{} // "metric label" -> exists in the demo's data
	labelOn := func(metric, label string) bool {
		k := metric + " " + label
		if v, ok := onMetric[k]; ok {
			return v
		}
		res, err := instantQuery(prom, fmt.Sprintf(`count(last_over_time(%s{%s!=""}[1h]))`, metric, label))
		onMetric[k] = err == nil && len(res) > 0
		return onMetric[k]
	}
	type finding struct {
		file, query, op, raw string
		labels               []string
		metrics              []string
		onMetric, made       bool
		series, labelled     bool // the argument returned series; some had the label
		example              map[string]string
	}
	found := map[string]*finding{} // query, aggregation, label
	var order []string
	for _, v := range views {
		if v.nothing {
			continue
		}
		for _, q := range dashboardQueries(t, root, v.file, v.values) {
			aggs, err := aggregations(q.expr.PromQL)
			if err != nil {
				t.Errorf("%s: %s: %v: %s", q.expr.File, describeQuery(q), err, q.expr.Raw)
				continue
			}
			for i, a := range aggs {
				sels := metricSelectors(a.argument)
				var names []string
				stateOnly := len(sels) > 0
				for _, s := range sels {
					names = append(names, s.name)
					_, state := dashboardStates[s.name]
					stateOnly = stateOnly && state
				}
				if stateOnly && !withStates {
					continue
				}
				made := map[string]bool{}
				for _, m := range labelReplaceTargetRE.FindAllStringSubmatch(a.argument, -1) {
					made[m[1]] = true
				}
				res, err := instantQuery(prom, a.argument) // fails for a range vector: the panel's query is run
				for _, l := range a.labels {
					key := fmt.Sprintf("%s %d %s", queryKey(q), i, l)
					f := found[key]
					if f == nil {
						f = &finding{file: q.expr.File, query: describeQuery(q), op: a.op, raw: q.expr.Raw, labels: a.labels, metrics: names, made: made[l]}
						for _, s := range sels {
							f.onMetric = f.onMetric || labelOn(s.name, l)
						}
						found[key] = f
						order = append(order, key)
					}
					if err != nil {
						continue
					}
					for _, s := range res {
						f.series = true
						if s.Metric[l] != "" {
							f.labelled = true
						} else if f.example == nil {
							f.example = s.Metric
						}
					}
				}
			}
		}
	}
	for _, key := range order {
		f := found[key]
		l := key[strings.LastIndex(key, " ")+1:]
		switch {
		case !f.onMetric && !f.made:
			t.Errorf("%s: %s: %s by (%s): no series of %s in the demo's data has the label %s: %s",
				f.file, f.query, f.op, strings.Join(f.labels, ", "), strings.Join(f.metrics, ", "), l, f.raw)
		case f.series && !f.labelled:
			t.Errorf("%s: %s: %s by (%s) aggregates series without %s in every view, e.g. %v: %s",
				f.file, f.query, f.op, strings.Join(f.labels, ", "), l, f.example, f.raw)
		}
	}
	if len(found) < 50 {
		t.Errorf("only %d by-labels found in the dashboards; the extraction is broken", len(found))
	}
}

// checkNothingSelected checks, in the views that select no device, that no
// device query shows a device or a count above zero: every device series of
// the fleet dashboard honours $job and $instance.
func checkNothingSelected(t *testing.T, queries map[string][]panelQuery, results map[string]map[string]panelResult, views []dashboardView) {
	t.Helper()
	for _, v := range views {
		if !v.nothing {
			continue
		}
		for _, q := range queries[v.file] {
			if q.variable {
				continue
			}
			device := false
			for _, s := range metricSelectors(q.expr.Raw) {
				device = device || !alerts.IsExporterMetric(s.name)
			}
			if !device {
				continue
			}
			r := results[queryKey(q)][v.name]
			for i, s := range r.series {
				if s["instance"] != "" || r.values[i] != 0 {
					t.Errorf("%s (%s): %s shows %v = %v although the variables select no device: %s",
						v.file, v.name, describeQuery(q), s, r.values[i], q.expr.Raw)
					break
				}
			}
		}
	}
}

// ---------------------------------------------------------------------------
// The demo's state.

// waitForDashboardData waits until Prometheus holds what the panels need:
// every target up, every device that accepts the exporter answering with
// every collector, its log read up to the exporter's start (the failed
// login panels) and a few samples of the counters (increase()), and the
// rules' thresholds evaluated.
func waitForDashboardData(t *testing.T, prom *process, devices []string, started time.Time) {
	t.Helper()
	checks := []struct{ query, why string }{
		{`hikvision_up == 0 unless on (job, instance) hikvision_auth_rejected == 1`, "every device that accepts the credentials must answer"},
		{`hikvision_scrape_collector_success != 1`, "every collector must succeed"},
		{fmt.Sprintf(`hikvision_up == 1 unless on (job, instance) hikvision_log_search_cursor_timestamp_seconds >= %d`, started.Add(-2*time.Second).Unix()),
			"every device log must be read up to the present"},
		{`hikvision_up == 1 unless on (job, instance) count_over_time(hikvision_login_failures_total[1h]) >= 3`,
			"increase() of the failed logins needs a few samples"},
		{`absent(hikvision:threshold_tls_certificate_expiry_seconds)`, "the rules must have been evaluated"},
		// The exporter's own job is scraped on its own schedule: its rate()
		// panels need two samples whatever the device scrapes have.
		{`absent(count_over_time(hikvision_exporter_probes_total[1h]) >= 3)`, "rate() of the exporter's own counters needs a few samples"},
	}
	eventually(t, "the demo's data for every panel", func() (bool, string, error) {
		ts, status, err := targetsStatus(prom)
		if err != nil {
			return false, "", err
		}
		byJob := targetsByJob(ts)
		if len(byJob["hikvision"]) != len(devices) || len(byJob["hikvision_exporter"]) != 1 {
			return false, status, nil
		}
		for _, tg := range ts.ActiveTargets {
			if tg.Health != "up" {
				return false, status, nil
			}
		}
		for _, c := range checks {
			res, err := instantQuery(prom, c.query)
			if err != nil {
				return false, status, err
			}
			if len(res) > 0 {
				var series []string
				for _, r := range res {
					series = append(series, fmt.Sprint(r.Metric))
				}
				return false, status + c.why + ": " + c.query + ": " + strings.Join(series, ", "), nil
			}
		}
		return true, "", nil
	})
}

// bringAboutDashboardStates brings about, on the running demo, the states
// of dashboardStates, and waits until Prometheus has the metrics.
func bringAboutDashboardStates(t *testing.T, exp *process, prom *process) {
	t.Helper()
	path := demoConfigPath(t, exp)
	cfg := readYAML(t, path)
	modules, _ := cfg["modules"].(map[string]any)
	devices, _ := cfg["devices"].([]any)
	address, module := map[string]string{}, map[string]string{}
	for _, d := range devices {
		d, _ := d.(map[string]any)
		address[fmt.Sprint(d["name"])] = fmt.Sprint(d["address"])
		module[fmt.Sprint(d["name"])] = fmt.Sprint(d["module"])
	}
	policy, _ := modules[module["https-cam"]].(map[string]any)
	if policy == nil || address["verified-dvr"] == "" {
		t.Fatalf("the demo configuration %s lacks https-cam or verified-dvr (devices: %v)", path, sortedKeys(address))
	}
	policy["password_max_age"] = "90d"
	cfg["firmware_minimums"] = []any{map[string]any{"models": []any{"DS-2CD2T86G2*"}, "version": "V5.7.0"}}
	writeYAML(t, path, cfg)
	if code, body := httpDo(t, http.MethodPost, exp.url("/-/reload")); code != http.StatusOK {
		t.Fatalf("POST /-/reload with password_max_age and firmware_minimums: HTTP %d %s", code, body)
	}

	// Lock verified-dvr: wrong logins straight to it.
	client := &http.Client{Timeout: 10 * time.Second}
	defer client.CloseIdleConnections()
	for i := range 5 {
		req, _ := http.NewRequest(http.MethodGet, "http://"+address["verified-dvr"]+"/ISAPI/Security/userCheck", nil)
		req.SetBasicAuth("exporter", "guess-"+strconv.Itoa(i))
		res, err := client.Do(req)
		if err != nil {
			t.Fatalf("wrong login %d to verified-dvr: %v", i+1, err)
		}
		res.Body.Close()
	}
	eventually(t, "the special states in Prometheus", func() (bool, string, error) {
		for _, q := range []string{
			`hikvision_password_age_seconds{instance="https-cam", source="policy"}`,
			`hikvision_firmware_below_minimum{instance="hardened-cam"}`,
			`hikvision_account_unlock_timestamp_seconds{instance="verified-dvr"}`,
		} {
			res, err := instantQuery(prom, q)
			if err != nil || len(res) == 0 {
				return false, "waiting for " + q, err
			}
		}
		return true, "", nil
	})
	res, err := instantQuery(prom, `hikvision_password_age_seconds{instance="https-cam"} / 86400`)
	if err != nil || len(res) != 1 || math.Abs(sampleValue(t, res[0])-60) > 1 {
		t.Errorf("https-cam: password age %v %v, want 60 days (90-day policy, 30 days left)", res, err)
	}
}
