package main

import (
	"encoding/json"
	"fmt"
	"reflect"
	"time"

	"github.com/capim-edge/capim-edge/tools/k8s-types/kinds"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/randfill"
)

// fuzzed fills every kind the apiserver decodes with random values (fixed seeds), so every field of
// every generated schema is exercised. Values a JSON number or the protobuf round trip cannot keep
// exactly (int64 above 2^53, sub-second Times, arbitrary Quantity internals) are drawn from ranges that can.
func fuzzed() []named {
	var out []named
	for _, proto := range kinds.All {
		for seed := int64(1); seed <= 4; seed++ {
			f := randfill.NewWithSeed(seed).NilChance(0.2).NumElements(1, 2).MaxDepth(12).Funcs(
				func(i *int64, c randfill.Continue) { *i = c.Int63n(1 << 40) },
				func(t *metav1.Time, c randfill.Continue) { *t = metav1.Unix(c.Int63n(4e9), 0).Rfc3339Copy() },
				func(t *metav1.MicroTime, c randfill.Continue) {
					*t = metav1.NewMicroTime(time.Unix(c.Int63n(4e9), c.Int63n(1e6)*1000).UTC())
				},
				func(q *resource.Quantity, c randfill.Continue) {
					*q = *resource.NewMilliQuantity(c.Int63n(1e6), resource.DecimalSI)
				},
				func(v *intstr.IntOrString, c randfill.Continue) {
					if c.Bool() {
						*v = intstr.FromInt32(c.Int31())
					} else {
						*v = intstr.FromString(c.String(8))
					}
				},
				func(r *runtime.RawExtension, c randfill.Continue) {
					r.Raw, _ = json.Marshal(map[string]string{"k": c.String(6)})
				},
				func(r *metav1.FieldsV1, c randfill.Continue) {
					r.Raw, _ = json.Marshal(map[string]any{"f:" + c.String(4): map[string]any{}})
				},
				func(tm *metav1.TypeMeta, c randfill.Continue) {},
			)
			obj := reflect.New(reflect.TypeOf(proto).Elem()).Interface().(runtime.Object)
			f.Fill(obj)
			out = append(out, named{fmt.Sprintf("%T/%d", obj, seed), obj})
		}
	}
	return out
}
