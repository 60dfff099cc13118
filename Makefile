# Strongroom. `make run` builds and starts the vault on ./data; `make test`
# runs everything CI runs.
GO          ?= go
BIN         := bin/strongroom
STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2
# Each fuzz target as package:Name:budget. Budgets are execution counts (Nx),
# not durations: on go1.26 a duration -fuzztime can fail spuriously with
# "context deadline exceeded" at the deadline (golang/go#75804, fixed in
# Go 1.27). `make fuzz FUZZTIME=5m` overrides every budget.
FUZZTIME    ?=
FUZZ_TARGETS := ./audit:FuzzVerifyJSONL:300000x ./audit:FuzzFastPathAgrees:300000x \
                ./audit:FuzzOpenCheckpoint:100000x ./audit:FuzzReadCheckpoint:100000x ./audit:FuzzOpenTransition:50000x ./audit:FuzzOpenWitnessed:100000x ./escrow:FuzzDecode:200000x \
                ./vault/barrier:FuzzOpenBlob:300000x ./vault/passwords:FuzzParsePHC:300000x \
                ./vault/credentials:FuzzNormaliseTOTP:200000x ./vault/credentials:FuzzJudgeSite:100000x ./vault/backup:FuzzParseBackup:200000x \
                ./api:FuzzRequestBodies:3000x ./api:FuzzWebForms:3000x ./api:FuzzDecodeStrict:100000x ./api:FuzzMetricsToken:30000x ./api/wire:FuzzParseAge:50000x \
                ./vault/access:FuzzNormaliseName:50000x \
                ./transfer:FuzzDecodeKDBX:1000x ./transfer:FuzzKeePassXML:100000x \
                ./transfer:FuzzDecodeBitwardenJSON:100000x ./transfer:FuzzDecodeBitwardenCSV:100000x \
                ./transfer:FuzzDecodeCSV:100000x ./transfer:FuzzExportOTP:100000x \
                ./vault/identity:FuzzParseEmail:50000x ./vault/identity:FuzzParseUserCode:50000x ./vault/identity:FuzzPasskeyAnswer:20000x ./api:FuzzDeviceBodies:3000x ./internal/notify:FuzzParseSMTPURL:50000x ./internal/notify:FuzzParseWebhookURL:50000x \
                ./internal/notify:FuzzParseSyslogURL:50000x ./internal/notify:FuzzSyslogMessage:20000x ./internal/notify:FuzzParseKinds:50000x ./internal/conffile:FuzzParseConfig:100000x ./internal/tpmseal:FuzzDecode:50000x

# axe-core, run inside the pages by the browser tests, from the npm registry.
AXE_VERSION := 4.11.0
AXE         := .cache/axe/node_modules/axe-core/axe.min.js

# The release (a Debian version: starts with a digit), and nfpm, which
# builds the package, from the Go module proxy.
VERSION     ?= 0.2.0
NFPM        := github.com/goreleaser/nfpm/v2/cmd/nfpm@v2.45.2
DEB_ARCHES  ?= amd64 arm64

.PHONY: build run test lint unit fuzz bench clean axe crash deb

build:
	$(GO) build -ldflags "-X main.version=$(VERSION)" -o $(BIN) ./cmd/strongroom

run: build
	./$(BIN) server --data ./data --listen 127.0.0.1:8443

test: lint unit fuzz

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	  if [ -n "$$out" ]; then echo "gofmt needed: $$out"; exit 1; fi
	$(GO) vet ./...
	$(GO) run $(STATICCHECK) ./...

unit: axe
	$(GO) test -race -count=1 ./...

axe:
	@if [ ! -f $(AXE) ]; then \
	  if command -v npm >/dev/null 2>&1; then npm install --no-audit --no-fund --silent --prefix .cache/axe axe-core@$(AXE_VERSION); \
	  else echo "npm not found: the browser tests will be skipped (CI installs it)"; fi; \
	fi

fuzz:
	@set -e; for t in $(FUZZ_TARGETS); do \
	  pkg=$${t%%:*}; rest=$${t#*:}; name=$${rest%%:*}; budget=$${rest#*:}; \
	  [ -n "$(FUZZTIME)" ] && budget=$(FUZZTIME); \
	  echo "fuzz $$pkg $$name for $$budget"; \
	  $(GO) test -run '^$$' -fuzz "^$$name\$$" -fuzztime $$budget $$pkg; \
	done

# The crash harness: SIGKILL the real server under load KILLS times (CI's
# make test runs it with 5).
KILLS ?= 50
crash:
	STRONGROOM_CRASH_KILLS=$(KILLS) $(GO) test -run '^TestCrashConsistency$$' -count=1 -timeout 60m -v ./cmd/strongroom

bench:
	$(GO) test -run '^$$' -bench . -benchmem ./audit ./vault ./api

# dist/strongroom_VERSION_ARCH.deb for each of DEB_ARCHES (see
# internal/packaging): the manual pages and completions come from the
# commands themselves, the notices from the modules compiled in.
deb:
	@set -e; rm -rf build/host && mkdir -p build/host dist; \
	$(GO) build -ldflags "-X main.version=$(VERSION)" -o build/host/strongroom ./cmd/strongroom; \
	for arch in $(DEB_ARCHES); do \
	  rm -rf build/pkg && mkdir -p build/pkg/completions; \
	  CGO_ENABLED=0 GOOS=linux GOARCH=$$arch $(GO) build -trimpath -ldflags "-s -w -X main.version=$(VERSION)" -o build/pkg/strongroom ./cmd/strongroom; \
	  SOURCE_DATE_EPOCH=$$(git log -1 --format=%ct 2>/dev/null || date +%s) build/host/strongroom docs man build/pkg/man; \
	  gzip -9n build/pkg/man/*.1; \
	  build/host/strongroom completion bash > build/pkg/completions/strongroom.bash; \
	  build/host/strongroom completion zsh > build/pkg/completions/_strongroom; \
	  build/host/strongroom completion fish > build/pkg/completions/strongroom.fish; \
	  PATH="$$(dirname $$(command -v $(GO))):$$PATH" sh internal/packaging/notices.sh > build/pkg/copyright; \
	  ARCH=$$arch VERSION=$(VERSION) $(GO) run $(NFPM) pkg --config internal/packaging/nfpm.yaml --packager deb --target dist/; \
	done; ls dist/*.deb

clean:
	rm -rf bin build dist
