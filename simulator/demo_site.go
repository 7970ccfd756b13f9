package simulator

import "time"

// siteDemoDevices are the demo's site devices: a recorder with cameras
// behind it and a camera with SNMP open.
func siteDemoDevices(_ time.Time) []demoDevice { return nil }
