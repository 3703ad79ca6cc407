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

package kubectlplexus

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// NewCommand returns the "kubectl plexus" command with the standard kubeconfig flags
// (--kubeconfig, --context, -n, …) and the pods, planes and why subcommands.
func NewCommand(streams genericiooptions.IOStreams) *cobra.Command {
	flags := genericclioptions.NewConfigFlags(true)
	var allNamespaces bool
	root := &cobra.Command{
		Use:           "kubectl-plexus",
		Annotations:   map[string]string{cobra.CommandDisplayNameAnnotation: "kubectl plexus"},
		Short:         "Inspect Plexus secondary networks: pod attachments, planes, and why an attachment failed",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	flags.AddFlags(root.PersistentFlags())

	gatherer := func() (*Gatherer, string, error) {
		cfg, err := flags.ToRESTConfig()
		if err != nil {
			return nil, "", err
		}
		ns, _, err := flags.ToRawKubeConfigLoader().Namespace()
		if err != nil {
			return nil, "", err
		}
		scheme, err := NewScheme()
		if err != nil {
			return nil, "", err
		}
		c, err := client.New(cfg, client.Options{Scheme: scheme})
		if err != nil {
			return nil, "", fmt.Errorf("failed to create a client: %w", err)
		}
		return &Gatherer{Client: c}, ns, nil
	}

	pods := &cobra.Command{
		Use:   "pods",
		Short: "List pods with secondary networks: interface, network, plane, IPs and state (requested vs network-status)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			g, ns, err := gatherer()
			if err != nil {
				return err
			}
			if allNamespaces {
				ns = ""
			}
			list, err := g.PodNetworks(cmd.Context(), ns)
			if err != nil {
				return err
			}
			if len(list) == 0 {
				if allNamespaces {
					fmt.Fprintln(streams.ErrOut, "No pods with secondary networks found.")
				} else {
					fmt.Fprintf(streams.ErrOut, "No pods with secondary networks found in %s namespace.\n", ns)
				}
				return nil
			}
			return RenderPods(streams.Out, list, allNamespaces)
		},
	}
	pods.Flags().BoolVarP(&allNamespaces, "all-namespaces", "A", false, "list pods in all namespaces")

	planes := &cobra.Command{
		Use:   "planes",
		Short: "List NetworkPlanes: type, readiness, rendered namespaces, attached and failed pods",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			g, _, err := gatherer()
			if err != nil {
				return err
			}
			list, err := g.Planes(cmd.Context())
			if err != nil {
				return err
			}
			if len(list) == 0 {
				fmt.Fprintln(streams.ErrOut, "No NetworkPlanes found.")
				return nil
			}
			return RenderPlanes(streams.Out, list, time.Now())
		},
	}

	why := &cobra.Command{
		Use:   "why POD",
		Short: "Explain why a pod's secondary networks are not attached: annotations, events, policies",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			g, ns, err := gatherer()
			if err != nil {
				return err
			}
			r, err := g.Why(cmd.Context(), ns, args[0])
			if err != nil {
				return err
			}
			return RenderWhy(streams.Out, r, time.Now())
		},
	}

	root.AddCommand(pods, planes, why)
	return root
}
