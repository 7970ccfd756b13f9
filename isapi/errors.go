package isapi

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// ResponseStatus is the body a device sends with errors and write acknowledgements.
type ResponseStatus struct {
	RequestURL    string      `xml:"requestURL"`
	StatusCode    OptionalInt `xml:"statusCode"`
	StatusString  string      `xml:"statusString"`
	SubStatusCode string      `xml:"subStatusCode"`
	ErrorCode     OptionalInt `xml:"errorCode"`
	ErrorMsg      string      `xml:"errorMsg"`
}

// StatusError is a non-2xx answer other than a rejected login.
type StatusError struct {
	Method     string
	Path       string
	HTTPStatus int
	Status     *ResponseStatus // nil when the body was not a ResponseStatus
	// Permission marks a 401 on one endpoint after the device had just
	// accepted the credentials: the account may not read it.
	Permission bool
}

func (e *StatusError) Error() string {
	msg := fmt.Sprintf("%s %s: HTTP %d", e.Method, e.Path, e.HTTPStatus)
	if e.Permission {
		return msg + " although the device accepted the credentials: the account lacks permission for this endpoint"
	}
	if e.Status != nil {
		if e.Status.SubStatusCode != "" {
			msg += " " + e.Status.SubStatusCode
		} else if e.Status.StatusString != "" {
			msg += " " + e.Status.StatusString
		}
	}
	return msg
}

// NotSupported reports whether the answer means the device lacks the feature:
// 404 and 501 always, 403 when the device says notSupport or denies the
// account permission for it (which, for a read-only exporter account, is the
// same thing from the dashboard's point of view).
func (e *StatusError) NotSupported() bool {
	if e.Permission {
		return true
	}
	switch e.HTTPStatus {
	case http.StatusNotFound, http.StatusNotImplemented, http.StatusMethodNotAllowed:
		return true
	case http.StatusForbidden:
		return true
	case http.StatusBadRequest:
		// Some firmware answers an unknown URL with 400 invalidID / notSupport.
		if e.Status != nil {
			switch strings.ToLower(e.Status.SubStatusCode) {
			case "notsupport", "invalidid", "invalidoperation":
				return true
			}
		}
	}
	return false
}

// IsNotSupported reports whether err means "this device lacks the feature",
// which a collector reports as unsupported rather than as a failed scrape.
func IsNotSupported(err error) bool {
	var se *StatusError
	return errors.As(err, &se) && se.NotSupported()
}

// AuthError means the device rejected the credentials (a 401 that was not a
// stale nonce). Lock details are filled in when the body carried them.
type AuthError struct {
	Path        string
	Locked      OptionalBool
	RetriesLeft OptionalInt // retryLoginTime: logins left before the device locks
	UnlockIn    OptionalInt // unlockTime: seconds until the lock lifts
	UnlockAt    time.Time   // UnlockIn as a point in time, set when recorded
	// NoAnswer: the credentials were sent to a device whose password was
	// not verified, and no answer came; the device may have counted a
	// failed login, so the exporter holds off as if it had.
	NoAnswer bool
	// Unauthenticated: the device reported the lock in its answer to a
	// request that carried no credentials.
	Unauthenticated bool
}

func (e *AuthError) Error() string {
	var b strings.Builder
	switch {
	case e.NoAnswer:
		fmt.Fprintf(&b, "%s: no answer after the credentials were sent; holding off as after a failed login", e.Path)
	case e.Unauthenticated:
		fmt.Fprintf(&b, "%s: device reports the account locked; no credentials sent", e.Path)
	default:
		fmt.Fprintf(&b, "%s: credentials rejected by device", e.Path)
	}
	if e.Locked.Set && e.Locked.V {
		b.WriteString(", account locked")
	}
	if e.UnlockIn.Set {
		fmt.Fprintf(&b, ", unlock in %ds", e.UnlockIn.V)
	}
	if e.RetriesLeft.Set {
		fmt.Fprintf(&b, ", %d attempts left", e.RetriesLeft.V)
	}
	return b.String()
}

// HoldOffError is returned without contacting the device while the exporter
// waits out a credential rejection or a device lock.
type HoldOffError struct {
	Until time.Time
	Cause *AuthError
}

func (e *HoldOffError) Error() string {
	return fmt.Sprintf("not contacting device until %s after credentials were rejected", e.Until.UTC().Format(time.RFC3339))
}

// PendingError is returned when the caller's deadline passed while a
// request testing unverified credentials was still out. That request goes
// on in the background, so its outcome (accepted, rejected, locked) is
// known to the next probe.
type PendingError struct {
	Path string
	Err  error
}

func (e *PendingError) Error() string {
	if e.Path == "" {
		return fmt.Sprintf("waiting for another request to test the credentials: %v", e.Err)
	}
	return fmt.Sprintf("%s: credentials sent, answer still pending at the deadline: %v", e.Path, e.Err)
}

func (e *PendingError) Unwrap() error { return e.Err }

// ErrBasicOnly means the device offers only Basic auth and the module does
// not allow it: no credentials were sent.
var ErrBasicOnly = errors.New("device offers only Basic auth, which this module does not allow (allow_basic_auth)")

// ErrNoChallenge means the device answered 401 without an authentication
// challenge the client can answer: no credentials were sent.
var ErrNoChallenge = errors.New("device answered 401 without a usable authentication challenge; no credentials were sent")

// ErrBodyTooLarge is returned when a device answer exceeds the size limit.
var ErrBodyTooLarge = errors.New("answer exceeds the size limit")
