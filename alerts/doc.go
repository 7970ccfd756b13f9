// Package alerts holds the Prometheus alerting rules shipped with
// hikvision_exporter (hikvision.rules.yml, with promtool unit tests in
// hikvision.rules_test.yml) and the code that finds every PromQL expression in
// those rules and in the Grafana dashboards of ../dashboards.
//
// The tests of this package run `promtool check rules` and `promtool test
// rules`, and have Prometheus' own parser validate every dashboard
// expression. MetricNames lists the hikvision_* metrics the rules and
// dashboards depend on, so an end-to-end test can check that the exporter
// really emits each of them.
package alerts
