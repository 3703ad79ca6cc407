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

package v1alpha1

import (
	"context"

	nadv1 "github.com/k8snetworkplumbingwg/network-attachment-definition-client/pkg/apis/k8s.cni.cncf.io/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	"github.com/plexus-net/plexus/internal/netattach"
)

// NADWebhookPath is where the NAD validating webhook is served.
const NADWebhookPath = "/validate-k8s-cni-cncf-io-v1-network-attachment-definition"

// NOTE: failurePolicy=fail: NADs are not on the pod start path, and a NAD that slips through
// unvalidated breaks every pod that uses it. System namespaces, the operator's namespace and
// namespaces labelled net.plexus.dev/webhook=disabled are excluded, so the operator can always
// be repaired. The check is static (the config alone), never live node state, so GitOps can
// apply NADs in any order.
// +kubebuilder:webhook:path=/validate-k8s-cni-cncf-io-v1-network-attachment-definition,mutating=false,failurePolicy=fail,sideEffects=None,groups=k8s.cni.cncf.io,resources=network-attachment-definitions,verbs=create;update,versions=v1,name=nads.net.plexus.dev,admissionReviewVersions=v1,timeoutSeconds=5,matchPolicy=Equivalent,patch=`{"namespaceSelector":{"matchExpressions":[{"key":"kubernetes.io/metadata.name","operator":"NotIn","values":["kube-system","kube-public","kube-node-lease","plexus-system"]},{"key":"net.plexus.dev/webhook","operator":"NotIn","values":["disabled"]}]}}`

// NADValidator rejects NetworkAttachmentDefinitions whose spec.config is not a valid CNI
// configuration (invalid JSON, missing or unknown cniVersion, a plugin type that is a path).
type NADValidator struct{}

var _ admission.Validator[*nadv1.NetworkAttachmentDefinition] = &NADValidator{}

// ValidateCreate validates a new NAD.
func (v *NADValidator) ValidateCreate(_ context.Context, nad *nadv1.NetworkAttachmentDefinition) (admission.Warnings, error) {
	return nil, validateNAD(nad)
}

// ValidateUpdate validates a changed NAD.
func (v *NADValidator) ValidateUpdate(_ context.Context, _, nad *nadv1.NetworkAttachmentDefinition) (admission.Warnings, error) {
	return nil, validateNAD(nad)
}

// ValidateDelete allows every deletion.
func (v *NADValidator) ValidateDelete(context.Context, *nadv1.NetworkAttachmentDefinition) (admission.Warnings, error) {
	return nil, nil
}

// validateNAD checks spec.config. An empty config is allowed: the multi-net spec (§3.4.1) then
// resolves the configuration from a file on the node.
func validateNAD(nad *nadv1.NetworkAttachmentDefinition) error {
	if nad.Spec.Config == "" {
		return nil
	}
	if err := netattach.ValidateNADConfig([]byte(nad.Spec.Config)); err != nil {
		return apierrors.NewInvalid(
			schema.GroupKind{Group: nadv1.SchemeGroupVersion.Group, Kind: "NetworkAttachmentDefinition"},
			nad.Name,
			field.ErrorList{field.Invalid(field.NewPath("spec", "config"), shorten(nad.Spec.Config), err.Error())},
		)
	}
	return nil
}

// shorten keeps rejection messages readable for large configs.
func shorten(s string) string {
	const limit = 256
	if len(s) <= limit {
		return s
	}
	return s[:limit] + "..."
}

// SetupNADWebhookWithManager registers the NAD validating webhook.
func SetupNADWebhookWithManager(mgr ctrl.Manager) error {
	return ctrl.NewWebhookManagedBy(mgr, &nadv1.NetworkAttachmentDefinition{}).
		WithValidator(&NADValidator{}).
		WithValidatorCustomPath(NADWebhookPath).
		Complete()
}
