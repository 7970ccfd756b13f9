package isapi

import (
	"errors"
	"strings"
	"time"
)

// Paths of the endpoints the frame itself reads.
const (
	PathDeviceInfo = "/ISAPI/System/deviceInfo"
	PathUserCheck  = "/ISAPI/Security/userCheck"
)

// DeviceInfo is GET /ISAPI/System/deviceInfo (docs/isapi.md §1).
type DeviceInfo struct {
	DeviceName           string `xml:"deviceName"`
	DeviceID             string `xml:"deviceID"`
	Model                string `xml:"model"`
	SerialNumber         string `xml:"serialNumber"`
	MacAddress           string `xml:"macAddress"`
	FirmwareVersion      string `xml:"firmwareVersion"`
	FirmwareReleasedDate string `xml:"firmwareReleasedDate"`
	EncoderVersion       string `xml:"encoderVersion"`
	DeviceType           string `xml:"deviceType"`
	HardwareVersion      string `xml:"hardwareVersion"`
	FirmwareVersionInfo  string `xml:"firmwareVersionInfo"` // platform code, e.g. B-R-G5-0
	Manufacturer         string `xml:"manufacturer"`
}

// elementName makes Decode read the first DeviceInfo element at any depth.
func (*DeviceInfo) elementName() string { return "DeviceInfo" }

// FirmwareBuild returns the YYMMDD build of firmwareReleasedDate ("build
// 240826", sometimes without the word), or "" when it is not one.
func (d *DeviceInfo) FirmwareBuild() string {
	s := strings.TrimSpace(d.FirmwareReleasedDate)
	s = strings.TrimSpace(strings.TrimPrefix(strings.ToLower(s), "build"))
	if len(s) != 6 || strings.Trim(s, "0123456789") != "" {
		return ""
	}
	return s
}

// FirmwareBuildTime parses the build date as midnight UTC.
func (d *DeviceInfo) FirmwareBuildTime() (time.Time, bool) {
	b := d.FirmwareBuild()
	if b == "" {
		return time.Time{}, false
	}
	t, err := time.Parse("060102", b)
	if err != nil {
		return time.Time{}, false
	}
	return t, true
}

// DeviceInfoEndpoint reads deviceInfo, cached. A well-formed document
// without identity (an XHTML page, a ResponseStatus sent with 200) decodes
// into an empty DeviceInfo, so the decoder refuses it like a malformed one.
var DeviceInfoEndpoint = Derived(PathDeviceInfo, true, decodeDeviceInfo)

func decodeDeviceInfo(b []byte) (DeviceInfo, error) {
	var d DeviceInfo
	if err := Decode(b, &d); err != nil {
		return DeviceInfo{}, err
	}
	if d.Model == "" && d.FirmwareVersion == "" && d.SerialNumber == "" {
		return DeviceInfo{}, errors.New("answer has no model, firmware or serial number")
	}
	return d, nil
}

// UserCheck is GET /ISAPI/Security/userCheck: the credential check, and the
// only source of the logged-in account's password state (docs/isapi.md §2.2).
type UserCheck struct {
	StatusValue       OptionalInt  `xml:"statusValue"`
	StatusString      string       `xml:"statusString"`
	IsDefaultPassword OptionalBool `xml:"isDefaultPassword"`
	IsRiskPassword    OptionalBool `xml:"isRiskPassword"`
	IsActivated       OptionalBool `xml:"isActivated"`
	ResidualValidity  OptionalInt  `xml:"residualValidity"`
	LockStatus        string       `xml:"lockStatus"`
	UnlockTime        OptionalInt  `xml:"unlockTime"`
	RetryLoginTime    OptionalInt  `xml:"retryLoginTime"`
}

// elementName makes Decode read the first userCheck element at any depth.
func (*UserCheck) elementName() string { return "userCheck" }

// Rejected reports a userCheck answered with HTTP 200 whose body says 401.
func (u *UserCheck) Rejected() bool { return u.StatusValue.Set && u.StatusValue.V == 401 }

// AuthError turns a rejecting body into the error the client would have returned.
func (u *UserCheck) AuthError() *AuthError {
	return &AuthError{Path: PathUserCheck, Locked: LockStatus(u.LockStatus), UnlockIn: u.UnlockTime, RetriesLeft: u.RetryLoginTime}
}
