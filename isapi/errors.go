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
	RequestURL    string `xml:"requestURL"`
	StatusCode    Int    `xml:"statusCode"`
	StatusString  string `xml:"statusString"`
	SubStatusCode string `xml:"subStatusCode"`
	ErrorCode     Int    `xml:"errorCode"`
	ErrorMsg      string `xml:"errorMsg"`
}

// StatusError is a non-2xx answer other than a rejected login.
type StatusError struct {
	Method     string
	Path       string
	HTTPStatus int
	Status     *ResponseStatus // nil when the body was not a ResponseStatus
}

func (e *StatusError) Error() string {
	msg := fmt.Sprintf("%s %s: HTTP %d", e.Method, e.Path, e.HTTPStatus)
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
	Locked      Bool
	RetriesLeft Int       // retryLoginTime: logins left before the device locks
	UnlockIn    Int       // unlockTime: seconds until the lock lifts
	UnlockAt    time.Time // UnlockIn as a point in time, set when recorded
	BasicOnly   bool
}

func (e *AuthError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: credentials rejected by device", e.Path)
	if e.BasicOnly {
		b.WriteString(" (device offers only Basic auth, which this module does not allow)")
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

// ErrBodyTooLarge is returned when a device answer exceeds the size limit.
var ErrBodyTooLarge = errors.New("answer exceeds the size limit")
