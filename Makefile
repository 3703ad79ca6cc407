# Plexus — multi-homed pods for Kubernetes.
#
# Everything is built from the Go module proxy and Debian packages; no binary is downloaded from
# anywhere else. Tools land in bin/ under versioned names and are also cached by version in
# $(PLEXUS_CACHE) (outside the clone) so a fresh clone on a warm machine does not rebuild them.

SHELL := /usr/bin/env bash -o pipefail
.SHELLFLAGS := -ec
.DEFAULT_GOAL := help

ROOT := $(shell pwd)
LOCALBIN ?= $(ROOT)/bin
PLEXUS_CACHE ?= $(HOME)/.cache/plexus
export PLEXUS_CACHE
export GOFLAGS ?= -buildvcs=false
export GOTOOLCHAIN ?= local

VERSION ?= 0.1.0
IMG_TAG ?= latest
OPERATOR_IMG ?= plexus.local/operator:$(IMG_TAG)
AGENT_IMG ?= plexus.local/agent:$(IMG_TAG)
TESTPOD_IMG ?= plexus.local/testpod:latest

## Tool versions (pinned; built from the Go module proxy).
CONTROLLER_TOOLS_VERSION ?= v0.23.0
KUSTOMIZE_VERSION ?= v5.8.1
CRICTL_VERSION ?= v1.37.0
GOTESTSUM_VERSION ?= v1.13.0
# The reference CNI plugins and the envtest Kubernetes version follow go.mod.
CNI_PLUGINS_VERSION := $(shell awk '$$1=="github.com/containernetworking/plugins" {print $$2}' go.mod)
K8S_VERSION := $(shell awk '$$1=="require" && $$2=="k8s.io/kubernetes" {print $$3}' hack/tools/k8s/go.mod)

CONTROLLER_GEN ?= $(LOCALBIN)/controller-gen-$(CONTROLLER_TOOLS_VERSION)
KUSTOMIZE ?= $(LOCALBIN)/kustomize-$(KUSTOMIZE_VERSION)
GOTESTSUM ?= $(LOCALBIN)/gotestsum-$(GOTESTSUM_VERSION)
export GOTESTSUM
K8S_BIN ?= $(LOCALBIN)/k8s
# envtest runs on the same etcd + kube-apiserver as the local cluster (setup-envtest cannot
# download here).
KUBEBUILDER_ASSETS ?= $(K8S_BIN)
export KUBEBUILDER_ASSETS

CLUSTER_DIR ?= $(ROOT)/.cluster
KUBECONFIG_LOCAL := $(CLUSTER_DIR)/kubeconfig
# Nodes of the local cluster: cluster-up defaults to 1, the e2e suite to 2.
NODES ?=
export NODES

GO_TEST_FLAGS ?= -count=1
E2E_TIMEOUT ?= 40m

##@ General

.PHONY: help
help: ## Show this help.
	@awk 'BEGIN {FS = ":.*##"; printf "\nUsage:\n  make \033[36m<target>\033[0m\n"} /^[a-zA-Z_0-9-]+:.*?##/ { printf "  \033[36m%-16s\033[0m %s\n", $$1, $$2 } /^##@/ { printf "\n\033[1m%s\033[0m\n", substr($$0, 5) } ' $(MAKEFILE_LIST)

##@ Development

.PHONY: manifests
manifests: $(CONTROLLER_GEN) ## Generate CRDs, RBAC and webhook manifests under config/.
	$(CONTROLLER_GEN) rbac:roleName=operator crd webhook \
		paths=./api/... paths=./controllers/... paths=./internal/webhook/... paths=./cmd/operator/... \
		output:crd:artifacts:config=config/crd/bases output:rbac:artifacts:config=config/rbac \
		output:webhook:artifacts:config=config/webhook

.PHONY: generate
generate: $(CONTROLLER_GEN) ## Generate deepcopy code for the API types.
	$(CONTROLLER_GEN) object:headerFile=hack/boilerplate.go.txt paths=./api/...

.PHONY: fmt
fmt: ## Run gofmt on the tree.
	gofmt -s -w $$(git ls-files '*.go' | grep -v '^hack/tools/')

.PHONY: vet
vet: ## Run go vet.
	go vet ./...

.PHONY: verify
verify: $(CONTROLLER_GEN) $(KUSTOMIZE) ## Fail on drift in generated code, go.mod/go.sum, formatting, boilerplate and package boundaries.
	hack/verify.sh

##@ Test

.PHONY: test
test: verify k8s-bins build images $(GOTESTSUM) ## Run everything CI runs: verify, unit tests, envtest suites and the real-cluster e2e suite.
	hack/test.sh all

.PHONY: unit
unit: k8s-bins build $(GOTESTSUM) ## Run unit tests and envtest suites (no cluster).
	hack/test.sh unit

.PHONY: e2e
e2e: build images k8s-bins $(GOTESTSUM) ## Run the e2e suite on a real local cluster it brings up and tears down.
	hack/test.sh e2e

.PHONY: fuzz
fuzz: ## Fuzz the pod annotation parser for FUZZTIME (default 60s).
	go test ./internal/netattach/ -run '^$$' -fuzz FuzzParseNetworkSelection -fuzztime $${FUZZTIME:-60s}

.PHONY: bench
bench: build k8s-bins ## Run the benchmarks and print figures (nothing is asserted).
	hack/bench.sh

##@ Build

.PHONY: build
build: ## Build plexus-cni, the operator, the agent and kubectl-plexus into bin/.
	hack/build.sh

.PHONY: images
images: build ## Build the operator, agent and testpod images as docker-archive tarballs in bin/images/.
	hack/images.sh

.PHONY: k8s-bins
k8s-bins: ## Build (or link from the cache) etcd, Kubernetes and crictl into bin/k8s.
	hack/build-k8s.sh $(K8S_BIN)

##@ Local cluster

.PHONY: cluster-up
cluster-up: k8s-bins images ## Start a real local cluster (NODES=2 for two nodes); kubeconfig in .cluster/kubeconfig.
	hack/cluster/up.sh

.PHONY: cluster-down
cluster-down: ## Stop the local cluster and remove everything it made on the host.
	hack/cluster/down.sh

.PHONY: deploy
deploy: manifests images $(KUSTOMIZE) ## Build and load the images, then deploy Plexus (config/default) to the local cluster.
	hack/cluster/load-images.sh
	hack/cluster/restart-changed.sh record
	$(KUSTOMIZE) build config/default | kubectl --kubeconfig $(KUBECONFIG_LOCAL) apply --server-side --force-conflicts -f -
	hack/cluster/restart-changed.sh restart

.PHONY: undeploy
undeploy: $(KUSTOMIZE) ## Remove Plexus from the local cluster.
	$(KUSTOMIZE) build config/default | kubectl --kubeconfig $(KUBECONFIG_LOCAL) delete --ignore-not-found --wait=true -f -

.PHONY: demo
demo: ## Bring up a local cluster, deploy Plexus, attach sample networks to pods and print a summary.
	hack/demo.sh up

.PHONY: demo-down
demo-down: ## Tear the demo down (the whole local cluster).
	hack/demo.sh down

##@ Bundle

.PHONY: bundle
bundle: manifests $(KUSTOMIZE) ## Generate the OLM bundle under bundle/ from config/.
	hack/bundle.sh $(VERSION)

##@ Tools

$(CONTROLLER_GEN):
	hack/go-install-tool.sh $@ sigs.k8s.io/controller-tools/cmd/controller-gen $(CONTROLLER_TOOLS_VERSION)

$(KUSTOMIZE):
	hack/go-install-tool.sh $@ sigs.k8s.io/kustomize/kustomize/v5 $(KUSTOMIZE_VERSION)

$(GOTESTSUM):
	hack/go-install-tool.sh $@ gotest.tools/gotestsum $(GOTESTSUM_VERSION)

.PHONY: tools
tools: $(CONTROLLER_GEN) $(KUSTOMIZE) $(GOTESTSUM) ## Build the pinned code generators into bin/.
