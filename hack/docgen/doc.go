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

// Command docgen writes docs/reference/api.md from the Go API types (api/v1alpha1), parsed with
// go/parser and go/doc: every kind (types embedding TypeMeta and ObjectMeta), every struct type
// it uses, each field's JSON name, type, required/optional, doc comment and validation markers
// (enums, bounds, patterns, defaults, list types, CEL rules), and the condition types, reasons and
// well-known names. The output is deterministic so make verify can check it; run by
// hack/gen-docs.sh.
package main
