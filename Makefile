# zwnode — make targets. Only Go is needed; tools are installed on demand.
GO        ?= go
BIN       := bin/zwnode
GOBIN     := $(CURDIR)/bin/tools
STATICCHECK := $(GOBIN)/staticcheck
SEEDS     ?= 100000
NODES     ?= 4
DEVNET_DIR ?= .devnet

.PHONY: all build run test unit sim-check e2e lint vet staticcheck sim bench bench-micro bench-devnet fmt clean

all: build

build:
	$(GO) build -o $(BIN) ./cmd/zwnode

## run: start a local 4-department devnet on embedded Pebble (Ctrl-C stops it)
run: build
	./$(BIN) devnet --nodes $(NODES) --dir $(DEVNET_DIR)

## test: every test — gofmt, vet, staticcheck, unit tests with -race, the consensus
## simulation (1,000 seeds, prints its summary line), e2e clusters of real processes
test: lint unit sim-check e2e

unit:
	$(GO) test -race -count=1 $$($(GO) list ./... | grep -v /e2e)

e2e: build
	@if [ -d e2e ]; then ZWNODE_BIN=$(CURDIR)/$(BIN) $(GO) test -count=1 -timeout 12m ./e2e/...; fi

## sim-check: the deterministic simulation at full speed (no -race), with its summary
sim-check:
	@out=$$($(GO) test -count=1 -run 'TestSimulation$$$$' -v ./chain/consensus 2>&1); status=$$?; \
	  echo "$$out" | grep -E '^(sim:|ok|FAIL|--- FAIL)'; \
	  if [ $$status -ne 0 ]; then echo "$$out" | tail -60; fi; exit $$status

lint: vet staticcheck
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	  if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet ./...

$(STATICCHECK):
	GOBIN=$(GOBIN) $(GO) install honnef.co/go/tools/cmd/staticcheck@v0.8.2

staticcheck: $(STATICCHECK)
	$(STATICCHECK) ./...

## sim: long deterministic-simulation soak of the consensus engine
sim:
	$(GO) test -count=1 -timeout 0 -run 'TestSimulation$$' ./chain/consensus -seeds=$(SEEDS)

## bench: Go microbenchmarks, then the devnet benchmark (see docs/BENCHMARK.md)
bench: bench-micro bench-devnet

## bench-micro: hot-path microbenchmarks of every package
bench-micro:
	$(GO) test -run '^$$' -bench . -benchmem ./...

## bench-devnet: fresh NODES-node devnet: max finalized tx/s (with CPU profile
## and catch-up), then latency at BENCH_RATE tx/s; median of BENCH_RUNS runs.
## Results: bench-results/<timestamp>.json
BENCH_RUNS ?= 3
BENCH_RATE ?= 1000
BENCH_DURATION ?= 30s
BENCH_ARGS ?=
bench-devnet: build
	./$(BIN) bench --nodes $(NODES) --runs $(BENCH_RUNS) --duration $(BENCH_DURATION) --profile --catchup $(BENCH_ARGS)
	./$(BIN) bench --nodes $(NODES) --runs $(BENCH_RUNS) --duration $(BENCH_DURATION) --rate $(BENCH_RATE) $(BENCH_ARGS)

fmt:
	gofmt -w $$(git ls-files '*.go')

clean:
	rm -rf bin $(DEVNET_DIR) bench-results
