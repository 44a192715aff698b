# Commons — the two commands a newcomer needs are `make run` and `make test`.

GO ?= go
export CGO_ENABLED ?= 0
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X main.Version=$(VERSION)

.PHONY: run build assets test test-compat test-browser bench clean

## run: build Commons and start it on http://localhost:8080 with SQLite under ./commons-data/
run: build
	./bin/commons serve

## build: the binary, with GOV.UK Frontend assets embedded
build: assets
	$(GO) build -trimpath -ldflags "$(LDFLAGS)" -o bin/commons ./cmd/commons

## assets: install GOV.UK Frontend from npm and copy what pages need into the binary's assets
assets: web/node_modules/.package-lock.json
	node web/build.mjs

web/node_modules/.package-lock.json: web/package.json web/package-lock.json
	cd web && npm ci --no-audit --no-fund --loglevel=error

## test: vet, every Go test (both engines when COMMONS_TEST_POSTGRES_URL is set), end-to-end and browser tests
test: build bin/stripe-mock
	$(GO) vet ./...
	$(GO) test -count=1 -timeout 20m ./...
	$(MAKE) test-compat
	$(MAKE) test-browser

## bin/stripe-mock: Stripe's API mock, which the Stripe provider's tests run against (found there or
## through COMMONS_STRIPE_MOCK); pinned, because its fixtures are what the tests assert on
bin/stripe-mock:
	GOBIN=$(CURDIR)/bin GOFLAGS=-mod=mod $(GO) install github.com/stripe/stripe-mock@v0.203.0

## test-compat: GOV.UK Notify's official node client against a live binary, on each engine
test-compat: build test/compat/node_modules/.package-lock.json
	cd test/compat && COMMONS_BIN=$(CURDIR)/bin/commons node --test --test-concurrency=1

test/compat/node_modules/.package-lock.json: test/compat/package.json test/compat/package-lock.json
	cd test/compat && npm ci --no-audit --no-fund --loglevel=error

test-browser: build test/browser/node_modules/.package-lock.json
	cd test/browser && COMMONS_BIN=$(CURDIR)/bin/commons node --test --test-concurrency=1

test/browser/node_modules/.package-lock.json: test/browser/package.json test/browser/package-lock.json
	cd test/browser && npm ci --no-audit --no-fund --loglevel=error

## bench: load-test a live binary against bare baselines (see docs/benchmarks.md)
bench: build
	bench/run.sh

clean:
	rm -rf bin web/node_modules test/browser/node_modules test/compat/node_modules internal/web/static/govuk
