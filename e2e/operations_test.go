package e2e

// Operating the exporter day to day: the build metadata it reports, the
// configuration the Docker image starts with, the landing page's links,
// and the flags and parameters operators type.

import (
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/hikvision-exporter/hikvision_exporter/internal/promtest"
)

// versionLineRE matches the first line of --version.
var versionLineRE = regexp.MustCompile(`^hikvision_exporter, version (\S*) \(branch: (\S*), revision: (\S*)\)$`)

// TestBuildMetadata: the binary, built as `make build` builds it, reports
// the release from VERSION with its revision, branch, build user and date,
// in --version and in hikvision_exporter_build_info.
func TestBuildMetadata(t *testing.T) {
	root := repoRoot(t)
	b, err := os.ReadFile(filepath.Join(root, "VERSION"))
	if err != nil {
		t.Fatal(err)
	}
	release := strings.TrimSpace(string(b))
	out, err := exec.Command(exporterBinary(t), "--version").CombinedOutput()
	if err != nil {
		t.Fatalf("--version: %v\n%s", err, out)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	m := versionLineRE.FindStringSubmatch(lines[0])
	if m == nil {
		t.Fatalf("--version: first line %q does not match %s", lines[0], versionLineRE)
	}
	version, branch, revision := m[1], m[2], m[3]
	if version != release {
		t.Errorf("--version: version %q, want %q from VERSION", version, release)
	}
	if branch == "" {
		t.Errorf("--version: empty branch\n%s", out)
	}
	if _, err := os.Stat(filepath.Join(root, ".git")); err == nil && !regexp.MustCompile(`^[0-9a-f]{40}$`).MatchString(revision) {
		t.Errorf("--version: revision %q in a git checkout, want the commit", revision)
	}
	fields := map[string]*regexp.Regexp{
		"build user": regexp.MustCompile(`^\S+@\S+$`),
		"build date": regexp.MustCompile(`^\d{8}-\d{2}:\d{2}:\d{2}$`),
	}
	for _, l := range lines[1:] {
		k, v, _ := strings.Cut(strings.TrimSpace(l), ":")
		if re := fields[k]; re != nil {
			if v = strings.TrimSpace(v); !re.MatchString(v) {
				t.Errorf("--version: %s %q does not match %s", k, v, re)
			}
			delete(fields, k)
		}
	}
	for k := range fields {
		t.Errorf("--version: no %s line\n%s", k, out)
	}

	e := startExporter(t, "http", "--demo")
	fams := parseExposition(t, "/metrics", mustGet(t, e.url("/metrics")))
	if _, ok := seriesValue(fams, "hikvision_exporter_build_info", map[string]string{"version": release, "revision": revision, "branch": branch}); !ok {
		t.Errorf("/metrics: no hikvision_exporter_build_info{version=%q, revision=%q, branch=%q}: %v", release, revision, branch, fams["hikvision_exporter_build_info"])
	}
}

// TestDockerImageConfig: the configuration the Dockerfile installs as the
// live one has no devices (config.example.yml's are fictitious), passes
// --config.check once the password file the image documents is mounted,
// and names that file when it is not. Docker itself does not run here; the
// files it would use are checked instead.
func TestDockerImageConfig(t *testing.T) {
	root := repoRoot(t)
	dockerfile, err := os.ReadFile(filepath.Join(root, "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	const live = "/etc/hikvision_exporter/hikvision.yml"
	m := regexp.MustCompile(`(?m)^COPY\s+(\S+)\s+` + regexp.QuoteMeta(live) + `\s*$`).FindStringSubmatch(string(dockerfile))
	if m == nil {
		t.Fatalf("Dockerfile copies nothing to %s", live)
	}
	if strings.Contains(string(dockerfile), "COPY config.example.yml") {
		t.Error("Dockerfile copies config.example.yml, whose devices are fictitious")
	}
	if !strings.Contains(string(dockerfile), "--config.file="+live) {
		t.Errorf("Dockerfile does not start the exporter on %s", live)
	}
	if !strings.Contains(string(dockerfile), "make build") {
		t.Error("Dockerfile does not build with `make build` (the build metadata)")
	}
	src, err := os.ReadFile(filepath.Join(root, m[1]))
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Devices []any `yaml:"devices"`
	}
	if err := yaml.Unmarshal(src, &doc); err != nil || len(doc.Devices) != 0 {
		t.Errorf("%s: %d devices (%v), want none", m[1], len(doc.Devices), err)
	}
	// The image's /etc/hikvision_exporter/ is a temporary directory here.
	dir := t.TempDir()
	cfg := filepath.Join(dir, "hikvision.yml")
	if err := os.WriteFile(cfg, []byte(strings.ReplaceAll(string(src), "/etc/hikvision_exporter/", dir+"/")), 0o600); err != nil {
		t.Fatal(err)
	}
	bin := exporterBinary(t)
	out, err := exec.Command(bin, "--config.check", "--config.file="+cfg).CombinedOutput()
	if err == nil || !strings.Contains(string(out), "modules.default.password_file: cannot read: open "+filepath.Join(dir, "password")) {
		t.Errorf("%s without the password file: %v\n%s", m[1], err, out)
	}
	if err := os.WriteFile(filepath.Join(dir, "password"), []byte("x\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(bin, "--config.check", "--config.file="+cfg).Output(); err != nil || strings.TrimSpace(string(out)) != "OK" {
		t.Errorf("%s with the password file: %v %q", m[1], err, out)
	}
	checkDockerignore(t, root)
}

// checkDockerignore: the build context leaves out the history, state and
// build output, and keeps what the Dockerfile uses.
func checkDockerignore(t *testing.T, root string) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, ".dockerignore"))
	if err != nil {
		t.Fatal(err)
	}
	patterns := map[string]bool{}
	for _, l := range strings.Split(string(b), "\n") {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "#") {
			patterns[strings.TrimSuffix(l, "/")] = true
		}
	}
	for _, p := range []string{".git", "data", "hikvision_exporter", "**/*.test"} {
		if !patterns[p] {
			t.Errorf(".dockerignore does not exclude %s", p)
		}
	}
	for _, p := range []string{"examples", "VERSION", "Makefile", "go.mod", "*.yml"} {
		if patterns[p] {
			t.Errorf(".dockerignore excludes %s, which the image build needs", p)
		}
	}
}

// hrefRE finds the links of the landing page.
var hrefRE = regexp.MustCompile(`href="([^"]*)"`)

// TestLandingPageLinksAnswer200: every link of the landing page works,
// with profiling off (the default: no profiling links) and on.
func TestLandingPageLinksAnswer200(t *testing.T) {
	for _, pprof := range []bool{false, true} {
		args := []string{"--demo"}
		if pprof {
			args = append(args, "--web.enable-pprof")
		}
		e := startExporter(t, "http", args...)
		page := string(mustGet(t, e.url("/")))
		var links []string
		for _, m := range hrefRE.FindAllStringSubmatch(page, -1) {
			if strings.Contains(m[1], "://") {
				t.Logf("not following the external link %s (tests reach loopback only)", m[1])
				continue
			}
			links = append(links, m[1])
		}
		hasPprof := strings.Contains(page, "debug/pprof")
		if hasPprof != pprof {
			t.Errorf("--web.enable-pprof=%v: the landing page links to /debug/pprof: %v", pprof, hasPprof)
		}
		if len(links) < 3 {
			t.Fatalf("only %d links on the landing page:\n%s", len(links), page)
		}
		for _, l := range links {
			// The CPU profile link asks for 60 seconds; one proves the same.
			u := strings.Replace(l, "seconds=60", "seconds=1", 1)
			if code, body := e.get(t, u); code != http.StatusOK {
				t.Errorf("--web.enable-pprof=%v: landing page link %s: HTTP %d %.200s", pprof, l, code, body)
			}
		}
	}
}

// TestProbeRefusesUnknownModule: module= naming no module is a 400 even for
// a configured device; a known module leaves the device its own.
func TestProbeRefusesUnknownModule(t *testing.T) {
	e := startExporter(t, "http", "--demo")
	if code, body := e.get(t, "/probe?target=hardened-cam&module=nope"); code != http.StatusBadRequest || !strings.Contains(body, `unknown module "nope"`) {
		t.Errorf("configured device, unknown module: HTTP %d %q", code, body)
	}
	if code, body := e.get(t, "/probe?target=hardened-cam&module=weak-cam"); code != http.StatusOK || !promtest.HasLine(body, "hikvision_up 1") {
		t.Errorf("configured device, another known module: HTTP %d\n%s", code, body)
	}
}

// TestTimeoutOffsetInSeconds: --timeout-offset=0.25 (plain seconds) is
// accepted and subtracted from Prometheus' scrape timeout.
func TestTimeoutOffsetInSeconds(t *testing.T) {
	e := startExporter(t, "http", "--demo", "--timeout-offset=0.25")
	req, err := http.NewRequest(http.MethodGet, e.url("/probe?target=hardened-cam"), nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-Prometheus-Scrape-Timeout-Seconds", "5")
	res, err := httpClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	fams := parseExposition(t, "/probe", body)
	if v, ok := seriesValue(fams, "hikvision_probe_timeout_seconds", nil); !ok || v != 4.75 {
		t.Errorf("hikvision_probe_timeout_seconds = %v (found %v), want 5 - 0.25", v, ok)
	}
}
