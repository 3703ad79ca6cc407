/*
Copyright 2026 The Plexus Authors.

Licensed under the Apache License, Version 2.0 (the "License");
you may not use this file except in compliance with the License.
You may obtain a copy of the License at

    http://www.apache.org/licenses/LICENSE-2.0

Unless required by applicable law or agreed to in writing, software
distributed under the License is distributed on an "AS IS" BASIS,
WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
See the License for the specific language governing permissions and
limitations under the License.
*/

// Package e2e holds the end-to-end suite: it runs on a real local Kubernetes cluster (etcd,
// kube-apiserver, kubelet, containerd, ...) that the suite brings up with hack/cluster/up.sh and
// tears down at the end, asserting that nothing is left on the host.
// E2E_KEEP_CLUSTER=1 leaves the cluster running after the suite (no leftover check).
package e2e

import (
	"context"
	"os"
	"testing"
	"time"

	nadv1 "github.com/k8snetworkplumbingwg/network-attachment-definition-client/pkg/apis/k8s.cni.cncf.io/v1"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	plexusv1alpha1 "github.com/plexus-net/plexus/api/v1alpha1"
	"github.com/plexus-net/plexus/test/e2e/framework"

	"github.com/plexus-net/plexus/internal/testenv"
)

var cluster *framework.Cluster

func TestE2E(t *testing.T) {
	RegisterFailHandler(Fail)
	SetDefaultEventuallyTimeout(2 * time.Minute)
	SetDefaultEventuallyPollingInterval(250 * time.Millisecond)
	// Without this, an Eventually given a SpecContext polls until the spec's context ends, which
	// for specs without a NodeTimeout is never: a failing assertion would hang the suite.
	EnforceDefaultTimeoutsWhenUsingContexts()
	RunSpecs(t, "Plexus e2e suite")
}

var _ = BeforeSuite(func(ctx SpecContext) {
	testenv.RequireRoot(GinkgoT(), "the e2e suite runs a real cluster on this machine")
	var err error
	cluster, err = framework.NewCluster()
	Expect(err).NotTo(HaveOccurred())
	By("bringing the local cluster up")
	Expect(cluster.Up(ctx)).To(Succeed())
	Expect(cluster.Connect(plexusv1alpha1.AddToScheme, nadv1.AddToScheme)).To(Succeed())
}, NodeTimeout(15*time.Minute))

var _ = AfterSuite(func(ctx SpecContext) {
	if cluster == nil || os.Getenv("E2E_KEEP_CLUSTER") == "1" {
		return
	}
	if CurrentSpecReport().Failed() || os.Getenv("E2E_DUMP_LOGS") == "1" {
		dumpLogs(ctx)
	}
	By("bringing the local cluster down")
	Expect(cluster.Down(ctx)).To(Succeed())
	By("checking that nothing is left on the host")
	Expect(cluster.HostLeftovers()).To(BeEmpty())
}, NodeTimeout(5*time.Minute))

// dumpLogs prints the tail of the cluster's logs into the test output before they are deleted.
func dumpLogs(ctx context.Context) {
	out, _ := cluster.Kubectl(ctx, "get", "pods", "-A", "-o", "wide")
	GinkgoWriter.Println(out)
	out, _ = cluster.Kubectl(ctx, "get", "events", "-A", "--sort-by=.lastTimestamp")
	GinkgoWriter.Println(out)
}
