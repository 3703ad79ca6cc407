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

// Condition types shared by every Plexus kind. Each kind documents the reasons it uses next to
// its type (for example NetworkPlaneRenderedReason in networkplane_types.go). Every condition is a
// metav1.Condition carrying the observedGeneration of the spec it describes.
const (
	// ReadyCondition is True when the object's intent is fully realised (NADs rendered, pods
	// attached, nodes configured). It is the condition to `kubectl wait --for=condition=Ready` on.
	ReadyCondition = "Ready"

	// ProgressingCondition is True while the operator or the node agents are still converging
	// towards the current generation.
	ProgressingCondition = "Progressing"

	// DegradedCondition is True when something the object asks for is failing and needs a human:
	// a conflict, an invalid configuration, failed attachments or nodes.
	DegradedCondition = "Degraded"
)

// Reasons shared by every Plexus kind.
const (
	// AsExpectedReason is used with Degraded=False and Progressing=False: nothing is failing or
	// in progress.
	AsExpectedReason = "AsExpected"

	// InternalErrorReason means the operator could not compute or apply the desired state because
	// of an error that is not the user's (API errors, timeouts); it retries with backoff.
	InternalErrorReason = "InternalError"

	// DeletingReason is used with Ready=False while the object is being deleted and the operator
	// cleans up what it created.
	DeletingReason = "Deleting"
)
