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

// Package argocd tests the Argo CD resource health checks in config/argocd: it runs the Lua
// scripts with gopher-lua (the interpreter Argo CD embeds), the way Argo CD does (the object as
// the global obj, the returned table's status and message), against fixture objects of every
// Plexus kind.
package argocd
