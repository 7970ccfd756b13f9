# The README's test command is `make test`: every check CI runs.
GO       ?= go
FUZZTIME ?= 5s

.PHONY: test deps vet fmt lint tidy unit fuzz bench-smoke build docker demo

test: deps vet fmt lint tidy fuzz bench-smoke unit deploy-test

# Build metadata, shown by --version and hikvision_exporter_build_info:
# the release from VERSION, the rest from git when there is a checkout. The
# Docker build has no .git (see .dockerignore): `make docker` passes the
# revision, branch and user as build arguments. An empty REVISION leaves
# the one Go records from the checkout, or "unknown".
VERSION    ?= $(shell cat VERSION)
REVISION   ?= $(shell git rev-parse HEAD 2>/dev/null)
BRANCH     ?= $(shell git rev-parse --abbrev-ref HEAD 2>/dev/null)
BUILD_USER ?= $(shell id -un 2>/dev/null)@$(shell hostname 2>/dev/null)
BUILD_DATE ?= $(shell date -u +%Y%m%d-%H:%M:%S)
VERSION_PKG := github.com/prometheus/common/version
LDFLAGS = -X $(VERSION_PKG).Version=$(VERSION) -X $(VERSION_PKG).Revision=$(REVISION) \
	-X $(VERSION_PKG).Branch=$(BRANCH) -X $(VERSION_PKG).BuildUser=$(BUILD_USER) \
	-X $(VERSION_PKG).BuildDate=$(BUILD_DATE) $(EXTRA_LDFLAGS)
# OUT: where the binary goes; BUILDFLAGS and EXTRA_LDFLAGS: what the Docker
# build adds (-trimpath, -s -w). The e2e tests build with this target too.
OUT ?= hikvision_exporter

build:
	$(GO) build $(BUILDFLAGS) -ldflags '$(LDFLAGS)' -o $(OUT) .

docker:
	docker build --build-arg REVISION=$(REVISION) --build-arg BRANCH=$(BRANCH) \
		--build-arg BUILD_USER=$(BUILD_USER) -t hikvision_exporter:$(VERSION) .

demo:
	$(GO) run . --demo

# promtool and prometheus (Debian's prometheus package), amtool and the
# Alertmanager (its prometheus-alertmanager package; a release tarball's
# binary is called alertmanager) run the alert-rule tests and the
# end-to-end tests; install them when missing and possible. A service the
# packages start is left alone: the tests start their own servers on free
# ports.
deps:
	@missing=; for b in promtool prometheus amtool; do command -v $$b >/dev/null || missing="$$missing $$b"; done; \
	command -v prometheus-alertmanager >/dev/null || command -v alertmanager >/dev/null || missing="$$missing prometheus-alertmanager"; \
	if [ -n "$$missing" ] && command -v apt-get >/dev/null; then \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		echo "Installing Debian's prometheus and prometheus-alertmanager packages (missing:$$missing)"; \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends prometheus prometheus-alertmanager >/dev/null; \
	fi
	@for b in promtool prometheus amtool; do \
		command -v $$b >/dev/null || { echo "$$b missing: install Debian's prometheus and prometheus-alertmanager packages"; exit 1; }; \
	done
	@command -v prometheus-alertmanager >/dev/null || command -v alertmanager >/dev/null || \
		{ echo "the Alertmanager is missing: install Debian's prometheus-alertmanager package"; exit 1; }

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

# The deployment files under deploy/ (README, "Deploying"): the systemd unit
# through systemd-analyze, from Debian's systemd package (with procps, for
# the /bin/kill of its ExecReload), installed when missing and possible; the
# Helm chart through Helm's own libraries. deploy/ is a Go module of its own,
# so that Helm and the Kubernetes types stay out of the exporter's go.mod.
.PHONY: deploy-test
deploy-test:
	@if ! command -v systemd-analyze >/dev/null || [ ! -x /bin/kill ]; then \
		if command -v apt-get >/dev/null; then \
			SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
			echo "Installing Debian's systemd and procps packages (systemd-analyze, kill)"; \
			$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends systemd procps >/dev/null; \
		fi; \
	fi
	@command -v systemd-analyze >/dev/null || { echo "systemd-analyze missing: install Debian's systemd package"; exit 1; }
	cd deploy && $(GO) mod tidy -diff && $(GO) vet ./... && $(GO) test -count=1 ./...
