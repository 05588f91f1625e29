package api

import (
	"reflect"
	"testing"

	"github.com/loyalpass/loyalpass/internal/store"
)

// The aggregates of the store the server runs on satisfy each handler
// group's interface: directly where a group uses one aggregate, through
// the small joining structs of StoresOf where it spans several.
var (
	_ keyStore        = (*store.MerchantStore)(nil)
	_ programStore    = (*store.ProgramStore)(nil)
	_ cardStore       = cardAggregates{}
	_ ledgerStore     = (*store.CardStore)(nil)
	_ messageStore    = messageAggregates{}
	_ fcmStore        = (*store.DeviceStore)(nil)
	_ deadLetterStore = (*store.QueueStore)(nil)
	_ webhookStore    = (*store.WebhookStore)(nil)
	_ campaignStore   = campaignAggregates{}
	_ walletStore     = walletAggregates{}
	_ linkStore       = linkAggregates{}
	_ googleStore     = googleAggregates{}
	_ smsHookStore    = (*store.CampaignStore)(nil)
	_ automationStore = automationAggregates{}
	_ rhythmStore     = (*store.AutomationStore)(nil)
	_ budgetStore     = (*store.AutomationStore)(nil)
	_ liabilityStore  = (*store.LiabilityStore)(nil)
	_ SchemaStore     = (*store.Store)(nil)
	_ joinStore       = joinAggregates{}
	_ customerStore   = customerAggregates{}
	_ referralReports = (*store.ReferralStore)(nil)
	_ posterStore     = posterAggregates{}
	_ referralCodes   = (*store.ReferralStore)(nil)

	_ koshelekStore         = koshelekAggregates{}
	_ koshelekProgramStore  = (*store.KoshelekStore)(nil)
	_ koshelekCallbackStore = (*store.KoshelekStore)(nil)
	_ programKoshelekStore  = (*store.KoshelekStore)(nil)
	_ koshelekCardStore     = (*store.KoshelekStore)(nil)
	_ couponIssueStore      = (*store.CouponIssueStore)(nil)
)

// maxHandlerStore is the most methods a handler group's store may have:
// a group that needs more is doing more than one resource's job.
const maxHandlerStore = 8

// TestHandlersHoldNarrowStores walks every handler group of a Server and
// fails if one holds a concrete store type, or any interface wider than
// maxHandlerStore methods; the same for every field of Stores.
func TestHandlersHoldNarrowStores(t *testing.T) {
	storePkg := reflect.TypeFor[store.Store]().PkgPath()
	apiPkg := reflect.TypeFor[Server]().PkgPath()
	var check func(path string, v reflect.Value)
	check = func(path string, v reflect.Value) {
		for i := range v.NumField() {
			f, fv := v.Type().Field(i), v.Field(i)
			elem := f.Type
			if elem.Kind() == reflect.Pointer {
				elem = elem.Elem()
			}
			switch {
			case elem.PkgPath() == storePkg && elem.Kind() == reflect.Struct:
				t.Errorf("%s.%s holds the concrete %s", path, f.Name, f.Type)
			case f.Type.Kind() == reflect.Interface && f.Type.NumMethod() > maxHandlerStore:
				t.Errorf("%s.%s is %s with %d methods, more than %d", path, f.Name, f.Type, f.Type.NumMethod(), maxHandlerStore)
			case f.Type.Kind() == reflect.Interface && f.Type.NumMethod() > 0:
				t.Logf("%-36s %-22s %d methods", path+"."+f.Name, f.Type.Name(), f.Type.NumMethod())
			case f.Type.Kind() == reflect.Pointer && elem.Kind() == reflect.Struct && !fv.IsNil() && elem.PkgPath() == apiPkg:
				check(elem.Name(), fv.Elem())
			case f.Type.Kind() == reflect.Struct && f.Type.PkgPath() == apiPkg:
				check(path+"."+f.Name, fv)
			}
		}
	}
	s := New(Options{})
	check("Server", reflect.ValueOf(s).Elem())
	check("Stores", reflect.ValueOf(Stores{}))
}
