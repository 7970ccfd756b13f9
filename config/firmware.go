package config

import (
	"errors"
	"fmt"
	"path"
	"regexp"
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

// FirmwareMinimum is the oldest firmware version the operator accepts for
// models matching a pattern.
type FirmwareMinimum struct {
	Models  []string `yaml:"models"`
	Version string   `yaml:"version"`
}

var (
	versionRE = regexp.MustCompile(`^[Vv]?\d+(\.\d+)*$`)
	buildRE   = regexp.MustCompile(`^\d{6}$`)
)

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

// validate returns all the advisory's errors; each names the advisory by ID
// when it has one.
func (a *Advisory) validate() []error {
	if a.ID == "" {
		return []error{errors.New("id: required")}
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
		if v.val != "" && !versionRE.MatchString(v.val) {
			add(fmt.Errorf("%s: %q is not a version like V5.4.0", v.name, v.val))
		}
	}
	for _, b := range []struct{ name, val string }{{"min_build", a.MinBuild}, {"max_build", a.MaxBuild}} {
		if b.val != "" && !buildRE.MatchString(b.val) {
			add(fmt.Errorf("%s: %q is not a build date YYMMDD", b.name, b.val))
		}
	}
	if a.MinVersion == "" && a.MaxVersion == "" && a.MinBuild == "" && a.MaxBuild == "" {
		add(errors.New("needs at least one version or build bound"))
	}
	return errs
}

func (f *FirmwareMinimum) validate() []error {
	var errs []error
	if err := validModels(f.Models); err != nil {
		errs = append(errs, err)
	}
	if !versionRE.MatchString(f.Version) {
		errs = append(errs, fmt.Errorf("version: %q is not a version like V5.7.18", f.Version))
	}
	return errs
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
