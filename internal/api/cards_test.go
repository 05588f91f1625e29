package api_test

import (
	"archive/zip"
	"bytes"
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/loyalpass/loyalpass/passes/passcheck"
)

func TestIssueCardDownloadPassAndVerifyWithOpenSSL(t *testing.T) {
	ts := newTestServer(t)
	key := ts.merchant("shop")
	prog := ts.program(key)

	card := ts.mustDo(201, "POST", "/api/v1/programs/"+prog+"/cards", key,
		map[string]any{"phone": "8 (912) 345-67-89", "name": "Анна Петрова", "email": "anna@example.com", "sms_consent": true})
	serial := card["serial_number"].(string)
	number := card["number"].(string)
	for field, want := range map[string]any{"balance": 100.0, // the welcome bonus "tier": "base", "status": "active",
		"pass_url": "https://cards.example.com/api/v1/cards/" + serial + "/pass.pkpass"} {
		if card[field] != want {
			t.Errorf("card.%s = %v, want %v", field, card[field], want)
		}
	}
	if cust := card["customer"].(map[string]any); cust["phone"] != "+79123456789" || cust["sms_consent"] != true {
		t.Errorf("customer = %v", cust)
	}

	res := ts.do("GET", "/api/v1/cards/"+serial+"/pass.pkpass", key, nil)
	if res.Code != 200 || res.Header().Get("Content-Type") != "application/vnd.apple.pkpass" {
		t.Fatalf("pass download = %d %q", res.Code, res.Header().Get("Content-Type"))
	}
	if res.Header().Get("Last-Modified") == "" {
		t.Error("pass download has no Last-Modified")
	}
	pkpass := res.Body.Bytes()
	dir := unzipTo(t, pkpass)

	// Every manifest entry hashes to the file's SHA-1, and every file but
	// the manifest and the signature is listed.
	var manifest map[string]string
	readJSON(t, filepath.Join(dir, "manifest.json"), &manifest)
	var files []string
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			rel, _ := filepath.Rel(dir, p)
			files = append(files, filepath.ToSlash(rel))
		}
		return nil
	})
	for _, f := range files {
		if f == "manifest.json" || f == "signature" {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		sum := sha1.Sum(b)
		if manifest[f] != hex.EncodeToString(sum[:]) {
			t.Errorf("manifest[%s] = %q, want %x", f, manifest[f], sum)
		}
		delete(manifest, f)
	}
	if len(manifest) != 0 {
		t.Errorf("manifest lists files not in the package: %v", manifest)
	}
	for _, want := range []string{"icon.png", "icon@2x.png", "icon@3x.png", "logo@3x.png", "strip@2x.png",
		"ru.lproj/pass.strings", "en.lproj/pass.strings"} {
		if !strings.Contains(strings.Join(files, " "), want) {
			t.Errorf("package lacks %s", want)
		}
	}

	// The signature verifies against the chain the way iOS checks it.
	cmd := exec.Command("openssl", "cms", "-verify", "-binary", "-inform", "DER", "-in", "signature",
		"-content", "manifest.json", "-CAfile", ts.roots.Root, "-purpose", "any", "-out", os.DevNull)
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil || !strings.Contains(string(out), "Verification successful") {
		t.Fatalf("openssl cms -verify: %v\n%s", err, out)
	}

	var pass map[string]any
	readJSON(t, filepath.Join(dir, "pass.json"), &pass)
	if pass["serialNumber"] != serial || pass["webServiceURL"] != "https://cards.example.com/wallet" {
		t.Errorf("pass.json serial/webServiceURL = %v / %v", pass["serialNumber"], pass["webServiceURL"])
	}
	if tok, _ := pass["authenticationToken"].(string); len(tok) < 32 {
		t.Errorf("authenticationToken %q is shorter than 32", tok)
	}
	bc := pass["barcodes"].([]any)[0].(map[string]any)
	if bc["message"] != number || bc["format"] != "PKBarcodeFormatQR" || bc["altText"] != number {
		t.Errorf("barcode = %v, want card number %s", bc, number)
	}

	// And the package passes every rule of the conformance checklist.
	rep := passcheck.Check(pkpass, passcheck.Options{Roots: rootPool(t, ts.roots.Root)})
	if !rep.OK() {
		t.Errorf("passcheck: %v", rep.Problems)
	}
}

func TestPassIsSignedOncePerVersion(t *testing.T) {
	ts := newTestServer(t)
	key := ts.merchant("shop")
	prog := ts.program(key)
	serial := ts.mustDo(201, "POST", "/api/v1/programs/"+prog+"/cards", key, map[string]any{"phone": "+79123456789"})["serial_number"].(string)

	path := "/api/v1/cards/" + serial + "/pass.pkpass"
	first := ts.do("GET", path, key, nil).Body.Bytes()
	second := ts.do("GET", path, key, nil).Body.Bytes()
	// The signature carries a signing time, so equal bytes mean no re-signing.
	if !bytes.Equal(first, second) {
		t.Fatal("an unchanged card was signed again")
	}
	if n := ts.count("pass_files"); n != 1 {
		t.Fatalf("pass_files rows = %d", n)
	}

	ts.mustDo(200, "POST", "/api/v1/cards/"+serial+"/void", key, nil)
	third := ts.do("GET", path, key, nil).Body.Bytes()
	if bytes.Equal(first, third) {
		t.Fatal("voiding did not change the pass")
	}
	var pass map[string]any
	readJSON(t, filepath.Join(unzipTo(t, third), "pass.json"), &pass)
	if pass["voided"] != true {
		t.Fatalf("voided pass.json has voided = %v", pass["voided"])
	}

	// A design change re-renders too.
	ts.mustDo(200, "PATCH", "/api/v1/programs/"+prog, key, map[string]any{"design": map[string]any{"background_color": "#102030"}})
	fourth := ts.do("GET", path, key, nil).Body.Bytes()
	readJSON(t, filepath.Join(unzipTo(t, fourth), "pass.json"), &pass)
	if pass["backgroundColor"] != "rgb(16, 32, 48)" {
		t.Fatalf("backgroundColor after update = %v", pass["backgroundColor"])
	}
}

func TestIssueCardIsIdempotentPerPhone(t *testing.T) {
	ts := newTestServer(t)
	key := ts.merchant("shop")
	prog := ts.program(key)
	first := ts.mustDo(201, "POST", "/api/v1/programs/"+prog+"/cards", key, map[string]any{"phone": "+7 912 345 67 89"})
	for _, form := range []string{"8 (912) 345-67-89", "79123456789", "9123456789"} {
		again := ts.mustDo(200, "POST", "/api/v1/programs/"+prog+"/cards", key, map[string]any{"phone": form})
		if again["serial_number"] != first["serial_number"] {
			t.Fatalf("%q issued a second card", form)
		}
	}
	if n := ts.count("cards"); n != 1 {
		t.Fatalf("cards rows = %d", n)
	}

	// A void frees the phone for a new card.
	ts.mustDo(200, "POST", "/api/v1/cards/"+first["serial_number"].(string)+"/void", key, nil)
	fresh := ts.mustDo(201, "POST", "/api/v1/programs/"+prog+"/cards", key, map[string]any{"phone": "+79123456789"})
	if fresh["serial_number"] == first["serial_number"] {
		t.Fatal("a voided card was handed out again")
	}
}

func TestListCardsPaginatesAndFindsByNumber(t *testing.T) {
	ts := newTestServer(t)
	key := ts.merchant("shop")
	prog := ts.program(key)
	numbers := map[string]string{}
	for i := range 5 {
		c := ts.mustDo(201, "POST", "/api/v1/programs/"+prog+"/cards", key, map[string]any{"phone": "+7912345670" + string(rune('0'+i))})
		numbers[c["serial_number"].(string)] = c["number"].(string)
	}
	seen := map[string]bool{}
	cursor := ""
	for range 10 {
		page := ts.mustDo(200, "GET", "/api/v1/cards?limit=2&cursor="+cursor, key, nil)
		for _, c := range page["cards"].([]any) {
			seen[c.(map[string]any)["serial_number"].(string)] = true
		}
		if cursor = page["next_cursor"].(string); cursor == "" {
			break
		}
	}
	if len(seen) != 5 {
		t.Fatalf("pages listed %d cards, want 5", len(seen))
	}
	for serial, number := range numbers {
		got := ts.mustDo(200, "GET", "/api/v1/cards?number="+number, key, nil)["cards"].([]any)
		if len(got) != 1 || got[0].(map[string]any)["serial_number"] != serial {
			t.Fatalf("lookup by number %s = %v", number, got)
		}
	}
	ts.mustDo(404, "GET", "/api/v1/cards?number=0000000000000", key, nil)
}

func unzipTo(t *testing.T, pkpass []byte) string {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(pkpass), int64(len(pkpass)))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, filepath.FromSlash(f.Name))
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func readJSON(t *testing.T, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}
