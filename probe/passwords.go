package probe

import (
	"log/slog"
	"sync"
)

// passwordErrors logs a module's unreadable password (password_file) when
// it starts failing, when the error changes and when the file can be read
// again, not on every probe: every device of the module fails the same way,
// and a fleet would log thousands of identical errors a minute.
type passwordErrors struct {
	mu      sync.Mutex
	failing map[string]string // module -> the error last logged
}

func (pe *passwordErrors) failed(logger *slog.Logger, module string, err error) {
	const msg = "Cannot read the module's password; not contacting its devices"
	pe.mu.Lock()
	defer pe.mu.Unlock()
	if pe.failing[module] == err.Error() {
		logger.Debug(msg, "err", err)
		return
	}
	if pe.failing == nil {
		pe.failing = map[string]string{}
	}
	pe.failing[module] = err.Error()
	logger.Error(msg, "err", err)
}

func (pe *passwordErrors) read(logger *slog.Logger, module string) {
	pe.mu.Lock()
	defer pe.mu.Unlock()
	if _, ok := pe.failing[module]; ok {
		delete(pe.failing, module)
		logger.Info("The module's password can be read again")
	}
}
