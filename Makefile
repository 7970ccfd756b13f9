# The README's test command is `make test`: every check CI runs.
GO       ?= go
FUZZTIME ?= 5s

.PHONY: test deps vet fmt lint tidy unit fuzz bench-smoke build demo

test: deps vet fmt lint tidy fuzz bench-smoke unit

build:
	$(GO) build -o hikvision_exporter .

demo:
	$(GO) run . --demo

# promtool and prometheus (Debian's prometheus package) run the alert-rule
# tests and the end-to-end tests; install them when missing and possible.
deps:
	@if ! command -v promtool >/dev/null || ! command -v prometheus >/dev/null; then \
		if command -v apt-get >/dev/null; then \
			SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
			echo "Installing Debian's prometheus package (promtool, prometheus)"; \
			$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends prometheus >/dev/null; \
		fi; \
	fi
	@command -v promtool >/dev/null || { echo "promtool missing: install Debian's prometheus package"; exit 1; }
	@command -v prometheus >/dev/null || { echo "prometheus missing: install Debian's prometheus package"; exit 1; }

vet:
	$(GO) vet ./...

fmt:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

# golangci-lint, pinned in tools/go.mod so that every machine runs the same
# version; its configuration is .golangci.yml.
lint:
	$(GO) tool -modfile=tools/go.mod golangci-lint run ./...

tidy:
	$(GO) mod tidy -diff

unit:
	$(GO) test -race -count=1 ./...

# A short run of every fuzz target, seeded from the committed corpora; see
# .ci/fuzz for how a real finding is told from a fuzzing-engine flake.
fuzz:
	GO=$(GO) FUZZTIME=$(FUZZTIME) bash .ci/fuzz

# Benchmarks only have to still work in CI; figures are taken by hand (BENCHMARKS.md).
bench-smoke:
	$(GO) test -run '^$$' -bench . -benchtime 1x ./... >/dev/null
