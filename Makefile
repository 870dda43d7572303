# leasehold: the README's commands. Each installs what it needs itself.
GO ?= go
STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2

# Four Go modules: the library (the root: renewer, election, mutex, the CLI,
# the examples, internal), integration/ (Azurite, the real SDK, the fault
# suite with toxiproxy and zerolog), bench/ (leasebench) and examples/metrics
# (the Prometheus exporter). The last three replace the library with ../ (or
# ../..), so the library's go.mod holds only what it and its own tests import. No go.work: GOWORK=off keeps a local one from changing
# what these targets build and which versions they select.
MODULES := . integration bench examples/metrics
# The order make test runs them in: the library last, so that the run ends on
# its test results. bench's peers (client-go, etcd) are behind -tags peers:
# make bench builds, vets and tests them; make test and lint do not.
TEST_MODULES := bench integration examples/metrics .
export GOWORK := off

.PHONY: demo test soak bench unit lint azurite sim

## demo: three candidates on a local Azurite; the leader is killed with
## SIGKILL and another takes over. About 25 s.
demo:
	tools/azurite/with-azurite.sh $(GO) run ./examples/demo

## test: vet, staticcheck, then every test (unit, conformance, integration)
## of the three modules, one module after the other, with the race detector
## against one local Azurite that it starts and stops. A failing module does
## not stop the others; the target fails if any failed.
test: lint
	tools/azurite/with-azurite.sh sh -c 'status=0; for m in $(TEST_MODULES); do \
		echo "== go test ($$m)"; $(GO) -C "$$m" test -race -count=1 -parallel 16 -timeout 15m ./... || status=1; \
	done; exit $$status'

## soak: the long form of the fault suite (integration/fault): every scenario
## several times and minutes of churn; ends with the safety table. About 5 min.
soak:
	tools/azurite/with-azurite.sh $(GO) -C integration test -race -count=1 -parallel 16 -timeout 60m ./fault/ -args -soak -table $(CURDIR)/.soak-table.txt
	@cat .soak-table.txt

## sim: the deterministic simulation (internal/sim, docs/simulation.md):
## SEEDS seeds (default 10000) of holders under late, lost and duplicated
## requests, pauses, partitions, storms, drift and crashes, on virtual
## time. Last line: sim: seeds=N holdings=H violations=V. SEED=n replays
## one seed and prints its plan, history and violations (TRACE=1: and every
## request). About a minute on two cores.
sim:
	@tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT && \
	$(GO) test -c -o "$$tmp/sim.test" ./internal/sim && \
	"$$tmp/sim.test" -test.run '^TestSim$$' -test.parallel 4 -seeds $(or $(SEEDS),10000) \
		$(if $(SEED),-seed $(SEED) -test.v $(if $(TRACE),-trace))

## bench: crash failover, hand-over, cost, scale and overhead of leasehold,
## client-go's leaderelection and an embedded etcd, against a local Azurite
## it starts; markdown tables on stdout, figures in bench/results.json and
## SVG plots in bench/plots/ (generated, not tracked). The peers build only
## with -tags peers (a gigabyte of compiled packages that make test need not
## build); this target vets and tests them first. About 20 min, plus the
## first compile of client-go and etcd (about 7 min on 2 cores).
bench:
	$(GO) -C bench vet -tags peers ./...
	tools/azurite/with-azurite.sh sh -c '$(GO) -C bench test -count=1 -tags peers ./... && \
		$(GO) -C bench run -tags peers ./cmd/leasebench -out $(CURDIR)/bench/results.json -plots $(CURDIR)/bench/plots'

## unit: the library's unit tests and examples, which need no Azurite
## (leasetest and synctest time); a few seconds.
unit:
	$(GO) test -race -count=1 ./renewer/... ./election/... ./mutex/... ./semaphore/... ./shard/... ./internal/...

## lint: gofmt, then in each module: go.mod and go.sum tidy (so the library's
## go.mod keeps no requirement only integration/ or bench/ need), go vet and
## staticcheck.
lint:
	@unformatted=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './tools/*')); \
	if [ -n "$$unformatted" ]; then echo "gofmt would change: $$unformatted"; exit 1; fi
	@set -e; for m in $(MODULES); do \
		echo "go mod tidy -diff ($$m)"; \
		$(GO) -C "$$m" mod tidy -diff || { echo "$$m: go.mod/go.sum not tidy: run go mod tidy in $$m"; exit 1; }; \
		echo "go vet ($$m)"; $(GO) -C "$$m" vet ./...; \
		echo "staticcheck ($$m)"; $(GO) -C "$$m" run $(STATICCHECK) ./...; \
	done

## azurite: the emulator in the foreground, for development.
azurite:
	tools/azurite/run.sh
