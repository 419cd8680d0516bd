package main

// OpenAPI's `required` lists come partly from comment markers, which reflection cannot see. openapi-gen
// (k8s.io/kube-openapi's isOptional) decides per field: `+optional` in its doc comment makes it optional,
// `+required` required, and otherwise it is optional exactly when its json tag has omitempty. This
// reads those markers from the k8s.io/api sources in the module cache, so the table says what the
// published OpenAPI schemas say.

import (
	"go/ast"
	"go/build"
	"go/parser"
	"go/token"
	"strings"
)

// markersByPackage: package path -> "Struct.GoField" -> "optional", "required" or "" (no marker).
var markersByPackage = map[string]map[string]string{}

// requiredField reports whether openapi-gen puts the field in its struct's `required` list.
func requiredField(pkgPath, structName, goField string, omitempty bool) bool {
	fields, ok := markersByPackage[pkgPath]
	if !ok {
		fields = readMarkers(pkgPath)
		markersByPackage[pkgPath] = fields
	}
	switch fields[structName+"."+goField] {
	case "optional":
		return false
	case "required":
		return true
	}
	return !omitempty
}

func readMarkers(pkgPath string) map[string]string {
	pkg, err := build.Default.Import(pkgPath, ".", build.FindOnly)
	if err != nil {
		panic(err)
	}
	parsed, err := parser.ParseDir(token.NewFileSet(), pkg.Dir, nil, parser.ParseComments)
	if err != nil {
		panic(err)
	}
	out := map[string]string{}
	for _, p := range parsed {
		if strings.HasSuffix(p.Name, "_test") {
			continue
		}
		for _, file := range p.Files {
			ast.Inspect(file, func(n ast.Node) bool {
				ts, ok := n.(*ast.TypeSpec)
				if !ok {
					return true
				}
				st, ok := ts.Type.(*ast.StructType)
				if !ok {
					return false
				}
				for _, f := range st.Fields.List {
					for _, name := range f.Names {
						out[ts.Name.Name+"."+name.Name] = marker(f.Doc)
					}
				}
				return false
			})
		}
	}
	return out
}

// marker is "optional" or "required" when the doc comment has that `+` tag (with or without a value).
func marker(doc *ast.CommentGroup) string {
	if doc == nil {
		return ""
	}
	for _, c := range doc.List {
		line := strings.TrimSpace(strings.TrimPrefix(c.Text, "//"))
		for _, tag := range []string{"optional", "required"} {
			if line == "+"+tag || strings.HasPrefix(line, "+"+tag+"=") {
				return tag
			}
		}
	}
	return ""
}
