package alerts

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/hikvision-exporter/hikvision_exporter/internal/promtest"
)

// root is the repository root.
func root(t *testing.T) string {
	t.Helper()
	r, err := Root()
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// runPromtool runs promtool with args in dir and returns its combined output.
func runPromtool(t *testing.T, dir string, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command(promtest.Tool(t, "promtool"), args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// wantPromtoolSuccess runs promtool with args in dir and fails the test
// unless it succeeds and reports SUCCESS.
func wantPromtoolSuccess(t *testing.T, dir string, args ...string) {
	t.Helper()
	out, err := runPromtool(t, dir, args...)
	if err != nil {
		t.Fatalf("promtool %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	if !strings.Contains(out, "SUCCESS") {
		t.Fatalf("promtool %s did not report SUCCESS:\n%s", strings.Join(args, " "), out)
	}
}

// readRepoFile reads the file at rel, relative to the repository root.
func readRepoFile(t *testing.T, rel string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(root(t), rel))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

var checkRecordRe = regexp.MustCompile(`"(extracted_expr_\d+)"`)

// checkExpressions writes exprs (their PromQL form) as recording rules of a
// temporary rules file and runs `promtool check rules` on it, so that
// Prometheus' own parser validates each one. The error names the file and
// location of every expression promtool rejected.
func checkExpressions(t *testing.T, exprs []Expr) error {
	t.Helper()
	if len(exprs) == 0 {
		return fmt.Errorf("no expressions to check")
	}
	type rule struct {
		Record string `yaml:"record"`
		Expr   string `yaml:"expr"`
	}
	type group struct {
		Name  string `yaml:"name"`
		Rules []rule `yaml:"rules"`
	}
	byRecord := map[string]Expr{}
	g := group{Name: "extracted"}
	for i, e := range exprs {
		name := fmt.Sprintf("extracted_expr_%04d", i+1)
		byRecord[name] = e
		g.Rules = append(g.Rules, rule{Record: name, Expr: e.PromQL})
	}
	data, err := yaml.Marshal(map[string][]group{"groups": {g}})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "extracted.rules.yml"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := runPromtool(t, dir, "check", "rules", "extracted.rules.yml")
	if err == nil {
		if want := fmt.Sprintf("SUCCESS: %d rules found", len(exprs)); !strings.Contains(out, want) {
			return fmt.Errorf("promtool check rules: want %q in its output, got:\n%s", want, out)
		}
		return nil
	}
	var msgs []string
	for _, line := range strings.Split(out, "\n") {
		m := checkRecordRe.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		e := byRecord[m[1]]
		msgs = append(msgs, fmt.Sprintf("%s: %s: %s\n    expr: %s", e.File, e.Location, line, e.Raw))
	}
	if len(msgs) == 0 {
		return fmt.Errorf("promtool check rules failed: %w\n%s", err, out)
	}
	return fmt.Errorf("promtool rejected %d expression(s):\n%s", len(msgs), strings.Join(msgs, "\n"))
}
