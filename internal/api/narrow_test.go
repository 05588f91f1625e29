package api

import (
	"reflect"
	"testing"

	"github.com/loyalpass/loyalpass/internal/store"
)

// The store the server runs on satisfies each handler group's interface.
var (
	_ keyStore        = (*store.Store)(nil)
	_ programStore    = (*store.Store)(nil)
	_ cardStore       = (*store.Store)(nil)
	_ ledgerStore     = (*store.Store)(nil)
	_ messageStore    = (*store.Store)(nil)
	_ fcmStore        = (*store.Store)(nil)
	_ deadLetterStore = (*store.Store)(nil)
	_ webhookStore    = (*store.Store)(nil)
	_ campaignStore   = (*store.Store)(nil)
	_ walletStore     = (*store.Store)(nil)
	_ linkStore       = (*store.Store)(nil)
	_ googleStore     = (*store.Store)(nil)
	_ smsHookStore    = (*store.Store)(nil)
	_ SchemaStore     = (*store.Store)(nil)
)

// maxHandlerStore is the most methods a handler group's store may have:
// a group that needs more is doing more than one resource's job.
const maxHandlerStore = 8

// TestHandlersHoldNarrowStores walks every handler group of a Server and
// fails if one holds the union Store, or any interface wider than
// maxHandlerStore methods.
func TestHandlersHoldNarrowStores(t *testing.T) {
	union := reflect.TypeFor[Store]()
	var check func(path string, v reflect.Value)
	check = func(path string, v reflect.Value) {
		for i := range v.NumField() {
			f, fv := v.Type().Field(i), v.Field(i)
			switch {
			case f.Type == union:
				t.Errorf("%s.%s holds the union Store (%d methods)", path, f.Name, union.NumMethod())
			case f.Type.Kind() == reflect.Interface && f.Type.NumMethod() > maxHandlerStore:
				t.Errorf("%s.%s is %s with %d methods, more than %d", path, f.Name, f.Type, f.Type.NumMethod(), maxHandlerStore)
			case f.Type.Kind() == reflect.Interface && f.Type.NumMethod() > 0:
				t.Logf("%-36s %-22s %d methods", path+"."+f.Name, f.Type.Name(), f.Type.NumMethod())
			case f.Type.Kind() == reflect.Pointer && f.Type.Elem().Kind() == reflect.Struct && !fv.IsNil() &&
				f.Type.Elem().PkgPath() == union.PkgPath():
				check(f.Type.Elem().Name(), fv.Elem())
			case f.Type.Kind() == reflect.Struct && f.Type.PkgPath() == union.PkgPath():
				check(path+"."+f.Name, fv)
			}
		}
	}
	s := New(Options{})
	check("Server", reflect.ValueOf(s).Elem())
}
