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

// Command mkimage builds a single-layer container image as a docker-archive tarball (the format
// of "docker save", importable with "ctr images import") from files on disk, with Go only: no
// Docker engine, no registry. It is how "make images" builds the Plexus images.
//
//	mkimage -o out.tar -ref plexus.local/agent:latest -entrypoint /agent \
//	        -add bin/agent:/agent -add bin/cni:/plugins -user 0
package main

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

type addList []string

func (a *addList) String() string     { return strings.Join(*a, ",") }
func (a *addList) Set(v string) error { *a = append(*a, v); return nil }

// entry is one file, directory or symlink of the image's root filesystem.
type entry struct {
	name     string // path inside the image, without leading slash
	mode     int64
	typeflag byte
	linkname string
	src      string // file on disk for regular files
}

func main() {
	var adds, links addList
	out := flag.String("o", "", "output tarball")
	ref := flag.String("ref", "", "image reference, e.g. plexus.local/agent:latest")
	entrypoint := flag.String("entrypoint", "", "comma-separated entrypoint argv")
	cmd := flag.String("cmd", "", "comma-separated default command argv")
	user := flag.String("user", "", "user the image runs as (numeric, e.g. 65532)")
	flag.Var(&adds, "add", "SRC:DST, a file or a directory tree copied into the image (repeatable)")
	flag.Var(&links, "symlink", "TARGET:LINK, a symlink in the image (repeatable)")
	flag.Parse()
	if *out == "" || *ref == "" {
		fmt.Fprintln(os.Stderr, "usage: mkimage -o OUT.tar -ref NAME:TAG [-entrypoint a,b] [-add SRC:DST]...")
		os.Exit(2)
	}
	if err := run(*out, *ref, split(*entrypoint), split(*cmd), *user, adds, links); err != nil {
		fmt.Fprintln(os.Stderr, "mkimage:", err)
		os.Exit(1)
	}
}

func split(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}

func run(out, ref string, entrypoint, cmd []string, user string, adds, links []string) error {
	entries := map[string]entry{}
	addDir := func(name string) {
		for d := name; d != "." && d != "/" && d != ""; d = path.Dir(d) {
			if _, ok := entries[d]; !ok {
				entries[d] = entry{name: d, mode: 0o755, typeflag: tar.TypeDir}
			}
		}
	}
	for _, dir := range []string{"tmp", "etc", "proc", "sys", "dev", "var/run", "run"} {
		addDir(dir)
	}
	entries["tmp"] = entry{name: "tmp", mode: 0o1777, typeflag: tar.TypeDir}
	files := map[string]string{
		"etc/passwd":        "root:x:0:0:root:/root:/bin/sh\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n",
		"etc/group":         "root:x:0:\nnonroot:x:65532:\n",
		"etc/hosts":         "127.0.0.1 localhost\n",
		"etc/nsswitch.conf": "hosts: files dns\n",
	}
	for _, a := range adds {
		src, dst, ok := strings.Cut(a, ":")
		if !ok {
			return fmt.Errorf("bad -add %q, want SRC:DST", a)
		}
		dst = strings.TrimPrefix(path.Clean(dst), "/")
		if err := addTree(entries, addDir, src, dst); err != nil {
			return err
		}
	}
	for _, l := range links {
		target, link, ok := strings.Cut(l, ":")
		if !ok {
			return fmt.Errorf("bad -symlink %q, want TARGET:LINK", l)
		}
		link = strings.TrimPrefix(path.Clean(link), "/")
		addDir(path.Dir(link))
		entries[link] = entry{name: link, mode: 0o777, typeflag: tar.TypeSymlink, linkname: target}
	}

	layer, err := buildLayer(entries, files)
	if err != nil {
		return err
	}
	layerSum := sha256.Sum256(layer)
	layerHex := hex.EncodeToString(layerSum[:])
	epoch := time.Unix(0, 0).UTC().Format(time.RFC3339)
	cfg := map[string]any{
		"architecture": "amd64",
		"os":           "linux",
		"created":      epoch,
		"config": map[string]any{
			"Entrypoint": entrypoint,
			"Cmd":        cmd,
			"User":       user,
			"Env":        []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"},
			"WorkingDir": "/",
		},
		"rootfs":  map[string]any{"type": "layers", "diff_ids": []string{"sha256:" + layerHex}},
		"history": []map[string]string{{"created": epoch, "created_by": "plexus hack/mkimage"}},
	}
	cfgJSON, err := json.Marshal(cfg)
	if err != nil {
		return err
	}
	cfgSum := sha256.Sum256(cfgJSON)
	cfgName := hex.EncodeToString(cfgSum[:]) + ".json"
	manifest, err := json.Marshal([]map[string]any{{
		"Config": cfgName, "RepoTags": []string{ref}, "Layers": []string{layerHex + "/layer.tar"},
	}})
	if err != nil {
		return err
	}

	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	write := func(name string, data []byte, mode int64, flag byte) error {
		h := &tar.Header{Name: name, Mode: mode, Typeflag: flag, ModTime: time.Unix(0, 0), Format: tar.FormatPAX}
		if flag == tar.TypeReg {
			h.Size = int64(len(data))
		}
		if err := tw.WriteHeader(h); err != nil {
			return err
		}
		_, err := tw.Write(data)
		return err
	}
	for _, step := range []error{
		write(layerHex+"/", nil, 0o755, tar.TypeDir),
		write(layerHex+"/layer.tar", layer, 0o644, tar.TypeReg),
		write(cfgName, cfgJSON, 0o644, tar.TypeReg),
		write("manifest.json", manifest, 0o644, tar.TypeReg),
	} {
		if step != nil {
			return step
		}
	}
	if err := tw.Close(); err != nil {
		return err
	}
	tmp := out + ".tmp"
	if err := os.WriteFile(tmp, buf.Bytes(), 0o644); err != nil {
		return err
	}
	if err := os.Rename(tmp, out); err != nil {
		return err
	}
	fmt.Printf("built %s (%s, %d MiB) layer sha256:%s\n", out, ref, len(layer)>>20, layerHex[:12])
	return nil
}

// addTree adds SRC (file or directory tree, symlinks kept) at DST in the image.
func addTree(entries map[string]entry, addDir func(string), src, dst string) error {
	return filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		name := dst
		if rel != "." {
			name = path.Join(dst, filepath.ToSlash(rel))
		}
		addDir(path.Dir(name))
		info, err := os.Lstat(p)
		if err != nil {
			return err
		}
		switch {
		case info.Mode()&fs.ModeSymlink != 0:
			target, err := os.Readlink(p)
			if err != nil {
				return err
			}
			entries[name] = entry{name: name, mode: 0o777, typeflag: tar.TypeSymlink, linkname: target}
		case info.IsDir():
			entries[name] = entry{name: name, mode: 0o755, typeflag: tar.TypeDir}
		default:
			entries[name] = entry{name: name, mode: int64(info.Mode().Perm()), typeflag: tar.TypeReg, src: p}
		}
		return nil
	})
}

// buildLayer writes a reproducible layer tar: sorted names, zero times, root ownership.
func buildLayer(entries map[string]entry, files map[string]string) ([]byte, error) {
	for name := range files {
		if _, ok := entries[name]; !ok {
			entries[name] = entry{name: name, mode: 0o644, typeflag: tar.TypeReg}
		}
	}
	names := make([]string, 0, len(entries))
	for n := range entries {
		names = append(names, n)
	}
	sort.Strings(names)
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, n := range names {
		e := entries[n]
		h := &tar.Header{Name: e.name, Mode: e.mode, Typeflag: e.typeflag, Linkname: e.linkname,
			ModTime: time.Unix(0, 0), Format: tar.FormatPAX}
		if e.typeflag == tar.TypeDir {
			h.Name += "/"
		}
		var data []byte
		if e.typeflag == tar.TypeReg {
			if content, ok := files[n]; ok && e.src == "" {
				data = []byte(content)
			} else {
				f, err := os.Open(e.src)
				if err != nil {
					return nil, err
				}
				data, err = io.ReadAll(f)
				f.Close()
				if err != nil {
					return nil, err
				}
			}
			h.Size = int64(len(data))
		}
		if err := tw.WriteHeader(h); err != nil {
			return nil, err
		}
		if _, err := tw.Write(data); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
