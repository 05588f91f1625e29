package gwallet

import (
	"context"
	"testing"

	"google.golang.org/api/option"

	"github.com/loyalpass/loyalpass/passes"
	"github.com/loyalpass/loyalpass/passes/google"
	"github.com/loyalpass/loyalpass/push"
	"github.com/loyalpass/loyalpass/push/gwallet/gwallettest"
)

const issuerID = "3388000000022141777"

var issuer = google.Issuer{ID: issuerID, PublicURL: "https://cards.example.com"}

func newTestClient(t *testing.T) (*Client, *gwallettest.Server) {
	t.Helper()
	srv := gwallettest.NewServer(t)
	c, err := New(context.Background(), nil, option.WithEndpoint(srv.URL+"/"), option.WithoutAuthentication())
	if err != nil {
		t.Fatal(err)
	}
	return c, srv
}

func program() passes.Program {
	return passes.Program{ID: "prg_d4k2j7", OrganizationName: "Кофейня «Зерно»", Name: "Зерно+", CurrencyLabel: "баллы",
		BarcodeFormat: passes.BarcodeQR, Locale: passes.LocaleRU, Design: passes.Design{BackgroundColor: "#3b2a1f"}}
}

func card(balance int64) passes.Card {
	return passes.Card{SerialNumber: "k7q2m4xw9zt5r3ybn6vc8dh2aj", Number: "2000123456789", HolderName: "Анна", Balance: balance}
}

func class(t *testing.T, p passes.Program) google.Class {
	t.Helper()
	c, err := issuer.Class(p)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func object(t *testing.T, balance int64) google.Object {
	t.Helper()
	o, err := issuer.Object(program(), card(balance))
	if err != nil {
		t.Fatal(err)
	}
	return o
}

// insertBoth puts the class and the object on the fake and forgets the
// requests that took, so a test sees only its own.
func insertBoth(t *testing.T, c *Client, srv *gwallettest.Server) (objectID string, seen int) {
	t.Helper()
	ctx := context.Background()
	if r := c.EnsureClass(ctx, class(t, program())); r.Outcome != push.Delivered {
		t.Fatalf("EnsureClass: %+v", r)
	}
	o := object(t, 100)
	if r := c.EnsureObject(ctx, o); r.Outcome != push.Delivered {
		t.Fatalf("EnsureObject: %+v", r)
	}
	return o.Ref().ID, len(srv.Requests())
}

// call is a method and path, as the fake saw them.
type call struct{ method, path string }

func calls(rs []gwallettest.Request) []call {
	out := make([]call, len(rs))
	for i, r := range rs {
		out[i] = call{r.Method, r.Path}
	}
	return out
}
