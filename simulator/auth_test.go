package simulator

import (
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"
)

const infoPath = "/ISAPI/System/deviceInfo"

func TestDigestSuccessAndChallengeReuse(t *testing.T) {
	d := Start(t, CaptureProfile("DS-2CD2T86G2-ISU"))
	c := digestClient(t, "admin", "password", false)

	a := get(t, c, d.URL()+infoPath)
	if a.status != 200 || a.body != string(Capture("deviceInfo__hikvision_next_DS-2CD2T86G2-ISU.xml")) {
		t.Fatalf("got %d %q", a.status, a.body)
	}
	wantStats(t, d, 2, 1, 0) // one challenge, one signed request

	// The client reuses the cached nonce with nc=2, 3: no further 401s.
	get(t, c, d.URL()+infoPath)
	get(t, c, d.URL()+infoPath+"?x=1")
	wantStats(t, d, 4, 1, 0)
}

func TestChallengeWithoutCredentials(t *testing.T) {
	d := Start(t, Profile{Realm: "DVRNVRDVS"})
	a := rawGet(t, d.URL()+"/ISAPI/Anything", "")
	if a.status != 401 {
		t.Fatalf("status %d, want 401 before routing", a.status)
	}
	h := a.header.Get("WWW-Authenticate")
	re := regexp.MustCompile(`^Digest realm="DVRNVRDVS", domain="::", qop="auth", nonce="[0-9a-f]{48}:\d+", opaque="[0-9a-f]+", algorithm="MD5", stale="FALSE"$`)
	if !re.MatchString(h) {
		t.Fatalf("WWW-Authenticate %q", h)
	}
	if len(a.header.Values("WWW-Authenticate")) != 1 || a.body == "" {
		t.Fatalf("want one challenge and a short body, got %v %q", a.header.Values("WWW-Authenticate"), a.body)
	}
	wantStats(t, d, 1, 1, 0)
}

func TestWrongPasswordLocksAfterLockAfter(t *testing.T) {
	clk := newClock()
	d := Start(t, Profile{LockAfter: 3}, WithClock(clk.Now))
	bad := digestClient(t, "admin", "nope", true)
	url := d.URL() + "/ISAPI/Security/userCheck"

	a := get(t, bad, url)
	u := parseUserCheck(t, a.body)
	if a.status != 401 || u.StatusValue != 401 || u.StatusString != "Unauthorized" ||
		*u.LockStatus != "unlock" || *u.RetryLoginTime != 2 || u.UnlockTime != nil {
		t.Fatalf("first rejection: %d %q", a.status, a.body)
	}
	if ct := a.header.Get("Content-Type"); ct != "application/xml" {
		t.Fatalf("Content-Type %q", ct)
	}
	if !strings.Contains(a.header.Get("WWW-Authenticate"), `stale="FALSE"`) {
		t.Fatalf("rejection must carry a fresh challenge: %v", a.header)
	}
	get(t, bad, url)
	if d.Locked() {
		t.Fatal("locked after 2 of 3")
	}
	a = get(t, bad, url)
	u = parseUserCheck(t, a.body)
	if !d.Locked() || *u.LockStatus != "lock" || *u.UnlockTime != 1800 || *u.RetryLoginTime != 0 {
		t.Fatalf("third rejection: %q", a.body)
	}
	wantStats(t, d, 6, 6, 3)

	// Even the right password is refused while locked, without counting.
	good := digestClient(t, "admin", "password", true)
	clk.Advance(10 * time.Minute)
	a = get(t, good, url)
	u = parseUserCheck(t, a.body)
	if a.status != 401 || *u.LockStatus != "lock" || *u.UnlockTime != 1200 {
		t.Fatalf("locked, right password: %d %q", a.status, a.body)
	}
	wantStats(t, d, 8, 8, 3)

	// Real devices log each failure.
	var n int
	for _, ev := range d.Log() {
		if ev.Major == "Exception" && ev.Minor == "illlegealAccess" && ev.User == "admin" && ev.IP == "127.0.0.1" {
			n++
		}
	}
	if n != 3 {
		t.Fatalf("%d illlegealAccess log entries, want 3: %+v", n, d.Log())
	}
}

func TestLockExtension(t *testing.T) {
	for _, extend := range []bool{false, true} {
		clk := newClock()
		d := Start(t, Profile{LockAfter: 1, ExtendLock: extend}, WithClock(clk.Now))
		bad := digestClient(t, "admin", "nope", true)
		url := d.URL() + "/ISAPI/System/deviceInfo"
		get(t, bad, url)
		clk.Advance(20 * time.Minute)
		u := parseUserCheck(t, get(t, bad, url).body)
		want := 600
		if extend {
			want = 1800
		}
		if *u.UnlockTime != want {
			t.Errorf("ExtendLock=%v: unlockTime %d, want %d", extend, *u.UnlockTime, want)
		}
		if s := d.Stats(); s.FailedLogins != 2 {
			t.Errorf("a wrong login while locked is still a failed login, got %d", s.FailedLogins)
		}
	}
}

func TestUnlockAfterDurationAndSuccessResets(t *testing.T) {
	clk := newClock()
	d := Start(t, Profile{LockAfter: 3, LockDuration: time.Hour}, WithClock(clk.Now))
	bad := digestClient(t, "admin", "nope", true)
	good := digestClient(t, "admin", "password", true)
	url := d.URL() + "/ISAPI/System/time"

	// A success between failures resets the count.
	get(t, bad, url)
	get(t, bad, url)
	if a := get(t, good, url); a.status != 200 {
		t.Fatalf("status %d", a.status)
	}
	get(t, bad, url)
	u := parseUserCheck(t, get(t, bad, url).body)
	if d.Locked() || *u.RetryLoginTime != 1 {
		t.Fatalf("count not reset by success: %+v", u)
	}
	get(t, bad, url)
	if !d.Locked() {
		t.Fatal("not locked")
	}
	clk.Advance(time.Hour - time.Second)
	if !d.Locked() || get(t, good, url).status != 401 {
		t.Fatal("unlocked early")
	}
	clk.Advance(time.Second)
	if d.Locked() {
		t.Fatal("still locked after LockDuration")
	}
	if a := get(t, good, url); a.status != 200 {
		t.Fatalf("after unlock: %d %q", a.status, a.body)
	}
	// The budget is whole again.
	u = parseUserCheck(t, get(t, bad, url).body)
	if *u.RetryLoginTime != 2 {
		t.Fatalf("retryLoginTime %d, want 2", *u.RetryLoginTime)
	}
}

func TestNoLockElementsWithoutLockAfter(t *testing.T) {
	d := Start(t, Profile{})
	u := parseUserCheck(t, get(t, digestClient(t, "admin", "x", true), d.URL()+"/ISAPI/Security/userCheck").body)
	if u.LockStatus != nil || u.RetryLoginTime != nil || u.UnlockTime != nil {
		t.Fatalf("lock elements on a device that never locks: %+v", u)
	}
}

func TestStaleNonceIsNotAFailedLogin(t *testing.T) {
	clk := newClock()
	d := Start(t, Profile{LockAfter: 1, NonceTTL: time.Minute}, WithClock(clk.Now))
	c := digestClient(t, "admin", "password", false)
	url := d.URL() + infoPath
	get(t, c, url)
	clk.Advance(2 * time.Minute)
	if a := get(t, c, url); a.status != 404 { // no deviceInfo endpoint: 404 after auth
		t.Fatalf("status %d", a.status)
	}
	// challenge, ok, stale 401, ok with the new nonce
	wantStats(t, d, 4, 2, 0)
	if d.Locked() {
		t.Fatal("stale nonce locked the account")
	}

	// By hand: the stale answer says stale="TRUE".
	chal := rawGet(t, url, "").header.Get("WWW-Authenticate")
	clk.Advance(2 * time.Minute)
	a := rawGet(t, url, signed(t, chal, "GET", infoPath, "admin", "password", 1))
	if a.status != 401 || !strings.Contains(a.header.Get("WWW-Authenticate"), `stale="TRUE"`) {
		t.Fatalf("expired nonce: %d %v", a.status, a.header)
	}
	// A wrong password on an expired nonce is still wrong.
	a = rawGet(t, url, signed(t, chal, "GET", infoPath, "admin", "bad", 2))
	if a.status != 401 || d.Stats().FailedLogins != 1 {
		t.Fatalf("wrong hash on expired nonce: %d, failed %d", a.status, d.Stats().FailedLogins)
	}
}

func TestNonceReplayAndForeignNonce(t *testing.T) {
	d := Start(t, Profile{LockAfter: 1})
	other := Start(t, Profile{})
	url := d.URL() + "/ISAPI/System/time"
	chal := rawGet(t, url, "").header.Get("WWW-Authenticate")
	authz := signed(t, chal, "GET", "/ISAPI/System/time", "admin", "password", 7)
	if a := rawGet(t, url, authz); a.status != 200 {
		t.Fatalf("first use: %d", a.status)
	}
	a := rawGet(t, url, authz)
	if a.status != 401 || !strings.Contains(a.header.Get("WWW-Authenticate"), `stale="TRUE"`) {
		t.Fatalf("replayed nc: %d %v", a.status, a.header)
	}
	// Counts may arrive out of order (parallel requests on one nonce).
	if a := rawGet(t, url, signed(t, chal, "GET", "/ISAPI/System/time", "admin", "password", 3)); a.status != 200 {
		t.Fatalf("lower unused nc: %d", a.status)
	}

	// A nonce from another device (or before a restart) cannot be checked.
	foreign := rawGet(t, other.URL()+"/", "").header.Get("WWW-Authenticate")
	a = rawGet(t, url, signed(t, foreign, "GET", "/ISAPI/System/time", "admin", "wrong", 1))
	if a.status != 401 || !strings.Contains(a.header.Get("WWW-Authenticate"), `stale="FALSE"`) {
		t.Fatalf("foreign nonce: %d %v", a.status, a.header)
	}
	if s := d.Stats(); s.FailedLogins != 0 || d.Locked() {
		t.Fatalf("foreign nonce counted as failed login: %+v", s)
	}
}

func TestUnknownUserAndBadURI(t *testing.T) {
	d := Start(t, Profile{Username: "exporter", Password: "pw"})
	if a := get(t, digestClient(t, "admin", "pw", true), d.URL()+"/"); a.status != 401 || d.Stats().FailedLogins != 1 {
		t.Fatalf("unknown user: %d, %+v", a.status, d.Stats())
	}
	chal := rawGet(t, d.URL()+"/a", "").header.Get("WWW-Authenticate")
	if a := rawGet(t, d.URL()+"/a", signed(t, chal, "GET", "/b", "exporter", "pw", 1)); a.status != 400 {
		t.Fatalf("uri mismatch: %d", a.status)
	}
	if a := rawGet(t, d.URL()+"/a", `Digest username="exporter"`); a.status != 401 || d.Stats().FailedLogins != 1 {
		t.Fatalf("malformed header: %d %+v", a.status, d.Stats())
	}
}

func TestBasic(t *testing.T) {
	basicGet := func(d *Device, user, pass string) answer {
		req, _ := http.NewRequest("GET", d.URL()+"/ISAPI/Security/userCheck", nil)
		req.SetBasicAuth(user, pass)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return answer{status: resp.StatusCode, header: resp.Header}
	}

	digestOnly := Start(t, Profile{})
	if a := basicGet(digestOnly, "admin", "password"); a.status != 401 || digestOnly.Stats().FailedLogins != 0 {
		t.Fatalf("right Basic on digest device: %d %+v", a.status, digestOnly.Stats())
	}
	if a := basicGet(digestOnly, "admin", "bad"); a.status != 401 || digestOnly.Stats().FailedLogins != 1 {
		t.Fatalf("wrong Basic: %d %+v", a.status, digestOnly.Stats())
	}

	basic := Start(t, Profile{BasicOnly: true, Realm: "cam"})
	h := rawGet(t, basic.URL()+"/", "").header.Values("WWW-Authenticate")
	if len(h) != 1 || h[0] != `Basic realm="cam"` {
		t.Fatalf("BasicOnly challenge %q", h)
	}
	if a := basicGet(basic, "admin", "password"); a.status != 200 {
		t.Fatalf("BasicOnly right password: %d", a.status)
	}
	// A Digest client cannot log in to a Basic-only device. (icholy/digest
	// closes the body of a 401 without a Digest challenge; only the status
	// is usable.)
	resp, err := digestClient(t, "admin", "password", false).Get(basic.URL() + "/ISAPI/Security/userCheck")
	if err != nil || resp.StatusCode != 401 {
		t.Fatalf("digest on BasicOnly: %v %v", resp, err)
	}
	resp.Body.Close()

	both := Start(t, Profile{AcceptBasic: true})
	h = rawGet(t, both.URL()+"/", "").header.Values("WWW-Authenticate")
	if len(h) != 2 || !strings.HasPrefix(h[0], "Digest ") || h[1] != `Basic realm="DS-sim"` {
		t.Fatalf("AcceptBasic challenges %q", h)
	}
	if a := basicGet(both, "admin", "password"); a.status != 200 {
		t.Fatalf("AcceptBasic: %d", a.status)
	}
	if a := get(t, digestClient(t, "admin", "password", false), both.URL()+"/ISAPI/Security/userCheck"); a.status != 200 {
		t.Fatalf("digest on AcceptBasic: %d", a.status)
	}
}

func TestSetPassword(t *testing.T) {
	d := Start(t, Profile{})
	d.SetPassword("new")
	if a := get(t, digestClient(t, "admin", "new", true), d.URL()+"/ISAPI/Security/userCheck"); a.status != 200 {
		t.Fatalf("status %d", a.status)
	}
	if a := get(t, digestClient(t, "admin", "password", true), d.URL()+"/ISAPI/Security/userCheck"); a.status != 401 {
		t.Fatalf("old password: %d", a.status)
	}
}

func TestNoncePruning(t *testing.T) {
	d := Start(t, Profile{NonceTTL: time.Minute})
	now := time.Now()
	d.mu.Lock()
	defer d.mu.Unlock()
	for i := range 300 {
		at := now.Add(-time.Hour)
		if i%3 == 0 {
			at = now
		}
		d.ncSeen[d.newNonce(at)] = map[uint32]bool{1: true}
	}
	d.pruneNoncesLocked(now)
	if len(d.ncSeen) != 100 || d.pruneAt != 200 {
		t.Fatalf("%d nonces left, next prune at %d", len(d.ncSeen), d.pruneAt)
	}
	for n := range d.ncSeen {
		if issued, ok := d.nonceIssued(n); !ok || !issued.Equal(now.Truncate(time.Millisecond)) {
			t.Fatalf("kept %s (%v %v)", n, issued, ok)
		}
	}
}
