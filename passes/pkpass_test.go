package passes

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/loyalpass/loyalpass/assets"
)

func TestRenderPackage(t *testing.T) {
	r := newTestRenderer(t)
	pkpass, err := r.Render(testProgram(), testCard())
	if err != nil {
		t.Fatalf("Render: %v", err)
	}
	files := unpack(t, pkpass)

	want := []string{"pass.json", "manifest.json", "signature", "en.lproj/pass.strings", "ru.lproj/pass.strings"}
	want = append(want, imageNames...)
	var got []string
	for name := range files {
		got = append(got, name)
	}
	sort.Strings(got)
	sort.Strings(want)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("package files:\n got %v\nwant %v", got, want)
	}
	checkManifest(t, files)
	for _, name := range imageNames {
		def, _ := assets.DefaultImage(name)
		if !bytes.Equal(files[name], def) {
			t.Errorf("%s is not the default image", name)
		}
	}

	zr, err := zip.NewReader(bytes.NewReader(pkpass), int64(len(pkpass)))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range zr.File {
		if f.Method != zip.Store {
			t.Errorf("%s is compressed with method %d, want stored", f.Name, f.Method)
		}
		if !f.Modified.Equal(testCard().UpdatedAt) {
			t.Errorf("%s modified %v, want the card's UpdatedAt %v", f.Name, f.Modified, testCard().UpdatedAt)
		}
	}
}

func TestRenderPassJSON(t *testing.T) {
	r := newTestRenderer(t)
	p, c := testProgram(), testCard()
	pkpass, err := r.Render(p, c)
	if err != nil {
		t.Fatalf("Render: %v", err)
	}
	pass := decodePass(t, unpack(t, pkpass))

	if v, ok := pass["formatVersion"].(json.Number); !ok || v.String() != "1" {
		t.Errorf("formatVersion = %#v, want the number 1", pass["formatVersion"])
	}
	strs := map[string]string{
		"passTypeIdentifier":  testPassTypeID,
		"teamIdentifier":      testTeamID,
		"serialNumber":        c.SerialNumber,
		"organizationName":    "Кофейня «Зерно»",
		"description":         "Зерно Club",
		"logoText":            "Зерно",
		"backgroundColor":     "rgb(31, 41, 55)",
		"foregroundColor":     "rgb(255, 255, 255)",
		"labelColor":          "rgb(165, 180, 252)",
		"webServiceURL":       testWebService,
		"authenticationToken": c.AuthenticationToken,
	}
	for key, want := range strs {
		if got := pass[key]; got != want {
			t.Errorf("%s = %#v, want %q", key, got, want)
		}
	}
	if pass["sharingProhibited"] != true {
		t.Errorf("sharingProhibited = %#v, want true", pass["sharingProhibited"])
	}
	if _, ok := pass["voided"]; ok {
		t.Errorf("voided is set on a live card")
	}
	styles := 0
	for _, style := range []string{"boardingPass", "coupon", "eventTicket", "generic", "storeCard"} {
		if _, ok := pass[style]; ok {
			styles++
		}
	}
	if _, ok := pass["storeCard"]; !ok || styles != 1 {
		t.Errorf("want exactly one style key, storeCard; pass has %d", styles)
	}

	primary := passFieldsOf(t, pass, "primaryFields")
	balance := primary["balance"]
	if len(primary) != 1 || balance == nil {
		t.Fatalf("primaryFields = %v, want only balance", primary)
	}
	if v, ok := balance["value"].(json.Number); !ok || v.String() != "1250" {
		t.Errorf("balance value = %#v, want the number 1250", balance["value"])
	}
	if cm, _ := balance["changeMessage"].(string); !strings.Contains(cm, "%@") {
		t.Errorf("balance changeMessage = %q, want one with %%@", cm)
	}
	secondary := passFieldsOf(t, pass, "secondaryFields")
	auxiliary := passFieldsOf(t, pass, "auxiliaryFields")
	if n := len(secondary) + len(auxiliary); n == 0 || n > 4 {
		t.Errorf("%d secondary and auxiliary fields, want 1 to 4", n)
	}
	if secondary["holder"]["value"] != "Анна Петрова" || secondary["tier"]["value"] != "Золото" {
		t.Errorf("secondaryFields = %v, want holder and tier", secondary)
	}
	if auxiliary["number"]["value"] != c.Number {
		t.Errorf("auxiliaryFields = %v, want the card number", auxiliary)
	}
	back := passFieldsOf(t, pass, "backFields")
	if back["terms"]["value"] != testProgram().Terms {
		t.Errorf("terms back field = %v, want the program terms as written", back["terms"])
	}
	if back["number_back"]["value"] != c.Number || back["expiring"]["value"] != "120" || back["earn"] == nil {
		t.Errorf("backFields = %v, want earn, card number and the card's own fields", back)
	}

	// Keys unique across the pass; no textAlignment on primary or back fields.
	seen := map[string]bool{}
	for _, group := range []string{"primaryFields", "secondaryFields", "auxiliaryFields", "backFields"} {
		for key, f := range passFieldsOf(t, pass, group) {
			if seen[key] {
				t.Errorf("field key %q used twice", key)
			}
			seen[key] = true
			if _, ok := f["textAlignment"]; ok && (group == "primaryFields" || group == "backFields") {
				t.Errorf("%s field %s has textAlignment", group, key)
			}
		}
	}

	barcodes, ok := pass["barcodes"].([]any)
	if !ok || len(barcodes) != 1 {
		t.Fatalf("barcodes = %#v, want an array of one", pass["barcodes"])
	}
	want := map[string]any{
		"format":          "PKBarcodeFormatQR",
		"message":         c.Number,
		"messageEncoding": "iso-8859-1",
		"altText":         c.Number,
	}
	if !reflect.DeepEqual(barcodes[0], want) {
		t.Errorf("barcode = %v, want %v", barcodes[0], want)
	}
}

func TestRenderColoursMatchWalletSyntax(t *testing.T) {
	pkpass, err := newTestRenderer(t).Render(testProgram(), testCard())
	if err != nil {
		t.Fatalf("Render: %v", err)
	}
	pass := decodePass(t, unpack(t, pkpass))
	re := regexp.MustCompile(`^rgb\((\d{1,3}), (\d{1,3}), (\d{1,3})\)$`)
	for _, key := range []string{"foregroundColor", "backgroundColor", "labelColor"} {
		if s, _ := pass[key].(string); !re.MatchString(s) {
			t.Errorf("%s = %q, want rgb(r, g, b)", key, s)
		}
	}
}

func TestRenderBarcodeFormats(t *testing.T) {
	tests := []struct{ format, want string }{
		{BarcodeQR, "PKBarcodeFormatQR"},
		{BarcodePDF417, "PKBarcodeFormatPDF417"},
		{BarcodeAztec, "PKBarcodeFormatAztec"},
		{BarcodeCode128, "PKBarcodeFormatCode128"},
		{"", "PKBarcodeFormatQR"},
	}
	r := newTestRenderer(t)
	for _, tt := range tests {
		t.Run(tt.want+"/"+tt.format, func(t *testing.T) {
			p := testProgram()
			p.BarcodeFormat = tt.format
			pkpass, err := r.Render(p, testCard())
			if err != nil {
				t.Fatalf("Render: %v", err)
			}
			barcodes := decodePass(t, unpack(t, pkpass))["barcodes"].([]any)
			if got := barcodes[0].(map[string]any)["format"]; got != tt.want {
				t.Errorf("format = %v, want %s", got, tt.want)
			}
		})
	}
}

func TestRenderWithoutWebService(t *testing.T) {
	r := NewRenderer(testChain.material, "")
	c := testCard()
	c.AuthenticationToken = "" // not needed when passes do not update
	pkpass, err := r.Render(testProgram(), c)
	if err != nil {
		t.Fatalf("Render: %v", err)
	}
	pass := decodePass(t, unpack(t, pkpass))
	for _, key := range []string{"webServiceURL", "authenticationToken"} {
		if _, ok := pass[key]; ok {
			t.Errorf("%s is set without a web service", key)
		}
	}
}

func TestRenderVoided(t *testing.T) {
	c := testCard()
	c.Voided = true
	pkpass, err := newTestRenderer(t).Render(testProgram(), c)
	if err != nil {
		t.Fatalf("Render: %v", err)
	}
	if got := decodePass(t, unpack(t, pkpass))["voided"]; got != true {
		t.Errorf("voided = %#v, want true", got)
	}
}

func TestRenderRejectsBadInput(t *testing.T) {
	tests := []struct {
		name   string
		change func(p *Program, c *Card)
	}{
		{"no serial", func(_ *Program, c *Card) { c.SerialNumber = "" }},
		{"no organization", func(p *Program, _ *Card) { p.OrganizationName = "" }},
		{"no number", func(_ *Program, c *Card) { c.Number = "" }},
		{"number not ASCII", func(_ *Program, c *Card) { c.Number = "№123" }},
		{"short token", func(_ *Program, c *Card) { c.AuthenticationToken = "short" }},
		{"bad colour", func(p *Program, _ *Card) { p.Design.BackgroundColor = "rgb(1, 2, 3)" }},
		{"bad hex colour", func(p *Program, _ *Card) { p.Design.LabelColor = "#12345g" }},
		{"unknown barcode", func(p *Program, _ *Card) { p.BarcodeFormat = "ean13" }},
		{"unknown locale", func(p *Program, _ *Card) { p.Locale = "de" }},
		{"back field key taken", func(_ *Program, c *Card) { c.BackFields = []Field{{Key: "balance", Value: "x"}} }},
		{"back field key twice", func(_ *Program, c *Card) {
			c.BackFields = []Field{{Key: "a", Value: "1"}, {Key: "a", Value: "2"}}
		}},
		{"back field without key", func(_ *Program, c *Card) { c.BackFields = []Field{{Label: "x", Value: "y"}} }},
	}
	r := newTestRenderer(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, c := testProgram(), testCard()
			tt.change(&p, &c)
			if pkpass, err := r.Render(p, c); err == nil {
				t.Errorf("Render succeeded with %d bytes, want an error", len(pkpass))
			}
		})
	}
}

func TestRenderConcurrent(t *testing.T) {
	r := newTestRenderer(t)
	scaled, err := ScaleImage(ImageStrip, testPNG(t, 400, 200))
	if err != nil {
		t.Fatalf("ScaleImage: %v", err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p := testProgram()
			if i%2 == 0 {
				p.Design.Images = scaled
			}
			_, err := r.Render(p, testCard())
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("Render: %v", err)
		}
	}
}
