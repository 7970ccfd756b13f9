package deploy

import (
	"bytes"
	"fmt"
	"io"
	"log"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
)

// repoRoot is the exporter's module, the parent of this one.
const repoRoot = ".."

// buildDir is where exporterBinary put the binary, removed by TestMain.
var buildDir string

// exporterBinary builds the exporter once per test run, from the module
// above this one, and returns the binary's path.
var exporterBinary = sync.OnceValues(func() (string, error) {
	goCmd, err := exec.LookPath("go")
	if err != nil {
		return "", fmt.Errorf("the go command is not on PATH: %w", err)
	}
	mod, err := os.ReadFile(filepath.Join(repoRoot, "go.mod"))
	if err != nil {
		return "", err
	}
	if !bytes.Contains(mod, []byte("module github.com/hikvision-exporter/hikvision_exporter\n")) {
		return "", fmt.Errorf("%s is not the exporter's module", repoRoot)
	}
	dir, err := os.MkdirTemp("", "hikvision-deploy-test-")
	if err != nil {
		return "", err
	}
	buildDir = dir
	bin := filepath.Join(dir, "hikvision_exporter")
	cmd := exec.Command(goCmd, "build", "-o", bin, ".")
	cmd.Dir = repoRoot
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build -o %s . (in %s): %w\n%s", bin, repoRoot, err, out)
	}
	return bin, nil
})

// buildExporter returns the exporter binary's path, built for this run.
func buildExporter(t *testing.T) string {
	t.Helper()
	bin, err := exporterBinary()
	if err != nil {
		t.Fatal(err)
	}
	return bin
}

func TestMain(m *testing.M) {
	log.SetOutput(dropSymlinkNotice{os.Stderr})
	code := m.Run()
	if buildDir != "" {
		_ = os.RemoveAll(buildDir)
	}
	os.Exit(code)
}

// dropSymlinkNotice drops the line Helm's chart loader logs every time it
// follows the chart's symbolic link to the rule file, and passes the rest.
type dropSymlinkNotice struct{ w io.Writer }

func (d dropSymlinkNotice) Write(p []byte) (int, error) {
	if bytes.Contains(p, []byte("found symbolic link in path")) && bytes.Contains(p, []byte(chartRulesFile)) {
		return len(p), nil
	}
	return d.w.Write(p)
}

// tool returns the path of a program the tests need, and fails the test,
// never skipping it, when it is missing: the test is the only check of what
// it checks. `make deploy-test` installs the Debian packages when it can.
func tool(t *testing.T, name, pkg string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err != nil {
		t.Fatalf("%s is not on PATH (%v): install Debian's %s package (apt-get install -y %s), "+
			"or run `make deploy-test`, which does when apt-get is available", name, err, pkg, pkg)
	}
	return path
}
