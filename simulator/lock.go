package simulator

import (
	"bytes"
	"net"
	"net/http"
	"strconv"
	"time"
)

// authenticate runs the login check and the illegal-login lock (docs/isapi.md
// §3). It answers the request itself and returns false unless the request
// may proceed to routing. The answer waits delay after the check, so a
// slow device has counted a failed login before the client hears of it.
func (d *Device) authenticate(w http.ResponseWriter, r *http.Request, delay time.Duration) bool {
	ok, answer := d.checkLogin(r)
	if delay > 0 && !d.sleep(r.Context(), delay) {
		panic(http.ErrAbortHandler) // client gone: the login still counted
	}
	if ok {
		return true
	}
	answer(w)
	return false
}

// checkLogin checks a request's credentials, counting a failed login, and
// returns whether it may proceed, or how to answer it.
func (d *Device) checkLogin(r *http.Request) (bool, func(http.ResponseWriter)) {
	now := d.now()
	d.mu.Lock()
	d.expireLockLocked(now)
	res, user := d.checkCredentialsLocked(r, now)
	locked := now.Before(d.lockedUntil)
	p := d.prof

	switch res {
	case authOK:
		if !locked {
			d.failures = 0
			d.mu.Unlock()
			return true, nil
		}
	case authWrong:
		d.failedLoginLocked(now, user, remoteIP(r))
	case authBad:
		d.mu.Unlock()
		return false, func(w http.ResponseWriter) {
			http.Error(w, "400 Bad Request: digest uri does not match the request", http.StatusBadRequest)
		}
	case authNone, authUnknown, authStale:
		d.stats.Unauthorized++
		// A locked device says so to anyone who asks, credentials or not.
		body, ctype := challengeBody, "text/html"
		if locked {
			body, ctype = d.rejectBodyLocked(now), "application/xml"
		}
		d.mu.Unlock()
		return false, func(w http.ResponseWriter) {
			d.challengeHeaders(w.Header(), &p, now, res == authStale)
			w.Header().Set("Content-Type", ctype)
			w.WriteHeader(http.StatusUnauthorized)
			w.Write(body)
		}
	}
	// A rejection: wrong credentials, refused Basic, or anything while locked.
	d.stats.Unauthorized++
	body := d.rejectBodyLocked(now)
	d.mu.Unlock()
	return false, func(w http.ResponseWriter) {
		d.challengeHeaders(w.Header(), &p, now, false)
		w.Header().Set("Content-Type", "application/xml")
		w.WriteHeader(http.StatusUnauthorized)
		w.Write(body)
	}
}

// challengeBody is the short page sent with a plain challenge.
var challengeBody = []byte("<!DOCTYPE html>\n<html><head><title>Document Error: Unauthorized</title></head>\n" +
	"<body><h2>Access Error: 401 -- Unauthorized</h2>\n<p>Authentication Error</p>\n</body>\n</html>\n")

// failedLoginLocked counts a wrong login toward the lock and logs it the
// way firmware does (Exception / illlegealAccess).
func (d *Device) failedLoginLocked(now time.Time, user, ip string) {
	d.stats.FailedLogins++
	d.prof.Log = append(d.prof.Log, LogEvent{Time: now, Major: "Exception", Minor: "illlegealAccess", User: user, IP: ip})
	if d.prof.LockAfter <= 0 {
		return
	}
	if now.Before(d.lockedUntil) {
		if d.prof.ExtendLock {
			d.lockedUntil = now.Add(d.prof.LockDuration)
		}
		return
	}
	d.failures++
	if d.failures >= d.prof.LockAfter {
		d.lockedUntil = now.Add(d.prof.LockDuration)
	}
}

// expireLockLocked lifts an expired lock and gives back the full budget.
func (d *Device) expireLockLocked(now time.Time) {
	if !d.lockedUntil.IsZero() && !now.Before(d.lockedUntil) {
		d.lockedUntil = time.Time{}
		d.failures = 0
	}
}

// rejectBodyLocked builds the userCheck document of a credential rejection.
// Hikvision's web UI reads lockStatus, unlockTime (seconds) and
// retryLoginTime (attempts left) from it; no real capture exists (§10).
func (d *Device) rejectBodyLocked(now time.Time) []byte {
	var b bytes.Buffer
	b.WriteString(xmlDecl)
	open(&b, "userCheck", d.prof.Namespace)
	el(&b, "statusValue", "401")
	el(&b, "statusString", "Unauthorized")
	if d.prof.LockAfter > 0 {
		if now.Before(d.lockedUntil) {
			secs := int((d.lockedUntil.Sub(now) + time.Second - 1) / time.Second)
			el(&b, "lockStatus", "lock")
			el(&b, "unlockTime", strconv.Itoa(secs))
			el(&b, "retryLoginTime", "0")
		} else {
			el(&b, "lockStatus", "unlock")
			el(&b, "retryLoginTime", strconv.Itoa(max(d.prof.LockAfter-d.failures, 0)))
		}
	}
	b.WriteString("</userCheck>\n")
	return b.Bytes()
}

func remoteIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
