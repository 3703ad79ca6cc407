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

// Command plexus-cni is the Plexus CNI meta-plugin. All logic lives in cni/plugin.
package main

import (
	"github.com/containernetworking/cni/pkg/skel"
	"github.com/containernetworking/cni/pkg/version"

	"github.com/plexus-net/plexus/cni/plugin"
	pversion "github.com/plexus-net/plexus/internal/version"
)

func main() {
	p := &plugin.Plugin{}
	skel.PluginMainFuncs(skel.CNIFuncs{
		Add:    p.CmdAdd,
		Del:    p.CmdDel,
		Check:  p.CmdCheck,
		Status: p.CmdStatus,
		GC:     p.CmdGC,
	}, version.PluginSupports("0.3.1", "0.4.0", "1.0.0", "1.1.0"), "plexus-cni "+pversion.Version+": Plexus multi-network CNI meta-plugin")
}
