# herald: build, run and test. `make run` serves the embedded default in
# the foreground; `make test` is the whole suite CI runs.
GO ?= go
BIN := bin/herald
export CGO_ENABLED := 0

.PHONY: build run test unit integration vet fuzz bench

build:
	$(GO) build -o $(BIN) ./cmd/herald

# Writes herald.toml and herald-data/ with a demo list on first run, then serves.
run: build
	@test -f herald.toml || ./$(BIN) init --demo
	./$(BIN) serve

vet:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || (gofmt -l $$(git ls-files '*.go'); echo "gofmt: files above need formatting"; exit 1)
	$(GO) vet ./...
	$(GO) vet -tags integration ./tests/...
	cd third_party/go-smtp && $(GO) vet ./...
	./scripts/check-libc.sh

# The race detector needs cgo; the binary the integration tests run is static.
unit:
	CGO_ENABLED=1 $(GO) test -race -shuffle=on -timeout 15m ./...
	cd third_party/go-smtp && CGO_ENABLED=1 $(GO) test -race ./...

integration:
	$(GO) test -tags integration -timeout 15m -count=1 ./tests/...

test: vet unit integration

fuzz:
	./scripts/fuzz-all.sh 30s

bench:
	./bench/run.sh
