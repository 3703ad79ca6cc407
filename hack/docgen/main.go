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
	"flag"
	"fmt"
	"go/ast"
	"go/doc"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strconv"
	"strings"
)

func main() {
	dir := flag.String("api", "api/v1alpha1", "directory of the API package")
	out := flag.String("out", "docs/reference/api.md", "markdown file to write")
	flag.Parse()
	pkg, err := load(*dir)
	if err != nil {
		fmt.Fprintf(os.Stderr, "docgen: %v\n", err)
		os.Exit(1)
	}
	var buf bytes.Buffer
	render(&buf, pkg, *dir)
	if err := os.MkdirAll(filepath.Dir(*out), 0o755); err != nil {
		fmt.Fprintf(os.Stderr, "docgen: %v\n", err)
		os.Exit(1)
	}
	if err := os.WriteFile(*out, buf.Bytes(), 0o644); err != nil {
		fmt.Fprintf(os.Stderr, "docgen: %v\n", err)
		os.Exit(1)
	}
}

// apiPackage is the parsed API package.
type apiPackage struct {
	group, version string
	doc            string
	types          map[string]*apiType
	kinds          []string // root kinds, sorted
	consts         []constant
	imports        map[string]string // alias -> import path (union over files)
}

type apiType struct {
	name    string
	doc     string
	markers []string
	fields  []field  // for structs
	under   string   // for non-struct named types: the underlying type expression
	enum    []string // enum values of a named string type
}

type field struct {
	name     string // JSON name
	typ      ast.Expr
	doc      string
	markers  []string
	required bool
	inline   bool
}

type constant struct {
	name, value, doc, typ string
}

func load(dir string) (*apiPackage, error) {
	fset := token.NewFileSet()
	paths, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		return nil, err
	}
	sort.Strings(paths)
	var files []*ast.File
	p := &apiPackage{types: map[string]*apiType{}, imports: map[string]string{}}
	for _, path := range paths {
		if strings.HasSuffix(path, "_test.go") || strings.HasPrefix(filepath.Base(path), "zz_generated") {
			continue
		}
		f, err := parser.ParseFile(fset, path, nil, parser.ParseComments)
		if err != nil {
			return nil, err
		}
		files = append(files, f)
		for _, imp := range f.Imports {
			ip, _ := strconv.Unquote(imp.Path.Value)
			alias := filepath.Base(ip)
			if imp.Name != nil {
				alias = imp.Name.Name
			}
			p.imports[alias] = ip
		}
		collectTypes(fset, f, p)
	}
	dpkg, err := doc.NewFromFiles(fset, files, "github.com/plexus-net/plexus/"+filepath.ToSlash(dir), doc.PreserveAST)
	if err != nil {
		return nil, err
	}
	var docLines []string
	for _, line := range strings.Split(dpkg.Doc, "\n") {
		if !strings.HasPrefix(strings.TrimSpace(line), "+") {
			docLines = append(docLines, line)
		}
	}
	p.doc = strings.Join(docLines, "\n")
	for _, line := range strings.Split(dpkg.Doc, "\n") {
		if g, ok := strings.CutPrefix(strings.TrimSpace(line), "+groupName="); ok {
			p.group = g
		}
	}
	p.version = filepath.Base(dir)
	if p.group == "" {
		for _, f := range files {
			for _, cg := range f.Comments {
				for _, c := range cg.List {
					if g, ok := strings.CutPrefix(strings.TrimSpace(strings.TrimPrefix(c.Text, "//")), "+groupName="); ok {
						p.group = g
					}
				}
			}
		}
	}
	for _, c := range dpkg.Consts {
		p.consts = append(p.consts, constants(c)...)
	}
	for _, t := range dpkg.Types {
		for _, c := range t.Consts {
			p.consts = append(p.consts, constants(c)...)
		}
	}
	sort.Slice(p.consts, func(i, j int) bool { return p.consts[i].name < p.consts[j].name })
	for _, c := range p.consts {
		if t, ok := p.types[c.typ]; ok && t.under == "string" {
			t.enum = append(t.enum, c.value)
		}
	}
	for name, t := range p.types {
		if isRoot(t) {
			p.kinds = append(p.kinds, name)
		}
		if vals := markerValues(t.markers, "kubebuilder:validation:Enum"); len(vals) > 0 {
			t.enum = strings.Split(vals[0], ";")
		}
	}
	sort.Strings(p.kinds)
	return p, nil
}

// isRoot reports whether a struct is a top-level kind: it embeds TypeMeta and has ObjectMeta,
// and is not a list.
func isRoot(t *apiType) bool {
	var typeMeta, objectMeta bool
	for _, f := range t.fields {
		s := exprString(f.typ)
		typeMeta = typeMeta || (f.inline && s == "metav1.TypeMeta")
		objectMeta = objectMeta || s == "metav1.ObjectMeta"
	}
	return typeMeta && objectMeta
}

func collectTypes(fset *token.FileSet, f *ast.File, p *apiPackage) {
	for _, decl := range f.Decls {
		gd, ok := decl.(*ast.GenDecl)
		if !ok || gd.Tok != token.TYPE {
			continue
		}
		for _, spec := range gd.Specs {
			ts := spec.(*ast.TypeSpec)
			cg := ts.Doc
			if cg == nil {
				cg = gd.Doc
			}
			t := &apiType{name: ts.Name.Name}
			t.doc, t.markers = splitComment(cg)
			// Markers may also sit in a comment group separated from the doc by one blank line.
			start := gd.Pos()
			if cg != nil {
				start = cg.Pos()
			}
			for _, other := range f.Comments {
				if fset.Position(other.End()).Line == fset.Position(start).Line-2 {
					_, m := splitComment(other)
					t.markers = append(m, t.markers...)
				}
			}
			switch st := ts.Type.(type) {
			case *ast.StructType:
				for _, fl := range st.Fields.List {
					t.fields = append(t.fields, parseField(fl)...)
				}
			default:
				t.under = exprString(ts.Type)
			}
			p.types[t.name] = t
		}
	}
}

func parseField(fl *ast.Field) []field {
	var tag reflect.StructTag
	if fl.Tag != nil {
		s, _ := strconv.Unquote(fl.Tag.Value)
		tag = reflect.StructTag(s)
	}
	jsonTag := tag.Get("json")
	if jsonTag == "-" {
		return nil
	}
	name, opts, _ := strings.Cut(jsonTag, ",")
	f := field{name: name, typ: fl.Type}
	f.doc, f.markers = splitComment(fl.Doc)
	f.inline = strings.Contains(opts, "inline")
	switch {
	case hasMarker(f.markers, "required") || hasMarker(f.markers, "kubebuilder:validation:Required"):
		f.required = true
	case hasMarker(f.markers, "optional") || hasMarker(f.markers, "kubebuilder:validation:Optional"):
		f.required = false
	default:
		f.required = !strings.Contains(opts, "omitempty")
	}
	if f.name == "" && len(fl.Names) > 0 {
		f.name = fl.Names[0].Name
	}
	return []field{f}
}

// splitComment separates the prose of a comment from its +markers.
func splitComment(cg *ast.CommentGroup) (string, []string) {
	if cg == nil {
		return "", nil
	}
	var prose []string
	var markers []string
	for _, line := range strings.Split(cg.Text(), "\n") {
		trimmed := strings.TrimSpace(line)
		if strings.HasPrefix(trimmed, "+") {
			markers = append(markers, strings.TrimPrefix(trimmed, "+"))
			continue
		}
		prose = append(prose, line)
	}
	return strings.TrimSpace(strings.Join(prose, "\n")), markers
}

func hasMarker(markers []string, name string) bool {
	for _, m := range markers {
		if m == name || strings.HasPrefix(m, name+"=") || strings.HasPrefix(m, name+":") {
			return true
		}
	}
	return false
}

// markerValues returns the values of name=value markers.
func markerValues(markers []string, name string) []string {
	var out []string
	for _, m := range markers {
		if v, ok := strings.CutPrefix(m, name+"="); ok {
			out = append(out, v)
		}
	}
	return out
}

func constants(v *doc.Value) []constant {
	var out []constant
	for _, spec := range v.Decl.Specs {
		vs := spec.(*ast.ValueSpec)
		typ := ""
		if vs.Type != nil {
			typ = exprString(vs.Type)
		}
		for i, name := range vs.Names {
			if !name.IsExported() || i >= len(vs.Values) {
				continue
			}
			lit, ok := vs.Values[i].(*ast.BasicLit)
			if !ok || lit.Kind != token.STRING {
				continue
			}
			val, _ := strconv.Unquote(lit.Value)
			d, _ := splitComment(vs.Doc)
			if d == "" {
				d, _ = splitComment(vs.Comment)
			}
			out = append(out, constant{name: name.Name, value: val, doc: d, typ: typ})
		}
	}
	return out
}

func exprString(e ast.Expr) string {
	switch t := e.(type) {
	case *ast.Ident:
		return t.Name
	case *ast.StarExpr:
		return "*" + exprString(t.X)
	case *ast.ArrayType:
		return "[]" + exprString(t.Elt)
	case *ast.MapType:
		return "map[" + exprString(t.Key) + "]" + exprString(t.Value)
	case *ast.SelectorExpr:
		return exprString(t.X) + "." + t.Sel.Name
	default:
		return fmt.Sprintf("%T", e)
	}
}
