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

// Package journal is the agent's durable store of pending pod status reports: an append-only
// log (journal.log), one JSON record per line, written before the meta-plugin is told the
// report is accepted. Reports for the same pod coalesce (the latest network-status wins,
// events accumulate), so a pod costs one PATCH however many ADDs it saw. Entries survive agent
// restarts and are replayed by the status writer; the log is rewritten atomically (temp file,
// fsync, rename, directory fsync) when it opens and when it has grown to several times what is
// pending.
package journal
