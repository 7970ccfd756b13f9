// Package deploy holds the tests of the deployment files beside it: the
// systemd unit in systemd/ and the Helm chart in helm/hikvision-exporter/.
//
// It is a module of its own, so that the libraries the tests use (Helm, the
// Kubernetes API types, the Prometheus Operator's types, go-systemd) stay out
// of the exporter's go.mod. `make deploy-test` runs the tests, and `make test`
// runs that.
package deploy
