# Deskside — `make help` lists the targets.
GO        ?= go
PKGS      := ./...
# The agent process (core, CLI, tray) must build without cgo on every OS; only
# the fyne window program (agent/cmd/deskside-ui, agent/ui/windows) needs cgo.
CORE_PKGS := ./shared/... ./agent/agentapi/... ./agent/internal/... ./agent ./agent/ui/tray/... ./agent/ui/hotkey/... ./agent/ui/uiapp/... ./agent/ui/icon/...
STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2

.PHONY: help run test lint vet crossvet unit bench screenshots deps
help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'

deps: ## install the Debian packages and Go modules Deskside needs (idempotent)
	@bash scripts/deps.sh

run: deps ## run Deskside here: server on SQLite + a local agent enrolled to it
	@bash scripts/run-local.sh

test: deps lint crossvet unit ## the full test suite (what CI runs)

lint: ## gofmt, go vet, staticcheck
	@echo "== gofmt"; out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed: $$out"; exit 1; fi
	@echo "== go vet"; $(GO) vet $(PKGS)
	@echo "== staticcheck"; $(GO) run $(STATICCHECK) $(PKGS)

crossvet: ## vet the agent core for Windows and macOS (CGO_ENABLED=0)
	@for os in windows darwin linux; do echo "== vet GOOS=$$os"; CGO_ENABLED=0 GOOS=$$os $(GO) vet $(CORE_PKGS) || exit 1; done

unit: ## go test -race over every package (real SQLite, real sockets, Xvfb, Chromium)
	@echo "== go test -race"; $(GO) test -race -count=1 -timeout 30m $(PKGS)

bench: ## fleet simulator at full scale (19k devices, ~15 min) + go benchmarks; see docs/benchmarks.md
	@bash scripts/bench.sh
	$(GO) test -run '^$$' -bench . -benchmem ./shared/... ./server/... ./agent/internal/...

screenshots: ## re-take the console and agent screenshots in docs/screenshots
	DESKSIDE_SCREENSHOTS=1 $(GO) test -count=1 -run 'TestConsolePages|TestFlow|TestUpdates' ./server/internal/console/
	bash scripts/screenshots-agent.sh
