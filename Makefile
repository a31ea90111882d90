# ml-platform: make targets (see README.md).
SHELL := /bin/bash
export GOFLAGS := -buildvcs=false
export GONOSUMDB := github.com/oam-dev/kubevela,github.com/kubevela/workflow,github.com/kubevela/pkg

# The KubeVela release of the embedded control plane, the vela CLI and the
# package target: v1.9.13, v1.10.9 or v1.11.0 (make demo VELA=v1.10.9).
export VELA ?= v1.11.0

# CLUSTERS=3 adds the managed clusters dev and prod, joined to KubeVela through
# cluster-gateway, next to the hub (make up CLUSTERS=3; also demo, e2e, tools).
ifdef CLUSTERS
export ML_PLATFORM_CLUSTERS := $(CLUSTERS)
endif

# Where built control-plane binaries and cluster state live.
export ML_PLATFORM_CACHE ?= $(HOME)/.cache/ml-platform

# Every supported release; make test runs the whole e2e suite on $(VELA), then
# on each of the others (E2E_RELEASE_LABELS='pipeline || faults || security'
# narrows the other releases' runs to those specs).
RELEASES := v1.9.13 v1.10.9 v1.11.0
OTHER_RELEASES := $(filter-out $(VELA),$(RELEASES))
E2E_RELEASE_LABELS ?=

APP ?= examples/pipeline/app.yaml
N ?= 100

.PHONY: help test test-offline mutate lint vet render demo e2e e2e-kind e2e-releases e2e-multicluster up down bench bench-scale stage package tools clis

help: ## List the targets.
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-14s %s\n", $$1, $$2}'

test: lint test-offline mutate e2e-kind e2e e2e-releases e2e-multicluster ## Everything: lint, offline tests, mutation test, e2e on every release (embedded control plane, or $$KUBECONFIG), the multicluster specs on every release, kind where Docker runs.

test-offline: clis ## Offline tests: definitions, examples on every release's CLI, the bad-input corpus, the renderer (no cluster).
	ML_PLATFORM_REQUIRE_RELEASES=1 go test -count=1 -short ./pkg/... ./test/offline/... ./cmd/... ./test/bench/...

mutate: ## Mutation test: every curated change to the step definitions (test/offline/mutants_test.go) must fail a step's table.
	@set -o pipefail; ML_PLATFORM_MUTATE=1 go test -count=1 -timeout 60m -v -run TestMutants ./test/offline/ \
		| grep -E '^(---|ok|FAIL|panic)|mutate_test.go|^\s+[-+] '

clis: ## Build the vela CLI of every supported release (the cross-release render check uses them).
	@for v in $(RELEASES); do VELA=$$v bash hack/tools/build.sh vela || exit 1; done

lint: vet verify ## go vet, generated files, definition checks, version bump check.
	go test -count=1 -run 'TestDefinitions|TestSchemas|TestVersionBump' ./test/offline/

generate: ## Run every generator: CUE formatting, the inlined CUE helpers (cue), the TFJob CRD file, the reference (docs/reference.md).
	go run ./cmd/cuefmt
	go run ./cmd/cueinline
	go run ./cmd/gencrd
	go run ./cmd/gendocs

verify: ## Check every generated file without writing anything (make lint runs it).
	go run ./cmd/cueinline -check
	go run ./cmd/gencrd -check
	go run ./cmd/cuefmt -check
	go test -count=1 -run 'TestInlinedHelpers|TestInlineCheckerDetectsDrift|TestAddonCRDFileIsGenerated|TestAddonCRDGeneratorStripsOnlySchemaDescriptions|TestReadmeReferenceIsGenerated|TestNoDefinitionCopiesAHelper|TestCopiedHelperCheckFiresForEveryHelper' ./test/offline/
	go test -count=1 ./pkg/cueinline/ ./pkg/defcheck/ ./cmd/cuefmt/

vet:
	go vet ./...
	@unformatted=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$unformatted" ]; then echo "gofmt needed:" $$unformatted; exit 1; fi

render: ## Render an Application offline: make render APP=examples/pipeline/app.yaml
	go run ./cmd/render -f $(APP)

up: ## Start the embedded control plane (builds missing binaries first; VELA=<release> picks KubeVela; CLUSTERS=3 adds the clusters dev and prod).
	go run ./cmd/cluster up

down: ## Stop the embedded control plane (WIPE=1 also removes its state).
	go run ./cmd/cluster down $(if $(WIPE),--wipe,)

tools: ## Build the control-plane binaries that are missing (only the vela CLI when KUBECONFIG is set).
	bash hack/tools/build.sh $(if $(KUBECONFIG),vela,)

e2e: tools ## The e2e suite: against $$KUBECONFIG, else on the embedded control plane it starts and stops.
	$(if $(KUBECONFIG),,go test -count=1 -run TestEnvironment ./pkg/testenv/)
	go test -v -count=1 -timeout 60m ./test/e2e/ -ginkgo.v

e2e-releases: ## The e2e suite on the other supported releases (embedded control plane only; see E2E_RELEASE_LABELS).
	$(if $(KUBECONFIG),@echo "e2e-releases: skipped: \$$KUBECONFIG is one cluster with one KubeVela release",@for v in $(OTHER_RELEASES); do \
		echo "==> e2e on KubeVela $$v$(if $(E2E_RELEASE_LABELS),: $(E2E_RELEASE_LABELS),)"; \
		VELA=$$v bash hack/tools/build.sh vela-core vela && \
		VELA=$$v go test -v -count=1 -timeout 60m ./test/e2e/ -ginkgo.v $(if $(E2E_RELEASE_LABELS),-ginkgo.label-filter='$(E2E_RELEASE_LABELS)',) || exit 1; \
	done)

e2e-multicluster: ## The multicluster e2e specs on the embedded control plane with the clusters dev and prod (CLUSTERS=3), on every release ($(VELA) first).
	$(if $(KUBECONFIG),@echo "e2e-multicluster: skipped: \$$KUBECONFIG is set; the multicluster specs run on the embedded control plane with its managed clusters dev and prod",@for v in $(VELA) $(OTHER_RELEASES); do \
		echo "==> multicluster e2e on KubeVela $$v"; \
		VELA=$$v ML_PLATFORM_CLUSTERS=3 bash hack/tools/build.sh && \
		VELA=$$v ML_PLATFORM_CLUSTERS=3 go test -v -count=1 -timeout 30m ./test/e2e/ -ginkgo.v -ginkgo.label-filter=multicluster || exit 1; \
	done)

e2e-kind: ## The e2e suite on a kind cluster (skipped with a clear message where Docker does not run).
	E2E_CLUSTER=kind go test -v -count=1 -timeout 60m ./test/e2e/ -ginkgo.v

demo: tools ## The seed's ML pipeline end to end (YES=1 resumes the evaluation gates without asking; CANARY=good|bad: its prod step is a canary rollout checked in Prometheus).
	go run ./cmd/demo $(if $(YES),--yes,) $(if $(CANARY),--canary $(CANARY),) $(if $(PROMETHEUS),--prometheus $(PROMETHEUS),)

bench: ## Render benchmark: our pipeline vs built-in webservice apps of the same object count.
	go test -run '^$$' -bench . -benchmem ./test/bench/...

bench-scale: ## Control-plane scale benchmark: make bench-scale N=100
	go run ./cmd/benchscale -n $(N)

stage: ## Stage the addon files into _output/ml-platform (the folder name is the addon name).
	go run ./cmd/stage _output/ml-platform

package: stage ## vela addon package of the staged addon.
	VELA=$(VELA) bash hack/tools/build.sh vela
	cd _output && $(ML_PLATFORM_CACHE)/bin/vela-$(VELA) addon package ml-platform
