// Package e2e holds end-to-end tests: they build the hikvision_exporter
// binary, run it against simulated devices (and, in prometheus_test.go, a
// real Prometheus server), and check what users see.
package e2e
