package config

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Concurrency bounds for max_concurrent_requests: camera CPUs are weak, so
// more than riskyConcurrency requests in flight is a warning and more than
// maxConcurrency is refused.
const (
	riskyConcurrency = 16
	maxConcurrency   = 64
)

// fieldError is an error about one key of an entry; the key lets the loader
// find the line to report.
type fieldError struct {
	field string
	err   error
}

func (e *fieldError) Error() string { return e.field + ": " + e.err.Error() }
func (e *fieldError) Unwrap() error { return e.err }

func fieldErr(field string, err error) error { return &fieldError{field: field, err: err} }

func fieldf(field, format string, a ...any) error {
	return fieldErr(field, fmt.Errorf(format, a...))
}

// fieldOf returns the key an error is about, or "" when it names none.
func fieldOf(err error) string {
	var fe *fieldError
	if errors.As(err, &fe) {
		return fe.field
	}
	return ""
}

// validate applies defaults and checks everything, returning every error
// found (joined) so that one --config.check run shows them all.
func (c *Config) validate(lines *lineFinder, o *loadOptions) error {
	errs := c.validateModules(lines, o)
	errs = append(errs, c.validateDevices(lines)...)
	errs = append(errs, c.validateFirmware()...)
	return errors.Join(errs...)
}

func (c *Config) validateModules(lines *lineFinder, o *loadOptions) []error {
	if len(c.Modules) == 0 {
		return []error{errors.New("modules: at least one module is required")}
	}
	var errs []error
	for _, name := range slices.Sorted(maps.Keys(c.Modules)) {
		m := c.Modules[name]
		if m == nil {
			errs = append(errs, atLine(lines.line("modules", name), fmt.Errorf("modules.%s: empty module", name)))
			continue
		}
		modErrs := append(m.validate(), m.validateCollectors(o.collectors)...)
		if o.files {
			modErrs = append(modErrs, m.checkFiles()...)
		}
		for _, err := range modErrs {
			// A field may be nested, as tls_config.ca_file is.
			at := append([]string{"modules", name}, strings.Split(fieldOf(err), ".")...)
			errs = append(errs, atLine(lines.line(at...), fmt.Errorf("modules.%s.%w", name, err)))
		}
	}
	return errs
}

func (c *Config) validateDevices(lines *lineFinder) []error {
	var errs []error
	c.byName = make(map[string]*Device, len(c.Devices))
	c.byAddress = make(map[string]*Device, len(c.Devices))
	for i, d := range c.Devices {
		idx := strconv.Itoa(i)
		if d == nil {
			errs = append(errs, atLine(lines.line("devices", idx), fmt.Errorf("devices[%d]: empty entry", i)))
			continue
		}
		for _, err := range c.validateDevice(d) {
			errs = append(errs, atLine(lines.line("devices", idx, fieldOf(err)), fmt.Errorf("devices[%d] (%s): %w", i, d.Name, err)))
		}
	}
	return errs
}

// validateFirmware keeps the historical error texts, without lines: other
// packages compare them whole. The advisory package validates the entries;
// each of their errors is reported on its own, prefixed with the entry.
func (c *Config) validateFirmware() []error {
	var errs []error
	for i := range c.FirmwareAdvisories {
		for _, err := range unjoin(c.FirmwareAdvisories[i].Validate()) {
			errs = append(errs, fmt.Errorf("firmware_advisories[%d]: %w", i, err))
		}
	}
	for i := range c.FirmwareMinimums {
		for _, err := range unjoin(c.FirmwareMinimums[i].Validate()) {
			errs = append(errs, fmt.Errorf("firmware_minimums[%d]: %w", i, err))
		}
	}
	return errs
}

// unjoin splits an error made by errors.Join into the errors it joins.
func unjoin(err error) []error {
	if err == nil {
		return nil
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}

// validateDevice registers the device's name and address as soon as each is
// known to be good, so that later duplicates are reported even when this
// device has other errors.
func (c *Config) validateDevice(d *Device) []error {
	var errs []error
	if err := c.checkDeviceName(d.Name); err != nil {
		errs = append(errs, err)
	} else {
		c.byName[d.Name] = d
	}
	if d.Module == "" {
		d.Module = "default"
	}
	m := c.Modules[d.Module]
	if m == nil {
		errs = append(errs, fieldf("module", "unknown module %q", d.Module))
	}
	if err := c.checkDeviceAddress(d, m); err != nil {
		errs = append(errs, err)
	}
	for _, k := range slices.Sorted(maps.Keys(d.Labels)) {
		if !labelNameRE.MatchString(k) {
			errs = append(errs, fieldf("labels", "%q is not a valid label name", k))
		}
	}
	return errs
}

func (c *Config) checkDeviceName(name string) error {
	if name == "" {
		return fieldf("name", "required")
	}
	if strings.ContainsAny(name, " \t\r\n/?#&=") {
		return fieldf("name", "%q must not contain spaces or URL delimiters", name)
	}
	if _, dup := c.byName[name]; dup {
		return fieldf("name", "duplicate device name %q", name)
	}
	return nil
}

// checkDeviceAddress normalises the address with the module's scheme (for
// the default port). Without a known module the syntax is still checked, but
// the address is neither normalised nor registered.
func (c *Config) checkDeviceAddress(d *Device, m *Module) error {
	scheme := "https"
	if m != nil {
		scheme = m.Scheme
	}
	t, err := parseTarget(d.Address, scheme)
	if err != nil {
		return fieldErr("address", err)
	}
	if m == nil {
		return nil
	}
	d.Address = t.hostPort()
	if other, dup := c.byAddress[d.Address]; dup {
		return fieldf("address", "%s is already device %q", d.Address, other.Name)
	}
	c.byAddress[d.Address] = d
	return nil
}

// validate applies the module's defaults and returns all its errors, each
// naming its key.
func (m *Module) validate() []error {
	errs := m.validateLogin()
	errs = append(errs, m.applyDurations()...)
	errs = append(errs, m.applyLimits()...)
	if m.PasswordChangedAt != nil && m.PasswordChangedAt.After(time.Now().Add(24*time.Hour)) {
		errs = append(errs, fieldf("password_changed_at", "date is in the future"))
	}
	allowed, err := parseAllowList(m.AllowedTargets)
	if err != nil {
		errs = append(errs, fieldErr("allowed_targets", err))
	}
	m.allowed = allowed
	return errs
}

func (m *Module) validateLogin() []error {
	var errs []error
	if m.Username == "" {
		errs = append(errs, fieldf("username", "required"))
	}
	switch {
	case m.Password != "" && m.PasswordFile != "":
		errs = append(errs, fieldf("password", "set either password or password_file, not both"))
	case m.Password == "" && m.PasswordFile == "":
		errs = append(errs, fieldf("password", "one of password or password_file is required"))
	}
	switch m.Scheme {
	case "":
		m.Scheme = "https"
	case "http", "https":
	default:
		errs = append(errs, fieldf("scheme", "%q is not http or https", m.Scheme))
	}
	if err := m.TLSConfig.Validate(); err != nil {
		errs = append(errs, fieldErr("tls_config", err))
	}
	if m.AllowBasicAuth && m.Scheme != "https" {
		errs = append(errs, fieldf("allow_basic_auth", "Basic auth sends the password in clear and needs scheme https"))
	}
	return errs
}

func (m *Module) applyDurations() []error {
	var errs []error
	for _, d := range []struct {
		name string
		v    *Duration
		def  time.Duration
	}{
		{"timeout", &m.Timeout, DefaultTimeout},
		{"auth_backoff", &m.AuthBackoff, DefaultAuthBackoff},
		{"auth_backoff_max", &m.AuthBackoffMax, DefaultAuthBackoffMax},
		{"cache_ttl", &m.CacheTTL, DefaultCacheTTL},
		{"log_search_interval", &m.LogSearchInterval, DefaultLogSearchInterval},
		{"log_search_lookback", &m.LogSearchLookback, DefaultLogSearchLookback},
		{"min_probe_interval", &m.MinProbeInterval, 0}, // 0 stays 0: off
	} {
		if *d.v < 0 {
			errs = append(errs, fieldf(d.name, "must not be negative"))
		}
		if *d.v == 0 {
			*d.v = Duration(d.def)
		}
	}
	if m.AuthBackoffMax < m.AuthBackoff {
		errs = append(errs, fieldf("auth_backoff_max", "must be at least auth_backoff"))
	}
	return errs
}

func (m *Module) applyLimits() []error {
	var errs []error
	switch {
	case m.MaxConcurrentRequests < 0:
		errs = append(errs, fieldf("max_concurrent_requests", "must not be negative"))
	case m.MaxConcurrentRequests == 0:
		m.MaxConcurrentRequests = DefaultMaxConcurrentRequests
	case m.MaxConcurrentRequests > maxConcurrency:
		errs = append(errs, fieldf("max_concurrent_requests", "%d is above %d: camera CPUs are weak and so many requests in flight can stall a device",
			m.MaxConcurrentRequests, maxConcurrency))
	}
	if m.MaxResponseBytes < 0 {
		errs = append(errs, fieldf("max_response_bytes", "must not be negative"))
	}
	if m.MaxResponseBytes == 0 {
		m.MaxResponseBytes = DefaultMaxResponseBytes
	}
	return errs
}

// validateCollectors checks the names against known (when given); an
// empty list means every collector.
func (m *Module) validateCollectors(known []string) []error {
	var errs []error
	seen := map[string]bool{}
	for _, name := range m.Collectors {
		switch {
		case known != nil && !slices.Contains(known, name):
			errs = append(errs, fieldf("collectors", "unknown collector %q (known: %s)", name, strings.Join(known, ", ")))
		case seen[name]:
			errs = append(errs, fieldf("collectors", "%q listed twice", name))
		}
		seen[name] = true
	}
	return errs
}

// atLine prefixes the error with its line in the file, when known.
func atLine(line int, err error) error {
	if line <= 0 {
		return err
	}
	return fmt.Errorf("line %d: %w", line, err)
}

// lineFinder finds where an entry is in the file. It parses the document
// into a node tree only when there is an error to place, which keeps loading
// a valid file to one parse.
type lineFinder struct {
	src    []byte
	root   *yaml.Node
	parsed bool
}

// line returns the line of the deepest element of path (mapping keys and
// sequence indexes from the top) present in the document, 0 if none; an
// empty element ends the path.
func (f *lineFinder) line(path ...string) int {
	if f == nil {
		return 0
	}
	if !f.parsed {
		f.parsed = true
		var doc yaml.Node
		if yaml.Unmarshal(f.src, &doc) == nil && len(doc.Content) > 0 {
			f.root = doc.Content[0]
		}
	}
	line, n := 0, f.root
	for _, key := range path {
		if n == nil || key == "" {
			break
		}
		var at int
		n, at = childNode(n, key)
		if n != nil {
			line = at
		}
	}
	return line
}

// childNode returns a mapping's value for key (with the key's line) or a
// sequence's element at the index key.
func childNode(n *yaml.Node, key string) (*yaml.Node, int) {
	if n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	switch n.Kind {
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == key {
				return n.Content[i+1], n.Content[i].Line
			}
		}
	case yaml.SequenceNode:
		if i, err := strconv.Atoi(key); err == nil && i >= 0 && i < len(n.Content) {
			return n.Content[i], n.Content[i].Line
		}
	}
	return nil, 0
}
