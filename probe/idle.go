package probe

import (
	"context"

	"github.com/hikvision-exporter/hikvision_exporter/isapi"
)

// WaitIdle waits until no device client has background work left: cache
// refreshes after a probe, or a credential check that outlived its probe.
// Tests and benchmarks use it to count what a probe set off before the
// next one, instead of guessing how long that takes.
func (h *Handler) WaitIdle(ctx context.Context) error {
	h.prober.pool.mu.Lock()
	clients := make([]*isapi.Client, 0, len(h.prober.pool.states))
	for _, s := range h.prober.pool.states {
		clients = append(clients, s.client)
	}
	h.prober.pool.mu.Unlock()
	for _, c := range clients {
		if err := c.WaitTrial(ctx); err != nil {
			return err
		}
		if err := c.WaitRefreshed(ctx); err != nil {
			return err
		}
	}
	return nil
}
