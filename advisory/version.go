package advisory

import (
	"strconv"
	"strings"
)

// scanVersion is the package's one firmware version parser. It reads the
// version at the start of s: an optional "V" or "v", then decimal numbers
// separated by single dots. It returns the numbers as written and the rest
// of s after the last one; ok is false when s does not start with a version
// ("", "latest", "V", "V.5.4"). A dot not followed by a digit ends the
// version and is left in the rest ("V5.4.0." reads 5.4.0, rest ".").
//
// A device's firmwareVersion is read leniently (parseVersion: the numeric
// head of "V5.3.0 build 150410" or "V4.0.1_170123"); a configured bound
// strictly (validVersion: nothing may follow the version).
func scanVersion(s string) (nums []string, rest string, ok bool) {
	i := 0
	if i < len(s) && (s[i] == 'V' || s[i] == 'v') {
		i++
	}
	for {
		j := i
		for j < len(s) && isDigit(s[j]) {
			j++
		}
		if j == i {
			break
		}
		nums = append(nums, s[i:j])
		i = j
		if i+1 < len(s) && s[i] == '.' && isDigit(s[i+1]) {
			i++
			continue
		}
		break
	}
	if len(nums) == 0 {
		return nil, s, false
	}
	return nums, s[i:], true
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// validVersion reports whether s is a version and nothing else, as
// configured bounds and minimums must be: "V5.4.0", "v5.5.800", "5.3".
// Surrounding spaces are not allowed. Numbers of any length are accepted
// here; one too large for an int makes the bound unusable when compared
// (see parseVersion).
func validVersion(s string) bool {
	_, rest, ok := scanVersion(s)
	return ok && rest == ""
}

// parseVersion reads the numeric components of a version as a device
// reports it: surrounding spaces are ignored and only the numeric head is
// used ("V5.4.0", "v5.5.800", "5.3.0 build 150410", "V4.0.1_170123"). ok
// is false when there is no version or a number does not fit an int.
func parseVersion(s string) ([]int, bool) {
	nums, _, ok := scanVersion(strings.TrimSpace(s))
	if !ok {
		return nil, false
	}
	out := make([]int, len(nums))
	for i, n := range nums {
		v, err := strconv.Atoi(n)
		if err != nil { // more digits than an int holds
			return nil, false
		}
		out[i] = v
	}
	return out, true
}

// compareVersionParts compares component-wise, missing components counting
// as 0 (V5.4 == V5.4.0).
func compareVersionParts(a, b []int) int {
	for i := range max(len(a), len(b)) {
		var x, y int
		if i < len(a) {
			x = a[i]
		}
		if i < len(b) {
			y = b[i]
		}
		if x != y {
			if x < y {
				return -1
			}
			return 1
		}
	}
	return 0
}

// CompareVersions compares two firmware versions numerically, component by
// component (V5.4.0 < V5.10.1; V4.62.210 < V5.03.020; V5.4 == V5.4.0),
// returning -1, 0 or 1. Each is read as parseVersion reads a device's
// version. ok is false when either is not a version.
func CompareVersions(a, b string) (c int, ok bool) {
	x, ok1 := parseVersion(a)
	y, ok2 := parseVersion(b)
	if !ok1 || !ok2 {
		return 0, false
	}
	return compareVersionParts(x, y), true
}
