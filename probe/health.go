package probe

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// A fleet has devices that are always offline; logging every failed probe
// of each buries everything else. So routine failures log at debug, and a
// device logs at info or warn only when its state changes: up, down, its
// credentials rejected, its account locked, a collector starting or
// stopping to fail.

// deviceState is what the exporter last knew of a device.
type deviceState string

const (
	stateUnknown  deviceState = ""
	stateUp       deviceState = "up"
	stateDown     deviceState = "down"
	stateRejected deviceState = "rejected"
	stateLocked   deviceState = "locked"
)

// health remembers a device's state and failing collectors between probes.
type health struct {
	mu      sync.Mutex
	state   deviceState
	failing map[string]bool
}

// note records the state a probe found and logs it when it changed.
func (h *health) note(logger *slog.Logger, state deviceState, err error, retryAt time.Time) {
	h.mu.Lock()
	previous := h.state
	h.state = state
	h.mu.Unlock()
	if previous == state {
		if err != nil {
			logger.Debug("Probe failed", "state", string(state), "err", err)
		}
		return
	}
	switch state {
	case stateUp:
		level := slog.LevelInfo
		if previous == stateUnknown {
			level = slog.LevelDebug // the first probe of each device after a start is no news
		}
		logger.Log(context.Background(), level, "Device up", "was", string(previous))
	case stateDown:
		logger.Warn("Device down", "err", err)
	case stateRejected:
		logger.Warn("Device rejected the credentials, or may have; holding off", "err", err, "retry_at", retryAt)
	case stateLocked:
		logger.Warn("Device reports the account locked; holding off", "err", err, "retry_at", retryAt)
	}
}

// collector records whether a collector failed and logs when that changed.
func (h *health) collector(logger *slog.Logger, name string, err error) {
	h.mu.Lock()
	if h.failing == nil {
		h.failing = map[string]bool{}
	}
	was := h.failing[name]
	h.failing[name] = err != nil
	h.mu.Unlock()
	switch {
	case err != nil && !was:
		logger.Warn("Collector failing", "collector", name, "err", err)
	case err != nil:
		logger.Debug("Collector failed", "collector", name, "err", err)
	case was:
		logger.Info("Collector recovered", "collector", name)
	}
}
