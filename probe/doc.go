// Package probe serves /probe: it parses the query, limits the probes in
// flight, checks the credentials once per probe against the lockout
// ledger, runs the enabled collectors concurrently under a deadline of
// their own, and keeps one client per device and credential between
// probes, with what must survive a restart saved under --storage.path.
package probe
