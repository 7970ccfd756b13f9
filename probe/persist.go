package probe

import (
	"log/slog"
	"sync"
	"time"

	"github.com/hikvision-exporter/hikvision_exporter/isapi"
	"github.com/hikvision-exporter/hikvision_exporter/storage"
)

// persister writes the ledger's hold-offs and the States' persisted values
// to the storage directory: at once after a hold-off changes (a restart
// right after a rejection must not cost another failed login), every
// minute for the log cursors, and when the handler closes.
type persister struct {
	dir    string
	ledger *isapi.Ledger
	pool   *pool
	logger *slog.Logger

	wake chan struct{}
	stop chan struct{}
	done chan struct{}
	once sync.Once
}

// persistEvery is how often values other than hold-offs are saved.
const persistEvery = time.Minute

// startPersister restores the state in dir and keeps saving it. Without a
// dir, or with one that is not writable, the exporter runs without
// persistence (and says so) rather than not at all.
func startPersister(dir string, ledger *isapi.Ledger, pl *pool, logger *slog.Logger) *persister {
	if dir == "" {
		return nil
	}
	if err := storage.Writable(dir); err != nil {
		logger.Warn("Running without persistence: hold-offs and log cursors will not survive a restart", "err", err)
		return nil
	}
	st, err := storage.Load(dir)
	if err != nil {
		logger.Warn("Ignoring the state file; starting without the saved hold-offs and log cursors", "err", err)
	} else {
		ledger.Restore(st.HoldOffs)
		pl.restore(st.Values)
		logger.Info("Restored state", "path", dir, "hold_offs", len(st.HoldOffs), "devices", len(st.Values))
	}
	p := &persister{
		dir: dir, ledger: ledger, pool: pl, logger: logger,
		wake: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{}),
	}
	ledger.OnChange(p.poke)
	go p.loop()
	return p
}

func (p *persister) poke() {
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

// persistGap is the least time between two saves: a storm of rejections
// across a fleet is written once a second, not once per device.
const persistGap = time.Second

func (p *persister) loop() {
	defer close(p.done)
	tick := time.NewTicker(persistEvery)
	defer tick.Stop()
	for {
		select {
		case <-p.wake:
		case <-tick.C:
		case <-p.stop:
			p.save()
			return
		}
		p.save()
		select {
		case <-time.After(persistGap):
		case <-p.stop:
			p.save()
			return
		}
	}
}

func (p *persister) save() {
	st := storage.State{HoldOffs: p.ledger.Snapshot(), Values: p.pool.snapshot()}
	if err := storage.Save(p.dir, st); err != nil {
		p.logger.Error("Cannot save state", "err", err)
	}
}

// close saves once more and stops.
func (p *persister) close() {
	if p == nil {
		return
	}
	p.once.Do(func() {
		p.ledger.OnChange(nil)
		close(p.stop)
		<-p.done
	})
}
