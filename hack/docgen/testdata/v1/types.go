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

// Package v1 is a test API.
// +groupName=test.plexus.dev
package v1

import metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

// Mode is a mode.
// +kubebuilder:validation:Enum=fast;slow
type Mode string

// Thing conditions.
const (
	// ThingReadyReason (Ready=True) means it works.
	ThingReadyReason = "Works"
	// ModeFast is fast.
	ModeFast Mode = "fast"
)

// ThingSpec is the spec.
// +kubebuilder:validation:XValidation:rule="self.a.size() > 0",message="a must not be empty"
type ThingSpec struct {
	// a is a | pipe.
	// +required
	// +kubebuilder:validation:MaxLength=8
	// +kubebuilder:validation:Pattern=`^[a-z]+$`
	A string `json:"a"`

	// mode picks the mode.
	// +optional
	// +kubebuilder:default=fast
	Mode Mode `json:"mode,omitempty"`

	// parts are parts.
	// +optional
	// +listType=map
	// +listMapKey=name
	Parts []Part `json:"parts,omitempty"`
}

// Part is a part.
type Part struct {
	// name is the name.
	Name string `json:"name"`
}

// +kubebuilder:object:root=true
// +kubebuilder:resource:scope=Cluster,shortName=th
// +kubebuilder:printcolumn:name="Mode",type=string,JSONPath=`.spec.mode`

// Thing is a thing.
type Thing struct {
	metav1.TypeMeta `json:",inline"`
	// +optional
	metav1.ObjectMeta `json:"metadata,omitempty"`
	// spec is the spec.
	// +required
	Spec ThingSpec `json:"spec"`
}

// ThingList is a list.
type ThingList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []Thing `json:"items"`
}
