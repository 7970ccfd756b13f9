// Package config holds the exporter's YAML schema: modules (credentials and
// collection profiles), devices, and firmware policy. It loads, defaults and
// validates a file, and redacts secrets whenever the config is printed.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	promconfig "github.com/prometheus/common/config"
	"gopkg.in/yaml.v3"

	"github.com/hikvision-exporter/hikvision_exporter/advisory"
	"github.com/hikvision-exporter/hikvision_exporter/isapi"
)

// Config is the whole configuration file.
type Config struct {
	Modules            map[string]*Module  `yaml:"modules"`
	Devices            []*Device           `yaml:"devices,omitempty"`
	FirmwareAdvisories []advisory.Advisory `yaml:"firmware_advisories,omitempty"`
	FirmwareMinimums   []advisory.Minimum  `yaml:"firmware_minimums,omitempty"`

	byName    map[string]*Device
	byAddress map[string]*Device
	warnings  []string
}

// Module is a collection profile: how to reach and log in to a device and what to collect.
type Module struct {
	Username       string               `yaml:"username"`
	Password       promconfig.Secret    `yaml:"password,omitempty"`
	PasswordFile   string               `yaml:"password_file,omitempty"`
	Scheme         string               `yaml:"scheme,omitempty"`
	TLSConfig      promconfig.TLSConfig `yaml:"tls_config,omitempty"`
	AllowBasicAuth bool                 `yaml:"allow_basic_auth,omitempty"`
	Timeout        Duration             `yaml:"timeout,omitempty"`
	Collectors     []string             `yaml:"collectors,omitempty"`
	AllowedTargets []string             `yaml:"allowed_targets,omitempty"`

	// Password age sources (see README "Password age").
	PasswordMaxAge    Duration `yaml:"password_max_age,omitempty"`
	PasswordChangedAt *Date    `yaml:"password_changed_at,omitempty"`

	// Lockout safety: after the device rejects the credentials, wait
	// AuthBackoff (doubling up to AuthBackoffMax) before trying again.
	AuthBackoff    Duration `yaml:"auth_backoff,omitempty"`
	AuthBackoffMax Duration `yaml:"auth_backoff_max,omitempty"`

	// Load on the device: requests in flight to one device, how long
	// slow-changing answers are reused, and how often the log is searched.
	MaxConcurrentRequests int      `yaml:"max_concurrent_requests,omitempty"`
	CacheTTL              Duration `yaml:"cache_ttl,omitempty"`
	LogSearchInterval     Duration `yaml:"log_search_interval,omitempty"`
	LogSearchLookback     Duration `yaml:"log_search_lookback,omitempty"`
	MaxResponseBytes      int64    `yaml:"max_response_bytes,omitempty"`
	// MinProbeInterval, when set, answers a probe that comes within it of
	// the start of the device's last collection (same device account,
	// credentials and module) with that collection's result instead of
	// asking the device again: an HA pair of Prometheus servers then costs
	// the device one collection per interval. 0 (the default) is off.
	MinProbeInterval Duration `yaml:"min_probe_interval,omitempty"`
	// CloseIdleConnections closes a device's connection once a probe and
	// its background refresh are done, instead of keeping it for the next
	// probe: nothing is held per device between probes (a third less
	// memory at 10,000 devices over HTTPS, BENCHMARKS.md), for one more
	// connection, and TLS handshake (resumed), per probe.
	CloseIdleConnections bool `yaml:"close_idle_connections,omitempty"`

	allowed allowList
}

// Device is one configured camera, NVR or DVR.
type Device struct {
	Name    string            `yaml:"name"`
	Address string            `yaml:"address"`
	Module  string            `yaml:"module,omitempty"`
	Labels  map[string]string `yaml:"labels,omitempty"`
}

var labelNameRE = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]*$`)

// Defaults, chosen for weak camera CPUs and the usual 30-minute device lock.
const (
	DefaultTimeout               = isapi.DefaultTimeout
	DefaultAuthBackoff           = 35 * time.Minute
	DefaultAuthBackoffMax        = 6 * time.Hour
	DefaultMaxConcurrentRequests = isapi.DefaultMaxConcurrent
	DefaultCacheTTL              = 5 * time.Minute
	DefaultLogSearchInterval     = 5 * time.Minute
	DefaultLogSearchLookback     = 24 * time.Hour
	DefaultMaxResponseBytes      = isapi.DefaultMaxBodyBytes
)

// Option changes how a configuration is loaded.
type Option func(*loadOptions)

type loadOptions struct {
	collectors []string // nil: collector names are not checked
	// files is set by Load: relative paths are resolved against baseDir and
	// the files the config names are checked. Parse checks the text alone,
	// so that a config can be tested without the files it names.
	files   bool
	baseDir string
}

// withFiles is Load's option: see loadOptions.files.
func withFiles(baseDir string) Option {
	return func(o *loadOptions) { o.files, o.baseDir = true, baseDir }
}

// WithCollectors checks every module's collectors against names, the
// collector registry's: the one list of posture areas (collector.Names).
func WithCollectors(names []string) Option {
	return func(o *loadOptions) { o.collectors = names }
}

// Load reads and validates a configuration file. Relative paths in it
// (password_file, tls_config's ca_file, cert_file and key_file) are taken
// from the file's directory, and every file it names must be readable: a
// missing file is refused at load and reload rather than failing every probe.
func Load(path string, opts ...Option) (*Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading config: %w", err)
	}
	dir, err := filepath.Abs(filepath.Dir(path))
	if err != nil {
		return nil, fmt.Errorf("config directory: %w", err)
	}
	c, err := Parse(b, append(slices.Clone(opts), withFiles(dir))...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return c, nil
}

// Parse decodes YAML strictly (unknown keys are errors), applies defaults and
// validates, reporting every validation error at once. No error it returns
// contains the value of a secret field: errors reach --config.check, the log
// and the /-/reload answer.
func Parse(b []byte, opts ...Option) (*Config, error) {
	var o loadOptions
	for _, opt := range opts {
		opt(&o)
	}
	c, err := parse(b, &o)
	if err != nil {
		return nil, scanSecrets(b).scrub(err)
	}
	return c, nil
}

func parse(b []byte, o *loadOptions) (*Config, error) {
	c := &Config{}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(c); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, errors.New("config is empty")
		}
		return nil, &decodeError{err}
	}
	if err := onlyOneDocument(dec); err != nil {
		return nil, &decodeError{err}
	}
	if o.files {
		c.resolvePaths(o.baseDir)
	}
	if err := c.validate(&lineFinder{src: b}, o); err != nil {
		return nil, err
	}
	c.warnings = c.riskWarnings()
	if len(c.warnings) > 0 {
		c.warnings = scanSecrets(b).scrubAll(c.warnings)
	}
	return c, nil
}

// onlyOneDocument refuses a second YAML document, which the decoder would
// otherwise silently ignore: an operator who appends one expects it to count.
// Empty trailing documents ("---" alone, or only comments) are harmless.
func onlyOneDocument(dec *yaml.Decoder) error {
	for {
		var doc yaml.Node
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		if !emptyDocument(&doc) {
			return fmt.Errorf("line %d: only one YAML document is allowed, a second one starts here", doc.Line)
		}
	}
}

func emptyDocument(doc *yaml.Node) bool {
	return len(doc.Content) == 0 ||
		len(doc.Content) == 1 && doc.Content[0].Kind == yaml.ScalarNode && doc.Content[0].Tag == "!!null"
}

// String renders the config as YAML with every secret shown as <secret>.
func (c *Config) String() string {
	b, err := yaml.Marshal(c)
	if err != nil {
		return fmt.Sprintf("# cannot render config: %v\n", err)
	}
	return string(b)
}

// Device returns the configured device with this name, or nil.
func (c *Config) Device(name string) *Device { return c.byName[name] }

// Enabled reports whether the module collects the named area.
// A module that lists no collectors runs every one.
func (m *Module) Enabled(collector string) bool {
	return len(m.Collectors) == 0 || slices.Contains(m.Collectors, collector)
}

// ReadPassword returns the module's password, reading password_file on every
// call so that a rotated password needs no restart or reload.
func (m *Module) ReadPassword() (string, error) {
	if m.PasswordFile == "" {
		return string(m.Password), nil
	}
	b, err := os.ReadFile(m.PasswordFile)
	if err != nil {
		// The path is configuration, not a secret; the content never appears.
		return "", fmt.Errorf("reading password_file: %w", err)
	}
	p := strings.TrimRight(string(b), "\r\n")
	if p == "" {
		return "", fmt.Errorf("password_file %s is empty", m.PasswordFile)
	}
	return p, nil
}

// Date is a calendar date or timestamp in YAML: 2026-01-31 or RFC 3339.
type Date struct{ time.Time }

// UnmarshalYAML accepts YYYY-MM-DD (midnight UTC) or an RFC 3339 timestamp.
func (d *Date) UnmarshalYAML(n *yaml.Node) error {
	for _, layout := range []string{"2006-01-02", time.RFC3339} {
		if t, err := time.Parse(layout, n.Value); err == nil {
			d.Time = t
			return nil
		}
	}
	// A TypeError lets the decoder go on and report every such error.
	return &yaml.TypeError{Errors: []string{fmt.Sprintf("line %d: %q is not a date (YYYY-MM-DD or RFC 3339)", n.Line, n.Value)}}
}

// MarshalYAML prints the date back in the short form when it is one.
func (d Date) MarshalYAML() (any, error) {
	if d.Equal(d.Truncate(24 * time.Hour)) {
		return d.Format("2006-01-02"), nil
	}
	return d.Format(time.RFC3339), nil
}
