package api_test

import (
	"bytes"
	"image/png"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
)

func TestProgramLifecycle(t *testing.T) {
	ts := newTestServer(t)
	key := ts.merchant("shop")

	created := ts.mustDo(201, "POST", "/api/v1/programs", key, map[string]any{
		"name": "Coffee Club", "locale": "en", "earn_rate_bp": 250, "welcome_bonus": 50,
		"barcode_format": "code128", "terms": "1 point = 1 cent",
		"design": map[string]any{"background_color": "#112233", "logo_text": "Coffee"},
	})
	id := created["id"].(string)
	for field, want := range map[string]any{"currency_label": "points", "earn_rate_bp": 250.0, "welcome_bonus": 50.0,
		"barcode_format": "code128", "locale": "en", "version": 1.0} {
		if created[field] != want {
			t.Errorf("created.%s = %v, want %v", field, created[field], want)
		}
	}
	design := created["design"].(map[string]any)
	if design["foreground_color"] != "#ffffff" || design["images"].(map[string]any)["logo"] != "default" {
		t.Errorf("design defaults = %v", design)
	}

	// An update changes only the fields it names and raises the version.
	updated := ts.mustDo(200, "PATCH", "/api/v1/programs/"+id, key, map[string]any{"welcome_bonus": 75})
	if updated["welcome_bonus"] != 75.0 || updated["earn_rate_bp"] != 250.0 || updated["version"] != 2.0 {
		t.Errorf("updated = %v", updated)
	}
	if got := ts.mustDo(200, "GET", "/api/v1/programs/"+id, key, nil); got["welcome_bonus"] != 75.0 {
		t.Errorf("get after update = %v", got)
	}

	// A logo upload is scaled to @1x/@2x/@3x and lands in the pass.
	req := httptest.NewRequest("PUT", "/api/v1/programs/"+id+"/images/logo", bytes.NewReader(pngBytes(t, 480, 150)))
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", "image/png")
	rec := httptest.NewRecorder()
	ts.http.ServeHTTP(rec, req)
	if rec.Code != 200 {
		t.Fatalf("logo upload = %d %s", rec.Code, rec.Body.String())
	}
	prog := response{rec}.json(t)
	if prog["design"].(map[string]any)["images"].(map[string]any)["logo"] != "custom" || prog["version"] != 3.0 {
		t.Fatalf("after upload: %v", prog)
	}
	serial := ts.mustDo(201, "POST", "/api/v1/programs/"+id+"/cards", key, map[string]any{"phone": "+14155552671"})["serial_number"].(string)
	dir := unzipTo(t, ts.do("GET", "/api/v1/cards/"+serial+"/pass.pkpass", key, nil).Body.Bytes())
	for name, wantW := range map[string]int{"logo.png": 160, "logo@2x.png": 320, "logo@3x.png": 480} {
		f, err := os.Open(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		cfg, err := png.DecodeConfig(f)
		f.Close()
		if err != nil || cfg.Width != wantW {
			t.Errorf("%s width = %d (%v), want %d", name, cfg.Width, err, wantW)
		}
	}
	var pass map[string]any
	readJSON(t, filepath.Join(dir, "pass.json"), &pass)
	if bc := pass["barcodes"].([]any)[0].(map[string]any); bc["format"] != "PKBarcodeFormatCode128" {
		t.Errorf("barcode format = %v", bc["format"])
	}

	// Deleting the upload restores the default.
	ts.mustDo(200, "DELETE", "/api/v1/programs/"+id+"/images/logo", key, nil)
	if n := ts.count("program_images"); n != 0 {
		t.Errorf("program_images rows after delete = %d", n)
	}

	list := ts.mustDo(200, "GET", "/api/v1/programs", key, nil)["programs"].([]any)
	if len(list) != 1 || list[0].(map[string]any)["id"] != id {
		t.Errorf("list = %v", list)
	}
}
