# Contrail — the two commands of the README are `make demo` and `make test`.
# Both start their own prerequisites (a private Kafka 4.x broker and a private
# ClickHouse server, see deploy/local/README.md).

GO       ?= go
BIN      ?= bin/contrail
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS  := -X github.com/contrail-atm/contrail/internal/cli.version=$(VERSION)

# The deploy/local scripts take KAFKA_PORT and CLICKHOUSE_PORT; keep in step.
KAFKA_ADDR      ?= 127.0.0.1:$(or $(KAFKA_PORT),19092)
CLICKHOUSE_ADDR ?= 127.0.0.1:$(or $(CLICKHOUSE_PORT),19000)
# The current ClickHouse (26.x, deploy/local/clickhouse-modern): the ClickHouse
# tests run a second time against it.
CLICKHOUSE_MODERN_ADDR ?= 127.0.0.1:$(or $(CLICKHOUSE_MODERN_PORT),19100)
MODERN_PACKAGES ?= ./sinks/... ./internal/cli/
MODERN_CMD_TESTS ?= TestIntegration(SinkSIGTERMMidStream|SinkKill9|SIGTERM|IngestSIGTERMMidStream)$$
# Integration tests create topics under fresh names on every run; once the
# local broker's data passes this size, `make test` wipes it first so the
# broker keeps starting within seconds.
KAFKA_LEFTOVER_MB ?= 3072

.PHONY: all build demo test unit infra infra-stop fuzz bench vet clean

all: build

build:
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/contrail

## demo: start Kafka and ClickHouse, run the pipeline on the SBS sample, print SQL results
## (CLICKHOUSE=modern: on the current ClickHouse, 26.x, instead of Debian's 18.16)
demo: build
	deploy/local/kafka start
	@if [ "$(CLICKHOUSE)" = modern ]; then deploy/local/clickhouse-modern start; else deploy/local/clickhouse start; fi
	BIN=$(BIN) KAFKA_ADDR=$(KAFKA_ADDR) CLICKHOUSE=$(CLICKHOUSE) \
	  CLICKHOUSE_ADDR=$(if $(filter modern,$(CLICKHOUSE)),$(CLICKHOUSE_MODERN_ADDR),$(CLICKHOUSE_ADDR)) deploy/local/demo

## test: start Kafka and both ClickHouse servers, run every test, integration tests included,
## then the ClickHouse tests again against the current (26.x) server
# Without CONTRAIL_REQUIRE_INFRA=1 a failure to start them is a warning and
# the integration tests skip loudly; CI sets it, so there they fail instead.
test:
	@data="$${CONTRAIL_HOME:-$$HOME/.cache/contrail}/kafka-data"; \
	if [ -d "$$data" ] && [ "$$(du -sm "$$data" | cut -f1)" -gt $(KAFKA_LEFTOVER_MB) ]; then \
	  echo "make test: the local Kafka holds over $(KAFKA_LEFTOVER_MB) MB, mostly topics of earlier test runs; wiping it so it starts fast (deploy/local/kafka wipe)"; \
	  deploy/local/kafka wipe; \
	fi
	@if deploy/local/kafka start && deploy/local/clickhouse start; then :; \
	elif [ "$$CONTRAIL_REQUIRE_INFRA" = 1 ]; then echo "make test: could not start Kafka/ClickHouse and CONTRAIL_REQUIRE_INFRA=1" >&2; exit 1; \
	else echo "*** make test: Kafka/ClickHouse did not start; integration tests will SKIP" >&2; fi
	@modern=; \
	if deploy/local/clickhouse-modern start; then modern=$(CLICKHOUSE_MODERN_ADDR); \
	elif [ "$$CONTRAIL_REQUIRE_INFRA" = 1 ]; then echo "make test: could not start the current ClickHouse and CONTRAIL_REQUIRE_INFRA=1" >&2; exit 1; \
	else echo "*** make test: the current ClickHouse did not start; its tests will SKIP" >&2; fi; \
	echo "CONTRAIL_TEST_KAFKA=$(KAFKA_ADDR) CONTRAIL_TEST_CLICKHOUSE=$(CLICKHOUSE_ADDR) CONTRAIL_CLICKHOUSE_MODERN=$$modern $(GO) test -count=1 ./..."; \
	CONTRAIL_TEST_KAFKA=$(KAFKA_ADDR) CONTRAIL_TEST_CLICKHOUSE=$(CLICKHOUSE_ADDR) CONTRAIL_CLICKHOUSE_MODERN=$$modern $(GO) test -count=1 ./... || exit 1; \
	if [ -n "$$modern" ]; then \
	  echo "make test: the ClickHouse integration tests again, against ClickHouse $$(deploy/local/clickhouse-modern query 'SELECT version()') on $$modern"; \
	  CONTRAIL_TEST_KAFKA=$(KAFKA_ADDR) CONTRAIL_TEST_CLICKHOUSE=$$modern CONTRAIL_CLICKHOUSE_MODERN=$$modern \
	    $(GO) test -count=1 -run Integration $(MODERN_PACKAGES) || exit 1; \
	  CONTRAIL_TEST_KAFKA=$(KAFKA_ADDR) CONTRAIL_TEST_CLICKHOUSE=$$modern CONTRAIL_CLICKHOUSE_MODERN=$$modern \
	    $(GO) test -count=1 -run '$(MODERN_CMD_TESTS)' ./cmd/contrail/ || exit 1; \
	fi

## unit: only the tests that need no infrastructure (integration tests skip)
unit:
	$(GO) test ./...

infra:
	deploy/local/kafka start
	deploy/local/clickhouse start

infra-stop:
	-deploy/local/kafka stop
	-deploy/local/clickhouse stop
	-deploy/local/clickhouse-modern stop

## fuzz: run every fuzz target for FUZZTIME each
FUZZTIME ?= 30s
fuzz:
	@for pkg in $$($(GO) list ./...); do \
	  for f in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz'); do \
	    echo "== $$pkg $$f"; $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $$pkg || exit 1; \
	  done; \
	done

## bench: run the Go benchmarks
bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...

vet:
	$(GO) vet ./...
	@test -z "$$(gofmt -l .)" || (gofmt -l .; echo "gofmt needed" >&2; exit 1)

clean:
	rm -rf bin
