# zwnode — make targets. Only Go is needed; tools are installed on demand.
GO        ?= go
BIN       := bin/zwnode
GOBIN     := $(CURDIR)/bin/tools
STATICCHECK := $(GOBIN)/staticcheck
SEEDS     ?= 100000
NODES     ?= 4
DEVNET_DIR ?= .devnet

.PHONY: all build run test unit e2e lint vet staticcheck sim bench fmt clean

all: build

build:
	$(GO) build -o $(BIN) ./cmd/zwnode

## run: start a local 4-department devnet on embedded Pebble (Ctrl-C stops it)
run: build
	./$(BIN) devnet --nodes $(NODES) --dir $(DEVNET_DIR)

## test: every test — vet, staticcheck, unit tests (race where concurrent), e2e
test: lint unit e2e

unit:
	$(GO) test -race -count=1 $$($(GO) list ./... | grep -v /e2e)

e2e: build
	@if [ -d e2e ]; then ZWNODE_BIN=$(CURDIR)/$(BIN) $(GO) test -count=1 -timeout 12m ./e2e/...; fi

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

## bench: microbenchmarks
bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...

fmt:
	gofmt -w $$(git ls-files '*.go')

clean:
	rm -rf bin $(DEVNET_DIR)
