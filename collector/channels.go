package collector

import (
	"context"
	"strings"

	"github.com/hikvision-exporter/hikvision_exporter/advisory"
	"github.com/hikvision-exporter/hikvision_exporter/isapi"
)

// The channels area reports the cameras behind a recorder (docs/isapi.md §5.17):
// cameras on a recorder's PoE ports live on its private network, out of the
// exporter's reach, and its IP channel list is how their model and firmware
// can still be checked against the advisories. It also reports how the
// recorder logs into each camera. The list is configuration (cached), the
// online state is live (read on every probe, in one request for all
// channels); a device without the list (a camera) is asked nothing more.

var (
	channelInfoDesc             = NewDesc("channel_info", "IP channel of a recorder and the camera behind it, from /ISAPI/ContentMgmt/InputProxy/channels, value 1.", "channel", "name", "ip_address", "protocol", "model", "serial_number", "firmware_version", "firmware_build")
	channelOnlineDesc           = NewDesc("channel_online", "1 when the recorder reaches the IP channel's camera, else 0.", "channel")
	channelFirmwareBuildDesc    = NewDesc("channel_firmware_build_timestamp_seconds", "Firmware build date of the IP channel's camera as midnight UTC.", "channel")
	channelFirmwareAdvisoryDesc = NewDesc("channel_firmware_advisory", "1 when the IP channel camera's model, firmware version and build fall inside an affected range of the advisory, 0 when they do not (the firmware is outside every range, or the model outside every family the advisory covers).", "channel", "cve")
	channelAdminAccountDesc     = NewDesc("channel_admin_account", "1 when the recorder logs into the IP channel's camera as admin, 0 for another account.", "channel")
	channelCertValidationDesc   = NewDesc("channel_certificate_validation_enabled", "1 when the recorder verifies the IP channel camera's certificate, else 0.", "channel")
)

// channelDeviceType is the deviceType the advisories see for a channel:
// the recorder does not say, and a channel is a camera.
const channelDeviceType = "IPCamera"

type channelsCollector struct{}

func init() { registerCollector("channels", channelsCollector{}) }

func (channelsCollector) Collect(ctx context.Context, d *Probe, m *Metrics) error {
	list, err := isapi.Fetch(ctx, d.Client, isapi.InputProxyChannelsEndpoint)
	if ok, err := m.Optional("input_proxy_channels", err); !ok {
		return err // nil when the device has no IP channels (a camera)
	}
	channels := channelsByID(list.Channels)
	if len(channels) == 0 {
		return nil // nothing whose state to ask for
	}

	var advisories []advisory.Advisory
	if d.Config != nil {
		advisories = d.Config.FirmwareAdvisories
	}
	advisories = advisory.Merge(advisories)
	for _, c := range channels {
		emitChannel(m, advisories, c)
	}

	status, err := isapi.Fetch(ctx, d.Client, isapi.InputProxyChannelStatusEndpoint)
	if ok, err := m.Optional("input_proxy_channels_status", err); !ok {
		return err
	}
	seen := make(map[string]bool, len(status.Channels))
	for _, s := range status.Channels {
		id := strings.TrimSpace(s.ID)
		if id == "" || seen[id] {
			continue
		}
		seen[id] = true
		m.Bool(channelOnlineDesc, s.Online, id)
	}
	return nil
}

// channelsByID returns the channels that have an id, the first of each id,
// in document order: a channel's series are told apart by its id alone.
func channelsByID(list []isapi.InputProxyChannel) []*isapi.InputProxyChannel {
	out := make([]*isapi.InputProxyChannel, 0, len(list))
	seen := make(map[string]bool, len(list))
	for i := range list {
		id := strings.TrimSpace(list[i].ID)
		if id == "" || seen[id] {
			continue
		}
		seen[id] = true
		out = append(out, &list[i])
	}
	return out
}

// emitChannel emits one channel's identity and posture. The channel is part
// of a cached value: it is read, never modified.
func emitChannel(m *Metrics, advisories []advisory.Advisory, c *isapi.InputProxyChannel) {
	id := strings.TrimSpace(c.ID)
	src := &c.Source
	model := strings.TrimSpace(src.Model)
	fw := src.Firmware()
	m.Gauge(channelInfoDesc, 1, id,
		strings.TrimSpace(c.Name), strings.TrimSpace(src.IPAddress), strings.TrimSpace(src.ProxyProtocol),
		model, strings.TrimSpace(src.SerialNumber), fw.FirmwareVersion, fw.FirmwareBuild())
	built, hasBuild := fw.FirmwareBuildTime()
	if hasBuild {
		m.Timestamp(channelFirmwareBuildDesc, built, id)
	}
	if user := strings.TrimSpace(src.UserName); user != "" {
		m.Gauge(channelAdminAccountDesc, boolFloat(strings.EqualFold(user, "admin")), id)
	}
	m.Bool(channelCertValidationDesc, c.CertificateValidationEnabled, id)

	if fw.FirmwareVersion == "" && !hasBuild {
		return // the recorder gives no firmware for this channel
	}
	firmware := advisory.Device{Model: model, DeviceType: channelDeviceType, FirmwareVersion: fw.FirmwareVersion}
	if hasBuild { // a build that is not a real date is unknown, as for the device
		firmware.Build = fw.FirmwareBuild()
	}
	// A verdict on every advisory, 0 also for a model outside every family
	// of it, as for the device.
	for _, r := range advisory.EvaluateAll(advisories, firmware) {
		m.Gauge(channelFirmwareAdvisoryDesc, boolFloat(r.Vulnerable), id, r.ID)
	}
}
