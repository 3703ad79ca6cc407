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

// Command plexus-cni-direct is the Plexus meta-plugin with its API-server client linked in.
// plexus-cni hands it the commands that need the API server (no node agent configured or
// answering); it can also be configured as the CNI plugin itself. All logic lives in
// cni/plugin; this build only adds cni/kube.
package main

import (
	"fmt"
	"os"

	"github.com/containernetworking/cni/pkg/skel"
	"github.com/containernetworking/cni/pkg/version"

	"github.com/plexus-net/plexus/cni/kube"
	"github.com/plexus-net/plexus/cni/plugin"
	pversion "github.com/plexus-net/plexus/internal/version"
)

func main() {
	p := &plugin.Plugin{Direct: kube.DirectMode, SkipAgent: os.Getenv(plugin.HandOffEnv) != ""}
	if os.Getenv(plugin.ReportEnv) != "" {
		if err := p.ServeReport(os.Stdin); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		return
	}
	skel.PluginMainFuncs(skel.CNIFuncs{
		Add:    p.CmdAdd,
		Del:    p.CmdDel,
		Check:  p.CmdCheck,
		Status: p.CmdStatus,
		GC:     p.CmdGC,
	}, version.PluginSupports("0.3.1", "0.4.0", "1.0.0", "1.1.0"), plugin.DirectBinary+" "+pversion.Version+": Plexus multi-network CNI meta-plugin, direct API mode")
}
