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

package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"
)

// options are the command-line settings.
type options struct {
	inputs         []string
	outDir         string
	version        string
	pkg            string
	channels       string
	defaultChannel string
	webhookArgs    []string
}

type stringList []string

func (s *stringList) String() string     { return strings.Join(*s, ",") }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }

func main() {
	var o options
	var inputs, webhookArgs stringList
	flag.Var(&inputs, "input", "multi-document YAML to read (kustomize output); repeatable; - is stdin")
	flag.StringVar(&o.outDir, "out", "bundle", "bundle directory to (re)write")
	flag.StringVar(&o.version, "version", "0.1.0", "operator version (semver, no leading v)")
	flag.StringVar(&o.pkg, "package", "plexus", "OLM package name")
	flag.StringVar(&o.channels, "channels", "alpha", "comma-separated OLM channels")
	flag.StringVar(&o.defaultChannel, "default-channel", "alpha", "default OLM channel")
	flag.Var(&webhookArgs, "webhook-arg", "flag (--key=value) set on the container serving the webhooks under OLM, which provides the certificate; repeatable")
	flag.Parse()
	o.inputs = inputs
	o.webhookArgs = webhookArgs
	if len(o.inputs) == 0 {
		o.inputs = []string{"-"}
	}
	if err := run(o, os.Stderr); err != nil {
		fmt.Fprintf(os.Stderr, "bundlegen: %v\n", err)
		os.Exit(1)
	}
}

func run(o options, warn io.Writer) error {
	o.version = strings.TrimPrefix(o.version, "v")
	var objs []*unstructured.Unstructured
	for _, in := range o.inputs {
		got, err := readObjects(in)
		if err != nil {
			return err
		}
		objs = append(objs, got...)
	}
	createdAt := previousCreatedAt(filepath.Join(o.outDir, "manifests", o.pkg+".clusterserviceversion.yaml"), o.version)
	if createdAt == "" {
		createdAt = time.Now().UTC().Format(time.RFC3339)
	}
	b, err := buildBundle(objs, o.pkg, o.version, createdAt, o.webhookArgs, warn)
	if err != nil {
		return err
	}
	return writeBundle(o, b)
}

// readObjects reads every non-empty document of a multi-document YAML file.
func readObjects(path string) ([]*unstructured.Unstructured, error) {
	var r io.Reader
	if path == "-" {
		r = os.Stdin
	} else {
		f, err := os.Open(path)
		if err != nil {
			return nil, fmt.Errorf("failed to open %s: %w", path, err)
		}
		defer f.Close()
		r = f
	}
	dec := utilyaml.NewYAMLOrJSONDecoder(r, 4096)
	var out []*unstructured.Unstructured
	for {
		m := map[string]any{}
		if err := dec.Decode(&m); err != nil {
			if errors.Is(err, io.EOF) {
				return out, nil
			}
			return nil, fmt.Errorf("failed to decode %s: %w", path, err)
		}
		if len(m) == 0 {
			continue
		}
		u := &unstructured.Unstructured{Object: m}
		if u.GetKind() == "" {
			return nil, fmt.Errorf("%s: a document has no kind", path)
		}
		out = append(out, u)
	}
}

// previousCreatedAt returns the createdAt of the existing CSV if it is for the same version, so
// regenerating an unchanged bundle changes nothing at all.
func previousCreatedAt(path, version string) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	var csv struct {
		Metadata struct {
			Annotations map[string]string `json:"annotations"`
		} `json:"metadata"`
		Spec struct {
			Version string `json:"version"`
		} `json:"spec"`
	}
	if yaml.Unmarshal(data, &csv) != nil || csv.Spec.Version != version {
		return ""
	}
	return csv.Metadata.Annotations["createdAt"]
}

// writeBundle replaces the bundle's manifests/ and metadata/ with the generated files.
func writeBundle(o options, b *bundle) error {
	for _, d := range []string{"manifests", "metadata"} {
		if err := os.RemoveAll(filepath.Join(o.outDir, d)); err != nil {
			return err
		}
		if err := os.MkdirAll(filepath.Join(o.outDir, d), 0o755); err != nil {
			return err
		}
	}
	names := make([]string, 0, len(b.files))
	for n := range b.files {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if err := writeYAML(filepath.Join(o.outDir, "manifests", n), b.files[n]); err != nil {
			return err
		}
	}
	channels := strings.Split(o.channels, ",")
	annotations := map[string]any{"annotations": map[string]string{
		"operators.operatorframework.io.bundle.mediatype.v1":       "registry+v1",
		"operators.operatorframework.io.bundle.manifests.v1":       "manifests/",
		"operators.operatorframework.io.bundle.metadata.v1":        "metadata/",
		"operators.operatorframework.io.bundle.package.v1":         o.pkg,
		"operators.operatorframework.io.bundle.channels.v1":        strings.Join(channels, ","),
		"operators.operatorframework.io.bundle.channel.default.v1": o.defaultChannel,
		"operators.operatorframework.io.metrics.builder":           "plexus-bundlegen",
		"operators.operatorframework.io.metrics.mediatype.v1":      "metrics+v1",
		"operators.operatorframework.io.metrics.project_layout":    "go.kubebuilder.io/v4",
	}}
	if err := writeYAML(filepath.Join(o.outDir, "metadata", "annotations.yaml"), annotations); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(o.outDir, "bundle.Dockerfile"), []byte(dockerfile(o, channels)), 0o644)
}

func dockerfile(o options, channels []string) string {
	var buf bytes.Buffer
	buf.WriteString("# Generated by hack/bundle.sh; do not edit. Build with: docker build -f bundle/bundle.Dockerfile bundle/\n")
	buf.WriteString("FROM scratch\n\n")
	for _, kv := range [][2]string{
		{"operators.operatorframework.io.bundle.mediatype.v1", "registry+v1"},
		{"operators.operatorframework.io.bundle.manifests.v1", "manifests/"},
		{"operators.operatorframework.io.bundle.metadata.v1", "metadata/"},
		{"operators.operatorframework.io.bundle.package.v1", o.pkg},
		{"operators.operatorframework.io.bundle.channels.v1", strings.Join(channels, ",")},
		{"operators.operatorframework.io.bundle.channel.default.v1", o.defaultChannel},
	} {
		fmt.Fprintf(&buf, "LABEL %s=%s\n", kv[0], kv[1])
	}
	buf.WriteString("\nCOPY manifests /manifests/\nCOPY metadata /metadata/\n")
	return buf.String()
}

func writeYAML(path string, v any) error {
	data, err := yaml.Marshal(v)
	if err != nil {
		return fmt.Errorf("failed to marshal %s: %w", path, err)
	}
	return os.WriteFile(path, append([]byte("---\n"), data...), 0o644)
}
