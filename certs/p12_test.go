package certs

import (
	"crypto/x509"
	"os"
	"path/filepath"
	"testing"

	"software.sslmate.com/src/go-pkcs12"
)

const p12Password = "s3cret"

// writeP12 encodes the leaf and key of c with cas into a PKCS#12 file.
func writeP12(t *testing.T, enc *pkcs12.Encoder, c *devChain, cas ...*x509.Certificate) string {
	t.Helper()
	data, err := enc.Encode(c.keys.leaf, c.leaf, cas, p12Password)
	if err != nil {
		t.Fatalf("encode p12: %v", err)
	}
	f, err := os.CreateTemp(t.TempDir(), "*.p12")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.Write(data); err != nil {
		t.Fatal(err)
	}
	return f.Name()
}

func TestLoadPKCS12(t *testing.T) {
	fx := fixtures(t)
	a := writeChain(t, fx.a)
	withInter := writeP12(t, pkcs12.Modern, fx.a, fx.a.intermediate)
	bare := writeP12(t, pkcs12.Modern, fx.a)
	withRoot := writeP12(t, pkcs12.Modern, fx.a, fx.a.root, fx.a.intermediate)
	foreignInter := writeP12(t, pkcs12.Modern, fx.a, fx.b.intermediate)
	legacy := writeP12(t, pkcs12.LegacyDES, fx.a, fx.a.intermediate)
	expired := writeP12(t, pkcs12.Modern, fx.expired, fx.expired.intermediate)

	p12 := func(path string) LoadOptions {
		return LoadOptions{P12File: path, P12Password: p12Password, PassTypeID: testPassTypeID, TeamID: testTeamID}
	}
	wantA := func(t *testing.T, m *Material) {
		if !m.Leaf.Equal(fx.a.leaf) || !m.Intermediate.Equal(fx.a.intermediate) || m.PassTypeID != testPassTypeID || m.TeamID != testTeamID {
			t.Errorf("got leaf %v, intermediate %v, %q/%q", m.Leaf.Subject, m.Intermediate.Subject, m.PassTypeID, m.TeamID)
		}
		if !fx.a.keys.leaf.PublicKey.Equal(m.Key.Public()) {
			t.Error("key is not the leaf's key")
		}
	}
	runLoadCases(t, []loadCase{
		{name: "modern with intermediate inside", opts: p12(withInter), check: wantA},
		{name: "modern without intermediate, file given", opts: with(p12(bare), func(o *LoadOptions) { o.IntermediateFile = a.Intermediate }), check: wantA},
		{name: "root and intermediate inside", opts: p12(withRoot), check: wantA},
		{name: "intermediate file overrides p12", opts: with(p12(foreignInter), func(o *LoadOptions) { o.IntermediateFile = a.Intermediate }), check: wantA},
		{name: "legacy 3DES", opts: p12(legacy), check: wantA},

		{name: "without intermediate", opts: p12(bare), wantErr: ErrNoIntermediate, wantMsg: []string{"PKCS#12 file " + bare}},
		{name: "foreign intermediate inside", opts: p12(foreignInter), wantErr: ErrWrongIntermediate, wantMsg: []string{"bundled intermediate"}},
		{name: "wrong password", opts: with(p12(withInter), func(o *LoadOptions) { o.P12Password = "nope" }), wantErr: ErrP12Password, wantMsg: []string{withInter}},
		{name: "missing file", opts: p12(filepath.Join(t.TempDir(), "none.p12")), wantErr: ErrUnreadable, wantMsg: []string{"none.p12"}},
		{name: "not a p12", opts: p12(a.Cert), wantErr: ErrMalformed, wantMsg: []string{a.Cert}},
		{name: "expired", opts: p12(expired), wantErr: ErrExpired, wantMsg: []string{stamp(fx.expired.leaf.NotAfter)}},
		{name: "other pass type ID", opts: with(p12(withInter), func(o *LoadOptions) { o.PassTypeID = "pass.ru.other" }),
			wantErr: ErrIdentityMismatch, wantMsg: []string{"pass.ru.other", testPassTypeID}},
	})
}
