package alerts

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
)

// Paths of the shipped rules and dashboards, relative to the repository root.
const (
	RulesFile     = "alerts/hikvision.rules.yml"
	RulesTestFile = "alerts/hikvision.rules_test.yml"
)

// DashboardFiles are the shipped Grafana dashboards, relative to the
// repository root.
var DashboardFiles = []string{
	"dashboards/hikvision-fleet.json",
	"dashboards/hikvision-device.json",
}

// Expr is one PromQL expression found in the rules file or in a dashboard.
type Expr struct {
	// File is the path of the file, relative to the repository root.
	File string
	// Location says where in the file the expression is, for error messages.
	Location string
	// Raw is the expression as written, Grafana variables included.
	Raw string
	// PromQL is Raw with every Grafana variable replaced by a valid
	// stand-in (see ExpandGrafanaVariables): something Prometheus can parse.
	PromQL string
}

// Root returns the repository root: the directory above the one holding this
// source file, or, when the binary was built with -trimpath, the nearest
// ancestor of the working directory that holds RulesFile.
func Root() (string, error) {
	if _, file, _, ok := runtime.Caller(0); ok && filepath.IsAbs(file) {
		root := filepath.Dir(filepath.Dir(file))
		if _, err := os.Stat(filepath.Join(root, RulesFile)); err == nil {
			return root, nil
		}
	}
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, RulesFile)); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("cannot find the repository root (a directory holding %s)", RulesFile)
		}
		dir = parent
	}
}

// Expressions returns every PromQL expression of the rules file and the
// dashboards under root.
func Expressions(root string) ([]Expr, error) {
	out, err := RuleExpressions(root, RulesFile)
	if err != nil {
		return nil, err
	}
	for _, f := range DashboardFiles {
		exprs, err := DashboardExpressions(root, f)
		if err != nil {
			return nil, err
		}
		out = append(out, exprs...)
	}
	return out, nil
}

// ruleFile is the part of a Prometheus rules file we read.
type ruleFile struct {
	Groups []struct {
		Name  string `yaml:"name"`
		Rules []struct {
			Record      string            `yaml:"record"`
			Alert       string            `yaml:"alert"`
			Expr        string            `yaml:"expr"`
			For         string            `yaml:"for"`
			Labels      map[string]string `yaml:"labels"`
			Annotations map[string]string `yaml:"annotations"`
		} `yaml:"rules"`
	} `yaml:"groups"`
}

func readRules(root, rel string) (*ruleFile, error) {
	data, err := os.ReadFile(filepath.Join(root, rel))
	if err != nil {
		return nil, err
	}
	var rf ruleFile
	if err := yaml.Unmarshal(data, &rf); err != nil {
		return nil, fmt.Errorf("%s: %w", rel, err)
	}
	return &rf, nil
}

func ruleName(record, alert string) string {
	if alert != "" {
		return "alert " + alert
	}
	return "record " + record
}

// RuleExpressions returns the expr of every rule in the rules file rel
// (relative to root).
func RuleExpressions(root, rel string) ([]Expr, error) {
	rf, err := readRules(root, rel)
	if err != nil {
		return nil, err
	}
	var out []Expr
	for _, g := range rf.Groups {
		for _, r := range g.Rules {
			out = append(out, Expr{
				File:     rel,
				Location: fmt.Sprintf("group %s, %s", g.Name, ruleName(r.Record, r.Alert)),
				Raw:      r.Expr,
				PromQL:   r.Expr,
			})
		}
	}
	return out, nil
}

// DashboardExpressions returns every PromQL expression of the Grafana
// dashboard rel (relative to root): the expr of every query target of every
// panel, including panels nested in (collapsed) rows, of annotations, and the
// PromQL inside query variables (label_values(<selector>, label),
// query_result(<expr>)).
func DashboardExpressions(root, rel string) ([]Expr, error) {
	data, err := os.ReadFile(filepath.Join(root, rel))
	if err != nil {
		return nil, err
	}
	return dashboardExpressions(rel, data, nil)
}

// DashboardExpressionsWith is DashboardExpressions with values for the
// dashboard's variables in PromQL (name to the text that replaces it, e.g.
// "instance": "weak-cam"), to run the panels' queries against a real
// Prometheus; variables without a value get their stand-ins.
func DashboardExpressionsWith(root, rel string, values map[string]string) ([]Expr, error) {
	data, err := os.ReadFile(filepath.Join(root, rel))
	if err != nil {
		return nil, err
	}
	return dashboardExpressions(rel, data, values)
}

func dashboardExpressions(rel string, data []byte, values map[string]string) ([]Expr, error) {
	var dash map[string]any
	if err := json.Unmarshal(data, &dash); err != nil {
		return nil, fmt.Errorf("%s: %w", rel, err)
	}
	vars := dashboardVariables(dash)
	var out []Expr
	var errs []error
	add := func(loc, raw string) {
		promql, err := expandGrafanaVariables(raw, vars, values)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %s: %w", rel, loc, err))
			return
		}
		out = append(out, Expr{File: rel, Location: loc, Raw: raw, PromQL: promql})
	}

	// Every "expr" string anywhere except under "templating": panel targets
	// at any nesting depth, annotation queries, library panel copies...
	var walk func(v any, path, title string)
	walk = func(v any, path, title string) {
		switch v := v.(type) {
		case map[string]any:
			if t, ok := v["title"].(string); ok && v["type"] != nil {
				title = t
			}
			keys := make([]string, 0, len(v))
			for k := range v {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				if path == "" && k == "templating" {
					continue
				}
				if e, ok := v[k].(string); ok && k == "expr" {
					add(fmt.Sprintf("%s (panel %q)", path+"."+k, title), e)
					continue
				}
				walk(v[k], path+"."+k, title)
			}
		case []any:
			for i, e := range v {
				walk(e, fmt.Sprintf("%s[%d]", path, i), title)
			}
		}
	}
	walk(dash, "", "")

	// Query variables.
	if tl, ok := dash["templating"].(map[string]any); ok {
		list, _ := tl["list"].([]any)
		for i, item := range list {
			v, _ := item.(map[string]any)
			if v == nil || v["type"] != "query" {
				continue
			}
			q := v["query"]
			if m, ok := q.(map[string]any); ok {
				q = m["query"]
			}
			qs, _ := q.(string)
			name, _ := v["name"].(string)
			loc := fmt.Sprintf(".templating.list[%d] (variable %q)", i, name)
			if expr, ok := variableQueryPromQL(qs); ok {
				add(loc, expr)
			}
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return out, nil
}

var (
	labelValuesRe = regexp.MustCompile(`^\s*label_values\(\s*(.+?)\s*,\s*[A-Za-z_][A-Za-z0-9_]*\s*\)\s*$`)
	queryResultRe = regexp.MustCompile(`^\s*query_result\(\s*(.+)\s*\)\s*$`)
)

// variableQueryPromQL extracts the PromQL part of a Grafana Prometheus
// variable query. label_values(label), label_names() and metrics(regex) hold
// none.
func variableQueryPromQL(q string) (string, bool) {
	if m := labelValuesRe.FindStringSubmatch(q); m != nil {
		return m[1], true
	}
	if m := queryResultRe.FindStringSubmatch(q); m != nil {
		return m[1], true
	}
	return "", false
}

// dashboardVariables returns the dashboard's template variables, name to
// type (query, custom, interval, ...).
func dashboardVariables(dash map[string]any) map[string]string {
	vars := map[string]string{}
	tl, _ := dash["templating"].(map[string]any)
	list, _ := tl["list"].([]any)
	for _, item := range list {
		v, _ := item.(map[string]any)
		name, _ := v["name"].(string)
		typ, _ := v["type"].(string)
		if name != "" {
			vars[name] = typ
		}
	}
	return vars
}

// builtinStandIns replace Grafana's global variables.
var builtinStandIns = map[string]string{
	"__rate_interval":    "5m",
	"__interval":         "1m",
	"__range":            "1h",
	"__range_s":          "3600",
	"__range_ms":         "3600000",
	"__interval_ms":      "60000",
	"__rate_interval_ms": "300000",
}

var grafanaVarRe = regexp.MustCompile(`\$\{([A-Za-z0-9_]+)(?::[^}]*)?\}|\$([A-Za-z0-9_]+)|\[\[([A-Za-z0-9_]+)(?::[^\]]*)?\]\]`)

// ExpandGrafanaVariables replaces Grafana variables ($v, ${v}, ${v:format},
// [[v]]) in expr with stand-ins Prometheus can parse: durations for
// $__rate_interval, $__interval and $__range, numbers for their _s/_ms
// forms, "5m" for interval variables and the string "standin" for the other
// dashboard variables (which appear inside label matchers). vars maps the
// dashboard's variable names to their types; an unknown variable is an error.
func ExpandGrafanaVariables(expr string, vars map[string]string) (string, error) {
	return expandGrafanaVariables(expr, vars, nil)
}

// expandGrafanaVariables is ExpandGrafanaVariables with values for some
// dashboard variables, which win over their stand-ins.
func expandGrafanaVariables(expr string, vars, values map[string]string) (string, error) {
	var unknown []string
	out := grafanaVarRe.ReplaceAllStringFunc(expr, func(m string) string {
		sub := grafanaVarRe.FindStringSubmatch(m)
		name := sub[1] + sub[2] + sub[3]
		if v, ok := builtinStandIns[name]; ok {
			return v
		}
		typ, ok := vars[name]
		value, valued := values[name]
		switch {
		case !ok:
			unknown = append(unknown, m)
			return m
		case valued:
			return value
		case typ == "interval":
			return "5m"
		default:
			return "standin"
		}
	})
	if len(unknown) > 0 {
		return "", fmt.Errorf("unknown Grafana variable %s in %q", strings.Join(unknown, ", "), expr)
	}
	return out, nil
}

var (
	metricNameRe = regexp.MustCompile(`hikvision_[A-Za-z0-9_]*`)
	// Double-quoted, single-quoted and backtick PromQL strings, and comments.
	promqlStringOrCommentRe = regexp.MustCompile("\"(?:[^\"\\\\]|\\\\.)*\"|'(?:[^'\\\\]|\\\\.)*'|`[^`]*`|#[^\n]*")
	// Label matchers and label lists, which hold label names, not metric names.
	promqlLabelsRe = regexp.MustCompile(`\{[^}]*\}|\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)`)
)

// metricNamesInPromQL returns the hikvision_* metric names an expression
// selects. String literals (label values, label_replace arguments),
// comments, label names and recording-rule names such as
// hikvision:threshold_* are ignored.
func metricNamesInPromQL(expr string) []string {
	blank := func(s string) string { return strings.Repeat(" ", len(s)) }
	clean := promqlStringOrCommentRe.ReplaceAllStringFunc(expr, blank)
	clean = promqlLabelsRe.ReplaceAllStringFunc(clean, blank)
	var names []string
	for _, loc := range metricNameRe.FindAllStringIndex(clean, -1) {
		if loc[0] > 0 && isIdentChar(clean[loc[0]-1]) {
			continue // part of a longer identifier
		}
		if loc[1] < len(clean) && clean[loc[1]] == ':' {
			continue // a recording-rule name
		}
		names = append(names, clean[loc[0]:loc[1]])
	}
	return names
}

func isIdentChar(c byte) bool {
	return c == '_' || c == ':' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// MetricNames returns every hikvision_* metric name the shipped rules and
// dashboards reference, each with the places that reference it
// ("<file>: <location>"). Names mentioned in alert annotations (which tell
// the on-call which metric to look at) are included. Exporter self metrics
// (IsExporterMetric) are served on /metrics, every other name on /probe.
func MetricNames() (map[string][]string, error) {
	root, err := Root()
	if err != nil {
		return nil, err
	}
	return MetricNamesIn(root)
}

// MetricNamesIn is MetricNames for the repository at root.
func MetricNamesIn(root string) (map[string][]string, error) {
	exprs, err := Expressions(root)
	if err != nil {
		return nil, err
	}
	out := map[string][]string{}
	add := func(name, where string) {
		for _, w := range out[name] {
			if w == where {
				return
			}
		}
		out[name] = append(out[name], where)
	}
	for _, e := range exprs {
		for _, n := range metricNamesInPromQL(e.PromQL) {
			add(n, e.File+": "+e.Location)
		}
	}
	rf, err := readRules(root, RulesFile)
	if err != nil {
		return nil, err
	}
	for _, g := range rf.Groups {
		for _, r := range g.Rules {
			keys := make([]string, 0, len(r.Annotations))
			for k := range r.Annotations {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				for _, n := range metricNameRe.FindAllString(r.Annotations[k], -1) {
					if n == "hikvision_exporter" {
						continue // the program's name, not a metric
					}
					add(n, fmt.Sprintf("%s: group %s, %s, annotation %s", RulesFile, g.Name, ruleName(r.Record, r.Alert), k))
				}
			}
		}
	}
	return out, nil
}

// IsExporterMetric reports whether name is one of the exporter's own metrics
// (served on /metrics) rather than a device metric (served on /probe).
func IsExporterMetric(name string) bool {
	return strings.HasPrefix(name, "hikvision_exporter_")
}
