package isapi

import (
	"encoding/xml"
	"fmt"
	"strings"
	"time"
)

// Paths of the recorder's IP channels: the cameras an NVR or DVR records
// (docs/isapi.md §5.17).
const (
	PathInputProxyChannels      = "/ISAPI/ContentMgmt/InputProxy/channels"
	PathInputProxyChannelStatus = "/ISAPI/ContentMgmt/InputProxy/channels/status"
)

// InputProxyChannelList is GET /ISAPI/ContentMgmt/InputProxy/channels
// (docs/isapi.md §5.17, real on four recorders): one InputProxyChannel per IP
// channel. The root's size attribute does not match the number of channels
// on real recorders and is not read. Every element is optional.
//
// Some firmware sends the password the recorder logs into the camera with
// in the descriptor: no field here reads it, and none may.
type InputProxyChannelList struct {
	XMLName  xml.Name
	Channels []InputProxyChannel `xml:"InputProxyChannel"`
}

// InputProxyChannel is one IP channel of the list.
type InputProxyChannel struct {
	ID     string                  `xml:"id"`
	Name   string                  `xml:"name"`
	Source InputProxyChannelSource `xml:"sourceInputPortDescriptor"`
	// CertificateValidationEnabled: whether the recorder verifies the
	// camera's certificate (false on every sample that sends it).
	CertificateValidationEnabled OptionalBool `xml:"certificateValidationEnabled"`
}

// InputProxyChannelSource is a channel's sourceInputPortDescriptor: the
// camera and how the recorder reaches it.
type InputProxyChannelSource struct {
	ProxyProtocol   string `xml:"proxyProtocol"` // HIKVISION, ONVIF, ...
	IPAddress       string `xml:"ipAddress"`
	UserName        string `xml:"userName"` // the camera account the recorder logs in with
	Model           string `xml:"model"`
	SerialNumber    string `xml:"serialNumber"`
	FirmwareVersion string `xml:"firmwareVersion"` // version and build joined: "V5.7.15 build 240201"
}

// InputProxyChannelsEndpoint reads the channel list, cached: it is
// configuration. A well-formed answer that is not a channel list (a
// ResponseStatus sent with 200, an XHTML page) is refused rather than read
// as a recorder without channels.
var InputProxyChannelsEndpoint = Derived(PathInputProxyChannels, true, func(b []byte) (InputProxyChannelList, error) {
	var l InputProxyChannelList
	if err := Decode(b, &l); err != nil {
		return InputProxyChannelList{}, err
	}
	if l.XMLName.Local != "InputProxyChannelList" {
		return InputProxyChannelList{}, fmt.Errorf("answer is a %s document, not InputProxyChannelList", l.XMLName.Local)
	}
	return l, nil
}).Large()

// Firmware returns the channel's firmware as deviceInfo would have given
// it: firmwareVersion's version before "build", and the rest as
// firmwareReleasedDate, so that FirmwareBuild and FirmwareBuildTime read it
// the way they read a device's (docs/isapi.md §1). Only those two fields are set.
func (s *InputProxyChannelSource) Firmware() DeviceInfo {
	v := strings.TrimSpace(s.FirmwareVersion)
	i := strings.Index(strings.ToLower(v), "build")
	if i < 0 {
		return DeviceInfo{FirmwareVersion: v}
	}
	return DeviceInfo{FirmwareVersion: strings.TrimSpace(v[:i]), FirmwareReleasedDate: strings.TrimSpace(v[i:])}
}

// FirmwareBuildTime is the build date of the channel's firmware as
// midnight UTC, as DeviceInfo.FirmwareBuildTime.
func (s *InputProxyChannelSource) FirmwareBuildTime() (time.Time, bool) {
	fw := s.Firmware()
	return fw.FirmwareBuildTime()
}

// InputProxyChannelStatusList is GET
// /ISAPI/ContentMgmt/InputProxy/channels/status: whether the recorder
// reaches each IP channel's camera now (docs/isapi.md §5.17; shape from client
// code only, no capture). Its other elements (chanDetectResult, whose
// values vary by firmware, the address, the stream ids) are not read.
type InputProxyChannelStatusList struct {
	XMLName  xml.Name
	Channels []InputProxyChannelStatus `xml:"InputProxyChannelStatus"`
}

// InputProxyChannelStatus is one channel's state.
type InputProxyChannelStatus struct {
	ID     string       `xml:"id"`
	Online OptionalBool `xml:"online"`
}

// InputProxyChannelStatusEndpoint reads the channels' state, uncached:
// online is a live value. The list root is expected; a single
// InputProxyChannelStatus root (the per-channel answer) is read as a list
// of one, and any other document is refused.
var InputProxyChannelStatusEndpoint = Derived(PathInputProxyChannelStatus, false, func(b []byte) (InputProxyChannelStatusList, error) {
	var l InputProxyChannelStatusList
	if err := Decode(b, &l); err != nil {
		return InputProxyChannelStatusList{}, err
	}
	switch l.XMLName.Local {
	case "InputProxyChannelStatusList":
		return l, nil
	case "InputProxyChannelStatus":
		var one InputProxyChannelStatus
		if err := Decode(b, &one); err != nil {
			return InputProxyChannelStatusList{}, err
		}
		return InputProxyChannelStatusList{XMLName: l.XMLName, Channels: []InputProxyChannelStatus{one}}, nil
	}
	return InputProxyChannelStatusList{}, fmt.Errorf("answer is a %s document, not InputProxyChannelStatusList", l.XMLName.Local)
}).Large()
