// Package advisory judges a device's firmware against known vulnerabilities
// (advisories) and against the minimum versions the operator accepts, from
// deviceInfo alone: model, deviceType, firmwareVersion and the build date of
// firmwareReleasedDate. Nothing here sends a request. See ADVISORIES.md for
// the built-in table, the reasoning behind each model pattern and how the
// configuration extends it.
//
// The types are the configuration's firmware_advisories and
// firmware_minimums entries; the package imports nothing of the exporter.
package advisory

import (
	"errors"
	"fmt"
	"path"
	"slices"
	"strings"
)

// Advisory marks firmware as vulnerable: models matching a pattern (or
// devices of a listed deviceType) whose firmware version and build fall
// inside the given inclusive ranges. An empty bound is open.
type Advisory struct {
	ID     string   `yaml:"id"` // e.g. CVE-2017-7921
	Models []string `yaml:"models,omitempty"`
	// DeviceTypes lists deviceInfo deviceType values (IPCamera, IPDome, ...)
	// the advisory covers whatever the model; compared case-insensitively.
	DeviceTypes []string `yaml:"device_types,omitempty"`
	// Inclusive firmware version range, e.g. V5.2.0 .. V5.4.0.
	MinVersion string `yaml:"min_version,omitempty"`
	MaxVersion string `yaml:"max_version,omitempty"`
	// Inclusive build date range, YYMMDD as in "build 140721".
	MinBuild string `yaml:"min_build,omitempty"`
	MaxBuild string `yaml:"max_build,omitempty"`
	URL      string `yaml:"url,omitempty"`
	Note     string `yaml:"note,omitempty"`
}

// Minimum is the oldest firmware version the operator accepts for models
// matching a pattern (a firmware_minimums entry).
type Minimum struct {
	Models  []string `yaml:"models"`
	Version string   `yaml:"version"`
}

// Device is what matching reads of a device's deviceInfo.
type Device struct {
	Model      string
	DeviceType string
	// FirmwareVersion as the device reports it ("V5.4.0", "V5.3.0 build
	// 150410"); only its numeric head is compared.
	FirmwareVersion string
	// Build is the YYMMDD build date of firmwareReleasedDate, or "" when the
	// device reports none or it is not a real date.
	Build string
}

// Verdict is the judgement on one advisory id for one device.
type Verdict struct {
	ID         string
	Vulnerable bool
}

// validBuild reports whether s is a build date of six digits, YYMMDD.
func validBuild(s string) bool {
	if len(s) != 6 {
		return false
	}
	for i := range len(s) {
		if !isDigit(s[i]) {
			return false
		}
	}
	return true
}

func validModels(models []string) error {
	if len(models) == 0 {
		return errors.New("models: at least one model pattern is required")
	}
	for _, m := range models {
		if _, err := path.Match(strings.ToUpper(m), ""); err != nil || m == "" {
			return fmt.Errorf("models: bad pattern %q", m)
		}
	}
	return nil
}

// Validate returns every error of the advisory joined with errors.Join, so
// that a caller can take them one by one (Unwrap() []error) and prefix each;
// nil when it is valid. Each error names the advisory by ID when it has one
// ("CVE-1: needs at least one version or build bound").
func (a *Advisory) Validate() error {
	if a.ID == "" {
		return errors.Join(errors.New("id: required"))
	}
	var errs []error
	add := func(err error) { errs = append(errs, fmt.Errorf("%s: %w", a.ID, err)) }
	if len(a.Models) > 0 || len(a.DeviceTypes) == 0 {
		if err := validModels(a.Models); err != nil {
			add(err)
		}
	}
	for _, t := range a.DeviceTypes {
		if strings.TrimSpace(t) == "" {
			add(errors.New("device_types: empty entry"))
			break // one report for any number of empty entries
		}
	}
	for _, v := range []struct{ name, val string }{{"min_version", a.MinVersion}, {"max_version", a.MaxVersion}} {
		if v.val != "" && !validVersion(v.val) {
			add(fmt.Errorf("%s: %q is not a version like V5.4.0", v.name, v.val))
		}
	}
	for _, b := range []struct{ name, val string }{{"min_build", a.MinBuild}, {"max_build", a.MaxBuild}} {
		if b.val != "" && !validBuild(b.val) {
			add(fmt.Errorf("%s: %q is not a build date YYMMDD", b.name, b.val))
		}
	}
	if a.MinVersion == "" && a.MaxVersion == "" && a.MinBuild == "" && a.MaxBuild == "" {
		add(errors.New("needs at least one version or build bound"))
	}
	return errors.Join(errs...)
}

// Validate returns every error of the minimum joined with errors.Join, like
// Advisory.Validate; nil when it is valid.
func (m *Minimum) Validate() error {
	var errs []error
	if err := validModels(m.Models); err != nil {
		errs = append(errs, err)
	}
	if !validVersion(m.Version) {
		errs = append(errs, fmt.Errorf("version: %q is not a version like V5.7.18", m.Version))
	}
	return errors.Join(errs...)
}

// MatchModel reports whether a device model matches any of the patterns
// (shell-style, case-insensitive). Unlike path.Match, "*" and "?" also match
// "/": models such as DS-2CD2346G2-ISU/SL and DS-7608NXI-I2/8P/S contain it,
// and "DS-2CD*" must cover them.
func MatchModel(patterns []string, model string) bool {
	model = slashFree(strings.ToUpper(strings.TrimSpace(model)))
	for _, p := range patterns {
		if ok, _ := path.Match(slashFree(strings.ToUpper(p)), model); ok {
			return true
		}
	}
	return false
}

// slashFree replaces "/" by a byte no model contains, so that path.Match
// treats it as an ordinary character on both sides.
func slashFree(s string) string { return strings.ReplaceAll(s, "/", "\x00") }

// Applies reports whether the advisory covers a device of this model and
// deviceType.
func (a *Advisory) Applies(model, deviceType string) bool {
	if MatchModel(a.Models, model) {
		return true
	}
	deviceType = strings.TrimSpace(deviceType)
	for _, t := range a.DeviceTypes {
		if deviceType != "" && strings.EqualFold(strings.TrimSpace(t), deviceType) {
			return true
		}
	}
	return false
}

// InRange compares a firmware against the advisory's bounds; build is
// YYMMDD, or "" when unknown. The version (when the advisory bounds it and
// the device's is readable) and the build (likewise) must both be inside; a
// side the device does not report is left out, so an unknown build is
// judged on the version alone. checked is false when neither side could be
// compared. A version bound that cannot be read is open.
func (a *Advisory) InRange(version, build string) (in, checked bool) {
	in = true
	if a.MinVersion != "" || a.MaxVersion != "" {
		if v, ok := parseVersion(version); ok {
			checked = true
			if lo, ok := parseVersion(a.MinVersion); ok && compareVersionParts(v, lo) < 0 {
				in = false
			}
			if hi, ok := parseVersion(a.MaxVersion); ok && compareVersionParts(v, hi) > 0 {
				in = false
			}
		}
	}
	if (a.MinBuild != "" || a.MaxBuild != "") && build != "" {
		checked = true
		// YYMMDD of the same century compares as a string.
		if a.MinBuild != "" && build < a.MinBuild {
			in = false
		}
		if a.MaxBuild != "" && build > a.MaxBuild {
			in = false
		}
	}
	return in && checked, checked
}

// Evaluate judges a device against every advisory entry and returns one
// verdict per id that covers the device and could be checked, sorted by id:
// vulnerable when any covering entry's range contains the firmware. An id
// none of whose entries covers the device gets no verdict (see EvaluateAll
// for one that says "not affected").
func Evaluate(advs []Advisory, d Device) []Verdict {
	verdict := map[string]bool{}
	for i := range advs {
		a := &advs[i]
		if !a.Applies(d.Model, d.DeviceType) {
			continue
		}
		in, checked := a.InRange(d.FirmwareVersion, d.Build)
		if !checked {
			continue
		}
		verdict[a.ID] = verdict[a.ID] || in
	}
	out := make([]Verdict, 0, len(verdict))
	for id, v := range verdict {
		out = append(out, Verdict{ID: id, Vulnerable: v})
	}
	slices.SortFunc(out, func(a, b Verdict) int { return strings.Compare(a.ID, b.ID) })
	return out
}

// EvaluateAll judges a device against every advisory id of the table and
// returns one verdict per id, sorted by id:
//
//   - vulnerable when an entry of the id covers the device and its range
//     holds the firmware;
//   - not vulnerable when every entry of the id that covers the device was
//     checked and none holds the firmware, and also when no entry covers
//     it: a model outside every family of an advisory is checked, and not
//     affected.
//
// An id is left out only when it cannot be judged: no entry finds the
// device vulnerable, and an entry covering it bounds only a side of the
// firmware the device does not report (InRange's checked is false), or
// whether an entry covers it is unknown because the device sends no model
// (or, for an entry of device types alone, no deviceType). Nothing is
// returned when the firmware cannot be read at all: neither the version
// nor the build.
func EvaluateAll(advs []Advisory, d Device) []Verdict {
	if _, ok := parseVersion(d.FirmwareVersion); !ok && d.Build == "" {
		return nil
	}
	type judgement struct{ vulnerable, unknown bool }
	byID := map[string]*judgement{}
	for i := range advs {
		a := &advs[i]
		j := byID[a.ID]
		if j == nil {
			j = &judgement{}
			byID[a.ID] = j
		}
		if !a.Applies(d.Model, d.DeviceType) {
			j.unknown = j.unknown || !a.excludes(d)
			continue
		}
		in, checked := a.InRange(d.FirmwareVersion, d.Build)
		j.vulnerable = j.vulnerable || in
		j.unknown = j.unknown || !checked
	}
	out := make([]Verdict, 0, len(byID))
	for id, j := range byID {
		if j.vulnerable || !j.unknown {
			out = append(out, Verdict{ID: id, Vulnerable: j.vulnerable})
		}
	}
	slices.SortFunc(out, func(a, b Verdict) int { return strings.Compare(a.ID, b.ID) })
	return out
}

// excludes reports whether a device the advisory does not apply to is
// known to lie outside it: the device names a model (which the patterns
// do not match) or, for an entry of device types alone, a deviceType.
func (a *Advisory) excludes(d Device) bool {
	if strings.TrimSpace(d.Model) != "" {
		return true
	}
	return len(a.Models) == 0 && strings.TrimSpace(d.DeviceType) != ""
}

// BelowMinimum finds the first minimum whose models match the model and
// reports whether the firmware version is lower than its version. found is
// false when no entry matches or the device's version is unreadable.
func BelowMinimum(mins []Minimum, model, version string) (below, found bool) {
	for _, m := range mins {
		if !MatchModel(m.Models, model) {
			continue
		}
		c, ok := CompareVersions(version, m.Version)
		if !ok {
			return false, false
		}
		return c < 0, true
	}
	return false, false
}
