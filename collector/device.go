package collector

import (
	"context"
	"time"
)

var (
	deviceInfoDesc = newDesc("device_info",
		"Device identity from /ISAPI/System/deviceInfo; value 1.",
		"model", "serial_number", "firmware_version", "firmware_build", "device_type", "device_name", "mac_address")
	firmwareBuildDesc = newDesc("firmware_build_timestamp_seconds",
		"Firmware build date (firmwareReleasedDate \"build YYMMDD\") as midnight UTC.")
)

type deviceCollector struct{}

func init() { registerCollector("device", deviceCollector{}) }

func (deviceCollector) Collect(ctx context.Context, d *Device, m *Metrics) error {
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
