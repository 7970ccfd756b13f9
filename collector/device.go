package collector

import (
	"context"

	"github.com/hikvision-exporter/hikvision_exporter/advisory"
	"github.com/hikvision-exporter/hikvision_exporter/config"
	"github.com/hikvision-exporter/hikvision_exporter/isapi"
)

var (
	deviceInfoDesc           = NewDesc("device_info", "Device identity from /ISAPI/System/deviceInfo, value 1.", "model", "serial_number", "firmware_version", "firmware_build", "device_type", "device_name", "mac_address")
	firmwareBuildDesc        = NewDesc("firmware_build_timestamp_seconds", "Firmware build date (firmwareReleasedDate \"build YYMMDD\") as midnight UTC.")
	firmwareAdvisoryDesc     = NewDesc("firmware_advisory", "1 when model, firmware version and build fall inside an affected range of the advisory, 0 when they do not (the firmware is outside every range, or the model outside every family the advisory covers).", "cve")
	firmwareBelowMinimumDesc = NewDesc("firmware_below_minimum", "1 when the firmware version is below that of the first firmware_minimums entry matching the model, else 0.")
)

type deviceCollector struct{}

func init() { registerCollector("device", deviceCollector{}) }

func (deviceCollector) Collect(ctx context.Context, d *Probe, m *Metrics) error {
	info, err := isapi.Fetch(ctx, d.Client, isapi.DeviceInfoEndpoint)
	if ok, err := m.Optional("device_info", err); !ok {
		return err
	}
	m.Gauge(deviceInfoDesc, 1,
		info.Model, info.SerialNumber, info.FirmwareVersion, info.FirmwareBuild(),
		info.DeviceType, info.DeviceName, info.MacAddress)
	if t, ok := info.FirmwareBuildTime(); ok {
		m.Timestamp(firmwareBuildDesc, t)
	}
	firmwareAdvisories(m, d.Config, &info)
	return nil
}

// firmwareAdvisories emits the advisory and minimum-version metrics for a
// device's deviceInfo (see advisory/ADVISORIES.md): the built-in advisory
// table merged with the configured one, a verdict for every advisory id
// (0 also for a model outside every family of the advisory), and the
// configured minimums.
func firmwareAdvisories(m *Metrics, cfg *config.Config, info *isapi.DeviceInfo) {
	var configured []advisory.Advisory
	var mins []advisory.Minimum
	if cfg != nil {
		configured, mins = cfg.FirmwareAdvisories, cfg.FirmwareMinimums
	}
	firmware := advisory.Device{Model: info.Model, DeviceType: info.DeviceType, FirmwareVersion: info.FirmwareVersion}
	if _, ok := info.FirmwareBuildTime(); ok { // a build that is not a real date is unknown
		firmware.Build = info.FirmwareBuild()
	}
	for _, r := range advisory.EvaluateAll(advisory.Merge(configured), firmware) {
		m.Gauge(firmwareAdvisoryDesc, boolFloat(r.Vulnerable), r.ID)
	}
	if below, ok := advisory.BelowMinimum(mins, info.Model, info.FirmwareVersion); ok {
		m.Gauge(firmwareBelowMinimumDesc, boolFloat(below))
	}
}
