// Command k8s-types writes the one table of Kubernetes type knowledge the apiserver uses
// (durable-objects/apiserver/protobuf-schemas/k8s.ts): it walks the k8s.io/api Go types by reflection,
// so field numbers come from the `protobuf` struct tags, names/omitempty/inline from the `json` tags and
// list strategies from `patchStrategy`/`patchMergeKey`, required fields from the `+optional` markers. From it the apiserver decodes protobuf bodies to
// exactly what encoding/json would have sent, type-checks writes of built-in kinds and reads strategic
// merge keys. `npm run gen:k8s-types` runs it; a test checks the checked-in table is its output.
package main

import (
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/capim-edge/capim-edge/tools/k8s-types/kinds"
	"k8s.io/client-go/kubernetes/scheme"
)

type field struct {
	no                                         int
	name, typ, value                           string
	repeated, ptr, omitempty, omitzero, inline bool
	// In the published OpenAPI schema's `required` list (see markers.go).
	required bool
	// Strategic merge patch: the struct's patchStrategy and patchMergeKey tags.
	patchStrategy, patchMergeKey string
}

var (
	messages  = map[string][]field{}
	marshaler = reflect.TypeOf((*json.Marshaler)(nil)).Elem()
	// Types with their own JSON form (MarshalJSON); the decoder has a case for each.
	special = map[string]string{
		"k8s.io/apimachinery/pkg/apis/meta/v1.Time":       "time",
		"k8s.io/apimachinery/pkg/apis/meta/v1.MicroTime":  "microtime",
		"k8s.io/apimachinery/pkg/apis/meta/v1.FieldsV1":   "rawjson",
		"k8s.io/apimachinery/pkg/runtime.RawExtension":    "rawjson",
		"k8s.io/apimachinery/pkg/api/resource.Quantity":   "quantity",
		"k8s.io/apimachinery/pkg/util/intstr.IntOrString": "intorstr",
	}
)

func msgName(t reflect.Type) string {
	p := t.PkgPath()
	p = strings.TrimPrefix(p, "k8s.io/api/")
	p = strings.TrimPrefix(p, "k8s.io/apimachinery/pkg/apis/")
	return p + "." + t.Name()
}

func typeOf(t reflect.Type) string {
	if s, ok := special[t.PkgPath()+"."+t.Name()]; ok {
		return s
	}
	if reflect.PointerTo(t).Implements(marshaler) || t.Implements(marshaler) {
		panic("type with custom JSON form not handled: " + t.String())
	}
	switch t.Kind() {
	case reflect.String:
		return "string"
	case reflect.Bool:
		return "bool"
	case reflect.Int32:
		return "int32"
	case reflect.Int64:
		return "int64"
	case reflect.Float64:
		return "double"
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Uint8 {
			return "bytes"
		}
		// A named []string (ExtraValue, Verbs) is a message {repeated string items = 1} on the wire.
		if t.Name() != "" && t.Elem().Kind() == reflect.String {
			return "strlist"
		}
	case reflect.Struct:
		visit(t)
		return msgName(t)
	}
	panic("unhandled type " + t.String())
}

func visit(t reflect.Type) {
	name := msgName(t)
	if _, ok := messages[name]; ok {
		return
	}
	messages[name] = nil
	var fields []field
	for i := 0; i < t.NumField(); i++ {
		sf := t.Field(i)
		pb := sf.Tag.Get("protobuf")
		js := strings.Split(sf.Tag.Get("json"), ",")
		if pb == "" {
			if sf.Anonymous || js[0] == "-" {
				continue // TypeMeta is carried by the runtime.Unknown envelope
			}
			panic(fmt.Sprintf("%s.%s has no protobuf tag", name, sf.Name))
		}
		parts := strings.Split(pb, ",")
		no, _ := strconv.Atoi(parts[1])
		// Repetition comes from the Go type: maps are "rep" in the tag, and a few pointer fields are mis-tagged "rep".
		f := field{no: no, name: js[0], patchStrategy: sf.Tag.Get("patchStrategy"), patchMergeKey: sf.Tag.Get("patchMergeKey")}
		for _, o := range js[1:] {
			f.omitempty = f.omitempty || o == "omitempty"
			f.omitzero = f.omitzero || o == "omitzero"
			f.inline = f.inline || o == "inline"
		}
		f.required = !f.inline && requiredField(t.PkgPath(), t.Name(), sf.Name, f.omitempty)
		for _, p := range parts[3:] {
			if pn, ok := strings.CutPrefix(p, "name="); ok && pn != f.name && !f.inline {
				fmt.Fprintf(os.Stderr, "note: %s field %d proto name %q json name %q\n", name, no, pn, f.name)
			}
		}
		ft := sf.Type
		if ft.Kind() == reflect.Pointer {
			f.ptr, ft = true, ft.Elem()
		}
		switch {
		case ft.Kind() == reflect.Map:
			if ft.Key().Kind() != reflect.String {
				panic("non-string map key in " + name)
			}
			f.typ, f.value = "map", typeOf(ft.Elem())
		case ft.Kind() == reflect.Slice && ft.Name() == "" && ft.Elem().Kind() != reflect.Uint8:
			f.repeated = true
			et := ft.Elem()
			if et.Kind() == reflect.Pointer {
				et = et.Elem()
			}
			f.typ = typeOf(et)
		default:
			f.typ = typeOf(ft)
		}
		fields = append(fields, f)
	}
	messages[name] = fields
}

func main() {
	kindMap := map[string]string{}
	for _, obj := range kinds.All {
		t := reflect.TypeOf(obj).Elem()
		visit(t)
		gvks, _, err := scheme.Scheme.ObjectKinds(obj)
		if err != nil {
			panic(err)
		}
		for _, gvk := range gvks {
			if gvk.Kind == "DeleteOptions" && gvk.Group != "" && gvk.Group != "meta.k8s.io" {
				continue // registered in every group version; the decoder maps any */DeleteOptions
			}
			kindMap[gvk.GroupVersion().String()+"/"+gvk.Kind] = msgName(t)
		}
	}
	var b strings.Builder
	b.WriteString("// GENERATED by tools/k8s-types (npm run gen:k8s-types) from k8s.io/api v0.36.3 struct tags. Do not edit.\n")
	b.WriteString("import type { Messages } from \"./types.js\";\n\n")
	b.WriteString("export const MESSAGES: Messages = {\n")
	for _, n := range slices.Sorted(maps.Keys(messages)) {
		fmt.Fprintf(&b, "  %q: {\n", n)
		for _, f := range messages[n] {
			fmt.Fprintf(&b, "    %d: { name: %q, type: %q", f.no, f.name, f.typ)
			for _, attr := range []struct{ name, value string }{{"value", f.value}, {"patchStrategy", f.patchStrategy}, {"patchMergeKey", f.patchMergeKey}} {
				if attr.value != "" {
					fmt.Fprintf(&b, ", %s: %q", attr.name, attr.value)
				}
			}
			for _, fl := range []struct {
				on   bool
				name string
			}{{f.repeated, "repeated"}, {f.ptr, "ptr"}, {f.omitempty, "omitempty"}, {f.omitzero, "omitzero"}, {f.inline, "inline"}, {f.required, "required"}} {
				if fl.on {
					fmt.Fprintf(&b, ", %s: true", fl.name)
				}
			}
			b.WriteString(" },\n")
		}
		b.WriteString("  },\n")
	}
	b.WriteString("};\n\n/** `apiVersion/kind` of a top-level object to its message. */\nexport const KINDS: Record<string, string> = {\n")
	for _, k := range slices.Sorted(maps.Keys(kindMap)) {
		fmt.Fprintf(&b, "  %q: %q,\n", k, kindMap[k])
	}
	b.WriteString("};\n")
	os.Stdout.WriteString(b.String())
}
