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

// Package kubecache holds the agent's node-scoped informers (pods of this node, trimmed to their
// metadata, and NetworkAttachmentDefinitions) and serves them as a cni/resolve.Source: no API
// request on the ADD path. A pod missing from the cache (just created) is waited for briefly,
// then fetched with one live GET.
package kubecache
