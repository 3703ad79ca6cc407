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

package controllers

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	plexusv1alpha1 "github.com/plexus-net/plexus/api/v1alpha1"
)

// The DaemonSet controller does not run in envtest: these specs set the DaemonSet status by
// hand, as the real one would, and call Reconcile directly.
var _ = Describe("PlexusConfig controller", Ordered, func() {
	var (
		ns  string
		r   *PlexusConfigReconciler
		key = types.NamespacedName{Name: plexusv1alpha1.PlexusConfigName}
	)
	reconcile := func() ctrl.Result {
		GinkgoHelper()
		res, err := r.Reconcile(ctx, ctrl.Request{NamespacedName: key})
		Expect(err).NotTo(HaveOccurred())
		return res
	}
	getConfig := func() *plexusv1alpha1.PlexusConfig {
		GinkgoHelper()
		c := &plexusv1alpha1.PlexusConfig{}
		Expect(k8sClient.Get(ctx, key, c)).To(Succeed())
		return c
	}
	getDS := func() *appsv1.DaemonSet {
		GinkgoHelper()
		ds := &appsv1.DaemonSet{}
		Expect(k8sClient.Get(ctx, types.NamespacedName{Namespace: ns, Name: AgentName}, ds)).To(Succeed())
		return ds
	}
	setDSStatus := func(desired, updated, ready int32) {
		GinkgoHelper()
		ds := getDS()
		ds.Status = appsv1.DaemonSetStatus{ObservedGeneration: ds.Generation, DesiredNumberScheduled: desired,
			CurrentNumberScheduled: desired, UpdatedNumberScheduled: updated, NumberReady: ready, NumberAvailable: ready,
			NumberUnavailable: desired - ready}
		Expect(k8sClient.Status().Update(ctx, ds)).To(Succeed())
	}
	condition := func(typ string) *metav1.Condition {
		GinkgoHelper()
		c := meta.FindStatusCondition(getConfig().Status.Conditions, typ)
		Expect(c).NotTo(BeNil(), "condition %s", typ)
		return c
	}

	BeforeAll(func() {
		ns = newNamespace(nil)
		r = &PlexusConfigReconciler{Client: k8sClient, APIReader: k8sClient, Scheme: k8sClient.Scheme(), Namespace: ns}
	})

	It("rejects a PlexusConfig not named cluster", func() {
		err := k8sClient.Create(ctx, &plexusv1alpha1.PlexusConfig{ObjectMeta: metav1.ObjectMeta{Name: "other"}})
		Expect(apierrors.IsInvalid(err)).To(BeTrue(), "got %v", err)
		Expect(err.Error()).To(ContainSubstring("singleton"))
	})

	It("renders the agent DaemonSet with server-side apply and defaults from the CRD", func() {
		cfg := &plexusv1alpha1.PlexusConfig{ObjectMeta: metav1.ObjectMeta{Name: plexusv1alpha1.PlexusConfigName}}
		Expect(k8sClient.Create(ctx, cfg)).To(Succeed())
		cfg = getConfig()
		Expect(cfg.Spec.Agent.Image).To(Equal("plexus.local/agent:latest"), "CRD default")
		Expect(cfg.Spec.HostPaths.CNIBinDir).To(Equal("/opt/cni/bin"))
		Expect(cfg.Spec.Rollout.MaxUnavailable).To(Equal(ptrTo(intstr.FromInt32(1))))

		reconcile() // adds the finalizer
		Expect(getConfig().Finalizers).To(ContainElement(plexusv1alpha1.PlexusConfigFinalizer))
		res := reconcile()
		Expect(res.RequeueAfter).To(BeNumerically(">", 0), "an incomplete rollout is polled")
		ds := getDS()
		Expect(metav1.IsControlledBy(ds, getConfig())).To(BeTrue())
		managers := []string{}
		for _, m := range ds.ManagedFields {
			managers = append(managers, m.Manager)
		}
		Expect(managers).To(ContainElement("plexus/plexusconfig"))
		Expect(ds.Spec.Template.Spec.Containers[0].Image).To(Equal("plexus.local/agent:latest"))
	})

	It("reports rollout progress with node counts", func() {
		setDSStatus(3, 2, 2)
		reconcile()
		p := condition(plexusv1alpha1.ProgressingCondition)
		Expect(p.Status).To(Equal(metav1.ConditionTrue))
		Expect(p.Message).To(Equal("2 of 3 nodes updated, 2 ready"))
		Expect(condition(plexusv1alpha1.ReadyCondition).Status).To(Equal(metav1.ConditionFalse))
		Expect(condition(plexusv1alpha1.DegradedCondition).Status).To(Equal(metav1.ConditionFalse))
		st := getConfig().Status
		Expect([]int32{st.DesiredNodes, st.UpdatedNodes, st.ReadyNodes}).To(Equal([]int32{3, 2, 2}))
	})

	It("is Degraded naming the node whose agent pod fails", func() {
		pod := &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "plexus-agent-x", Labels: map[string]string{"app.kubernetes.io/name": AgentName}},
			Spec:       corev1.PodSpec{NodeName: "node-c", Containers: []corev1.Container{{Name: "agent", Image: "plexus.local/agent:latest"}}},
		}
		Expect(k8sClient.Create(ctx, pod)).To(Succeed())
		pod.Status = corev1.PodStatus{Phase: corev1.PodRunning, ContainerStatuses: []corev1.ContainerStatus{{
			Name: "agent", Image: "plexus.local/agent:latest", ImageID: "x", RestartCount: 3,
			State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "CrashLoopBackOff", Message: "back-off 40s restarting"}},
		}}}
		Expect(k8sClient.Status().Update(ctx, pod)).To(Succeed())
		reconcile()
		d := condition(plexusv1alpha1.DegradedCondition)
		Expect(d.Status).To(Equal(metav1.ConditionTrue))
		Expect(d.Reason).To(Equal(plexusv1alpha1.PlexusConfigAgentFailedReason))
		Expect(d.Message).To(ContainSubstring("node node-c"))
		Expect(d.Message).To(ContainSubstring("CrashLoopBackOff"))
		Expect(k8sClient.Delete(ctx, pod, client.GracePeriodSeconds(0))).To(Succeed())
	})

	It("is Ready once every node runs the current agent", func() {
		setDSStatus(3, 3, 3)
		res := reconcile()
		Expect(res.RequeueAfter).To(BeZero())
		Expect(condition(plexusv1alpha1.ReadyCondition).Reason).To(Equal(plexusv1alpha1.PlexusConfigRolloutCompleteReason))
		Expect(condition(plexusv1alpha1.ProgressingCondition).Status).To(Equal(metav1.ConditionFalse))
		Expect(condition(plexusv1alpha1.DegradedCondition).Status).To(Equal(metav1.ConditionFalse))
		Expect(getConfig().Status.ObservedGeneration).To(Equal(getConfig().Generation))
	})

	It("rolls a spec change out through the DaemonSet", func() {
		cfg := getConfig()
		cfg.Spec.Rollout.MaxUnavailable = ptrTo(intstr.FromString("50%"))
		cfg.Spec.Agent.Image = "plexus.local/agent:v2"
		Expect(k8sClient.Update(ctx, cfg)).To(Succeed())
		reconcile()
		ds := getDS()
		Expect(ds.Spec.Template.Spec.Containers[0].Image).To(Equal("plexus.local/agent:v2"))
		Expect(ds.Spec.UpdateStrategy.RollingUpdate.MaxUnavailable).To(Equal(ptrTo(intstr.FromString("50%"))))
		Expect(condition(plexusv1alpha1.ProgressingCondition).Status).To(Equal(metav1.ConditionTrue),
			"the DaemonSet has not observed the new generation yet")
	})

	It("uninstalls from every node before letting the PlexusConfig go", func() {
		Expect(k8sClient.Delete(ctx, getConfig())).To(Succeed())
		reconcile()
		ds := getDS()
		Expect(ds.Spec.Template.Spec.Containers[0].Args).To(ContainElement("--uninstall"))
		Expect(condition(plexusv1alpha1.ReadyCondition).Reason).To(Equal(plexusv1alpha1.PlexusConfigUninstallingReason))
		Expect(getConfig().Finalizers).To(ContainElement(plexusv1alpha1.PlexusConfigFinalizer), "waits for the agents")

		setDSStatus(3, 3, 3) // every agent ran --uninstall and is ready
		reconcile()
		err := k8sClient.Get(ctx, types.NamespacedName{Namespace: ns, Name: AgentName}, &appsv1.DaemonSet{})
		Expect(apierrors.IsNotFound(err)).To(BeTrue(), "the DaemonSet is deleted")
		err = k8sClient.Get(ctx, key, &plexusv1alpha1.PlexusConfig{})
		Expect(apierrors.IsNotFound(err)).To(BeTrue(), "the finalizer is released")
	})
})
