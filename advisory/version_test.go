package advisory

import (
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// The two regular expressions scanVersion replaced: config's check of a
// configured version, and the collector's reading of a device's version.
// scanVersion must accept exactly what each accepted.
var (
	oldConfigVersionRE = regexp.MustCompile(`^[Vv]?\d+(\.\d+)*$`)
	oldDeviceVersionRE = regexp.MustCompile(`^[Vv]?(\d+(?:\.\d+)*)`)
	oldBuildRE         = regexp.MustCompile(`^\d{6}$`)
)

// oldParseVersion is the collector's former parser.
func oldParseVersion(s string) ([]int, bool) {
	m := oldDeviceVersionRE.FindStringSubmatch(strings.TrimSpace(s))
	if m == nil {
		return nil, false
	}
	parts := strings.Split(m[1], ".")
	out := make([]int, len(parts))
	for i, p := range parts {
		n, err := strconv.Atoi(p)
		if err != nil {
			return nil, false
		}
		out[i] = n
	}
	return out, true
}

func checkAgainstOldRegexes(t *testing.T, s string) {
	t.Helper()
	if got, want := validVersion(s), oldConfigVersionRE.MatchString(s); got != want {
		t.Errorf("validVersion(%q) = %v, the former config regex said %v", s, got, want)
	}
	got, ok := parseVersion(s)
	want, wantOK := oldParseVersion(s)
	if ok != wantOK || !slices.Equal(got, want) {
		t.Errorf("parseVersion(%q) = %v, %v; the former collector parser said %v, %v", s, got, ok, want, wantOK)
	}
	if got, want := validBuild(s), oldBuildRE.MatchString(s); got != want {
		t.Errorf("validBuild(%q) = %v, the former regex said %v", s, got, want)
	}
}

// Every string up to five characters over an alphabet that exercises each
// branch, plus the forms seen on devices and in configurations.
func TestVersionParserMatchesFormerRegexes(t *testing.T) {
	for _, s := range []string{
		"", "V5.4.0", "v5.5.800", "5.3.0 build 150410", "V4.0.1_170123", "V5.4.0.", "V.5.4", "V", "VV5", "latest",
		" V5.7.18 ", "\tV5.7.18\n", "V5.7.18\n", "V5..4", "V5.4..", "V5.4.x", "V٥.4", "V5.4\u00a0", "\u00a0V5.4",
		"V99999999999999999999999.1", "V1.99999999999999999999999", "V9223372036854775807", "V9223372036854775808",
		"V0000000000000000000000000001", "140721", "1407210", "14072", "１40721", "build 140721",
	} {
		checkAgainstOldRegexes(t, s)
	}
	const alphabet = "Vv09. x\t"
	var walk func(prefix string, n int)
	walk = func(prefix string, n int) {
		checkAgainstOldRegexes(t, prefix)
		if n == 0 || t.Failed() {
			return
		}
		for i := range len(alphabet) {
			walk(prefix+alphabet[i:i+1], n-1)
		}
	}
	walk("", 5)
}

// A configured bound with a number too large for an int passes validation,
// as it did before, but cannot be compared: the bound is left open and a
// minimum with it matches nothing.
func TestVersionOverflow(t *testing.T) {
	const huge = "V99999999999999999999999.1"
	if !validVersion(huge) {
		t.Errorf("validVersion(%q) = false", huge)
	}
	if _, ok := CompareVersions(huge, "V1"); ok {
		t.Errorf("CompareVersions(%q, V1) is ok", huge)
	}
	a := Advisory{ID: "X", Models: []string{"*"}, MinVersion: huge, MaxVersion: "V5.4.0"}
	if in, checked := a.InRange("V5.0.0", ""); !in || !checked {
		t.Errorf("InRange with an unreadable min_version = %v, %v; want the bound open", in, checked)
	}
	if _, found := BelowMinimum([]Minimum{{Models: []string{"*"}, Version: huge}}, "DS-1", "V5.0.0"); found {
		t.Errorf("BelowMinimum with an unreadable version found a verdict")
	}
}
