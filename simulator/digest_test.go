package simulator

import (
	"regexp"
	"strings"
	"testing"
)

// challengeRE is one Digest challenge as the simulator writes it.
var challengeRE = regexp.MustCompile(`Digest realm="DS-sim", domain="::", qop="auth", nonce="[0-9a-f]{48}:\d+", opaque="[0-9a-f]+", algorithm="(MD5|SHA-256)", stale="FALSE"`)

// offered returns the challenges of a 401, in order, each as a header
// value of its own, and their algorithms.
func offered(t *testing.T, a answer) (challenges, algorithms []string) {
	t.Helper()
	for _, v := range a.header.Values("WWW-Authenticate") {
		rest := v
		for rest != "" {
			loc := challengeRE.FindStringSubmatchIndex(rest)
			if loc == nil || loc[0] != 0 {
				t.Fatalf("WWW-Authenticate %q is not a list of the simulator's challenges", v)
			}
			challenges = append(challenges, rest[:loc[1]])
			algorithms = append(algorithms, rest[loc[2]:loc[3]])
			rest = strings.TrimPrefix(rest[loc[1]:], ", ")
		}
	}
	return challenges, algorithms
}

// A device offering SHA-256 and MD5 together, in either header form: each
// challenge is answerable with its own algorithm, a wrong answer to
// either is one failed login, and an answer the challenge did not offer is
// no login at all.
func TestDigestTwoChallenges(t *testing.T) {
	for _, tc := range []struct {
		offer   DigestOffer
		headers int
		order   string
	}{
		{DigestMD5, 1, "MD5"},
		{DigestBothHeaders, 2, "SHA-256 MD5"},
		{DigestBothInOne, 1, "MD5 SHA-256"},
	} {
		t.Run(tc.order, func(t *testing.T) {
			d := Start(t, Profile{Digest: tc.offer})
			url := d.URL() + "/ISAPI/System/time"
			a := rawGet(t, url, "")
			chals, algs := offered(t, a)
			if a.status != 401 || len(a.header.Values("WWW-Authenticate")) != tc.headers || strings.Join(algs, " ") != tc.order {
				t.Fatalf("%d, headers %q: algorithms %v", a.status, a.header.Values("WWW-Authenticate"), algs)
			}
			if len(chals) == 2 && chals[0][strings.Index(chals[0], "nonce="):] == chals[1][strings.Index(chals[1], "nonce="):] {
				t.Error("both challenges carry the same nonce")
			}
			requests, unauthorized := 1, 1
			for i, chal := range chals {
				if a := rawGet(t, url, signed(t, chal, "GET", "/ISAPI/System/time", "admin", "password", 1)); a.status != 200 {
					t.Fatalf("right answer to the %s challenge: %d %q", algs[i], a.status, a.body)
				}
				requests++
			}
			wantStats(t, d, requests, unauthorized, 0)
			for i, chal := range chals {
				a := rawGet(t, url, signed(t, chal, "GET", "/ISAPI/System/time", "admin", "wrong", 2))
				if a.status != 401 || parseUserCheck(t, a.body).StatusValue != 401 {
					t.Fatalf("wrong answer to the %s challenge: %d %q", algs[i], a.status, a.body)
				}
				if _, again := offered(t, a); strings.Join(again, " ") != tc.order {
					t.Errorf("the rejection offers %v, want %s", again, tc.order)
				}
				requests, unauthorized = requests+1, unauthorized+1
				wantStats(t, d, requests, unauthorized, i+1)
			}
		})
	}
	// An MD5-only device does not take a SHA-256 answer: it challenges
	// again, and counts no failed login, right password or wrong.
	d := Start(t, Profile{})
	url := d.URL() + "/ISAPI/System/time"
	chal := strings.Replace(rawGet(t, url, "").header.Get("WWW-Authenticate"), `algorithm="MD5"`, `algorithm="SHA-256"`, 1)
	for _, pass := range []string{"password", "wrong"} {
		if a := rawGet(t, url, signed(t, chal, "GET", "/ISAPI/System/time", "admin", pass, 1)); a.status != 401 || a.body != string(challengeBody) {
			t.Fatalf("SHA-256 answer to an MD5-only device: %d %q", a.status, a.body)
		}
	}
	wantStats(t, d, 3, 3, 0)
}

// The exporter's real client library, on the two-header form: it takes
// the first challenge it can answer (SHA-256 here) and reuses it.
func TestDigestTwoHeadersWithTheLibraryClient(t *testing.T) {
	d := Start(t, Profile{Digest: DigestBothHeaders})
	c := digestClient(t, "admin", "password", false)
	for range 3 {
		if a := get(t, c, d.URL()+"/ISAPI/System/time"); a.status != 200 {
			t.Fatalf("%d %q", a.status, a.body)
		}
	}
	wantStats(t, d, 4, 1, 0)
}
