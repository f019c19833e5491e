# Deskside — `make help` lists the targets.
GO        ?= go
PKGS      := ./...
# The agent process (core, CLI, tray) must build without cgo on every OS; only
# the fyne window program (agent/cmd/deskside-ui, agent/ui/windows) needs cgo.
CORE_PKGS := ./shared/... ./agent/agentapi/... ./agent/internal/... ./agent ./agent/ui/tray/... ./agent/ui/hotkey/... ./agent/ui/uiapp/... ./agent/ui/icon/...
# staticcheck is built once by `make deps` into bin/, named by its version, so
# lint neither downloads nor compiles it in the middle of `make test`.
STATICCHECK_VERSION := v0.8.2
# The name carries the Go version too: a staticcheck built by an older Go
# cannot read code for a newer one.
STATICCHECK := bin/staticcheck-$(STATICCHECK_VERSION)-$(shell $(GO) env GOVERSION)
# How long `make fuzz` runs each fuzz target; `make test` runs each for 10s.
FUZZTIME  ?= 30s

.PHONY: help run test lint vet crossvet unit fuzz fuzz-short bench screenshots deps
help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'

deps: ## install what building and testing need: Debian packages, Go modules, staticcheck, PostgreSQL + NATS (idempotent)
	@bash scripts/deps.sh
	@$(MAKE) -s --no-print-directory $(STATICCHECK)

$(STATICCHECK):
	@echo "== building staticcheck $(STATICCHECK_VERSION) into $@"
	@tmp=$$(mktemp -d) && GOBIN=$$tmp $(GO) install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION) && mkdir -p $(@D) && mv $$tmp/staticcheck $@ && rm -rf $$tmp

# make run needs only what builds: the packages and Go modules, not the test
# services or tools.
run: ## run Deskside here: server on SQLite + a local agent enrolled to it
	@bash scripts/deps.sh run
	@bash scripts/run-local.sh

# unit comes last so the run ends with its summary (what passed, failed and
# was skipped, and why).
test: deps lint crossvet fuzz-short unit ## the full test suite (what CI runs)

lint: $(STATICCHECK) ## go mod tidy, gofmt, go vet, staticcheck
	@echo "== go mod tidy"; out=$$($(GO) mod tidy -diff 2>&1) || { echo "$$out"; echo "go.mod/go.sum are not tidy: run 'go mod tidy' and commit the result (a module imported directly must not be marked // indirect)"; exit 1; }
	@echo "== gofmt"; out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed: $$out"; exit 1; fi
	@echo "== go vet"; $(GO) vet $(PKGS)
	@echo "== staticcheck"; $(STATICCHECK) $(PKGS)

crossvet: ## vet the agent core for Windows and macOS (CGO_ENABLED=0)
	@for os in windows darwin linux; do echo "== vet GOOS=$$os"; CGO_ENABLED=0 GOOS=$$os $(GO) vet $(CORE_PKGS) || exit 1; done

# go test's JSON goes through scripts/testsummary, which prints what plain go
# test prints (the ok/FAIL lines, the output of what failed), then which
# tests were skipped and why, and last "N passed, N failed, N skipped". It
# runs go test itself, so go test's own exit status fails the target too.
unit: ## go test -race over every package (real SQLite, real sockets, Xvfb, Chromium), then a summary
	@echo "== go test -race"; $(GO) build -o bin/testsummary ./scripts/testsummary && bin/testsummary $(GO) test -race -count=1 -json -timeout 30m $(PKGS)

# go test -fuzz takes one package and one target, so each target runs on its
# own: every `func FuzzX(f *testing.F)` in a test file that git knows of
# (committed or not ignored) is found here, with no list to keep up to date.
# Inputs that fail are written to the package's testdata/fuzz/FuzzX/: commit
# them with the fix, they are then seeds every `go test` runs. Go 1.26's fuzz
# coordinator can fail a target with a bare "context deadline exceeded" at
# the end of -fuzztime on a loaded machine (go.dev/issue/75804, fixed in Go
# 1.27): that alone, with no failing input written, re-runs the target's
# seeds instead of failing; any written input still fails.
fuzz: ## run every fuzz target for FUZZTIME each (default 30s; FUZZTIME=2m make fuzz)
	@set -e; targets=$$(git ls-files --cached --others --exclude-standard '*_test.go' | xargs -r grep -H -o '^func Fuzz[A-Za-z0-9_]*([A-Za-z_][A-Za-z0-9_]* \*testing\.F)' | sed -E 's/^(.*):func (Fuzz[A-Za-z0-9_]*).*/\1 \2/' | sort -u); \
	[ -n "$$targets" ] || { echo "no fuzz targets found"; exit 1; }; \
	echo "$$targets" | while read -r file name; do \
		dir=$$(dirname "$$file"); echo "== fuzz $$name ./$$dir ($(FUZZTIME))"; \
		corpus="$$dir/testdata/fuzz/$$name"; before=$$(ls "$$corpus" 2>/dev/null | wc -l); log=$$(mktemp); \
		rc=0; $(GO) test -run '^$$' -fuzz "^$$name\$$" -fuzztime $(FUZZTIME) "./$$dir" >"$$log" 2>&1 || rc=$$?; cat "$$log"; \
		if [ "$$rc" != 0 ]; then \
			after=$$(ls "$$corpus" 2>/dev/null | wc -l); \
			if [ "$$after" = "$$before" ] && grep -q '^    context deadline exceeded$$' "$$log" && ! grep -q 'Failing input written' "$$log"; then \
				echo "== $$name: Go's fuzz coordinator hit its own deadline with no failing input (go.dev/issue/75804, unfixed in Go 1.26); its seeds run again:"; \
				$(GO) test -run "^$$name\$$" "./$$dir" || { rm -f "$$log"; exit 1; }; \
			else rm -f "$$log"; exit 1; fi; \
		fi; rm -f "$$log"; \
	done

fuzz-short: ## every fuzz target for 10s (part of make test)
	@$(MAKE) --no-print-directory fuzz FUZZTIME=10s

bench: ## fleet simulator at full scale (19k devices, ~15 min) + go benchmarks; see docs/benchmarks.md
	@bash scripts/bench.sh
	$(GO) test -run '^$$' -bench . -benchmem ./shared/... ./server/... ./agent/internal/...

screenshots: ## re-take the console and agent screenshots in docs/screenshots
	DESKSIDE_SCREENSHOTS=1 $(GO) test -count=1 -run 'TestConsolePages|TestFlow|TestUpdates|TestReflowAt320|TestSignInPointsToSetupFirst|TestTwoTechnicians|TestHeadsUpPage|TestArticlesPage' ./server/internal/console/
	bash scripts/screenshots-agent.sh
	bash scripts/screenshots-agent-selfhelp.sh
	bash scripts/screenshot-heads-up.sh
	bash scripts/screenshots-agent-software.sh
