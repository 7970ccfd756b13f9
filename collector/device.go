package collector

import (
	"context"
	"time"

	"github.com/hikvision-exporter/hikvision_exporter/advisory"
	"github.com/hikvision-exporter/hikvision_exporter/config"
	"github.com/hikvision-exporter/hikvision_exporter/isapi"
)

var (
	deviceInfoDesc = newDesc("device_info",
		"Device identity from /ISAPI/System/deviceInfo; value 1.",
		"model", "serial_number", "firmware_version", "firmware_build", "device_type", "device_name", "mac_address")
	firmwareBuildDesc = newDesc("firmware_build_timestamp_seconds",
		"Firmware build date (firmwareReleasedDate \"build YYMMDD\") as midnight UTC.")
	firmwareAdvisoryDesc = newDesc("firmware_advisory",
		"1 when model, firmware version and build fall inside an affected range of the advisory, 0 when the advisory covers the model but the firmware is outside every affected range. "+
			"Absent for advisories that do not cover the model, or when the firmware version and build are both unreadable. "+
			"CVE-2021-36260 is a heuristic (any IP camera or PTZ with a firmware build date before 210628), not Hikvision's per-platform table.",
		"cve")
	firmwareBelowMinimumDesc = newDesc("firmware_below_minimum",
		"1 when the firmware version is lower than the version of the first firmware_minimums entry whose models match the device, else 0. Absent when no entry matches.")
)

type deviceCollector struct{}

func init() { registerCollector("device", deviceCollector{}) }

func (deviceCollector) Collect(ctx context.Context, d *Probe, m *Metrics) error {
	info, err := d.Client.DeviceInfo(ctx, time.Duration(d.Module.CacheTTL))
	if ok, err := m.Optional("device_info", err); !ok {
		return err
	}
	m.Gauge(deviceInfoDesc, 1,
		info.Model, info.SerialNumber, info.FirmwareVersion, info.FirmwareBuild(),
		info.DeviceType, info.DeviceName, info.MacAddress)
	if t, ok := info.FirmwareBuildTime(); ok {
		m.Timestamp(firmwareBuildDesc, t)
	}
	firmwareAdvisories(m, d.Config, info)
	return nil
}

// firmwareAdvisories emits the advisory and minimum-version metrics for a
// device's deviceInfo (see advisory/ADVISORIES.md): the built-in advisory
// table merged with the configured one, and the configured minimums.
func firmwareAdvisories(m *Metrics, cfg *config.Config, info *isapi.DeviceInfo) {
	var configured []advisory.Advisory
	var mins []advisory.Minimum
	if cfg != nil {
		configured, mins = cfg.FirmwareAdvisories, cfg.FirmwareMinimums
	}
	dev := advisory.Device{Model: info.Model, DeviceType: info.DeviceType, FirmwareVersion: info.FirmwareVersion}
	if _, ok := info.FirmwareBuildTime(); ok { // a build that is not a real date is unknown
		dev.Build = info.FirmwareBuild()
	}
	for _, r := range advisory.Evaluate(advisory.Merge(configured), dev) {
		v := 0.0
		if r.Vulnerable {
			v = 1
		}
		m.Gauge(firmwareAdvisoryDesc, v, r.ID)
	}
	if below, ok := advisory.BelowMinimum(mins, info.Model, info.FirmwareVersion); ok {
		v := 0.0
		if below {
			v = 1
		}
		m.Gauge(firmwareBelowMinimumDesc, v)
	}
}
