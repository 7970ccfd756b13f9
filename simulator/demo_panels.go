package simulator

import "time"

// panelDemoDevices are demo devices that give every dashboard panel
// something to show.
func panelDemoDevices(_ time.Time) []demoDevice { return nil }
