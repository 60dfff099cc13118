# Strongroom. `make run` builds and starts the vault on ./data; `make test`
# runs everything CI runs.
GO          ?= go
BIN         := bin/strongroom
STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2
FUZZTIME    ?= 10s
# Each fuzz target as package:Name; `make fuzz FUZZTIME=5m` runs them longer.
FUZZ_TARGETS := ./audit:FuzzVerifyJSONL ./escrow:FuzzDecode ./vault:FuzzOpenBlob \
                ./vault:FuzzParsePHC ./vault:FuzzNormaliseTOTP ./api:FuzzRequestBodies

.PHONY: build run test lint unit fuzz bench clean

build:
	$(GO) build -o $(BIN) ./cmd/strongroom

run: build
	./$(BIN) server --data ./data --listen 127.0.0.1:8443

test: lint unit fuzz

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	  if [ -n "$$out" ]; then echo "gofmt needed: $$out"; exit 1; fi
	$(GO) vet ./...
	$(GO) run $(STATICCHECK) ./...

unit:
	$(GO) test -race -count=1 ./...

fuzz:
	@set -e; for t in $(FUZZ_TARGETS); do \
	  pkg=$${t%%:*}; name=$${t##*:}; \
	  echo "fuzz $$pkg $$name for $(FUZZTIME)"; \
	  $(GO) test -run '^$$' -fuzz "^$$name\$$" -fuzztime $(FUZZTIME) $$pkg; \
	done

bench:
	$(GO) test -run '^$$' -bench . -benchmem ./audit ./vault

clean:
	rm -rf bin
