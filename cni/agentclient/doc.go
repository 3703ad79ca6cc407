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

// Package agentclient is the protocol between plexus-cni and the node agent, and
// plexus-cni's side of it: resolution (OpResolve) and status reports (OpReport), one JSON
// request and one JSON answer per connection on the agent's unix socket. It is deliberately
// not HTTP: net/http and crypto/tls would add about 0.5 ms of start-up to every plexus-cni
// exec. When the agent does not answer (no socket, refused or slow connect,
// CodeUnavailable while its caches sync), errors match ErrAgentUnavailable and Fallback
// switches the invocation to direct API mode.
package agentclient
