package certs

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/asn1"
	"encoding/pem"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// loadCase is one Load scenario: either it succeeds (wantErr nil, check
// runs) or it fails with wantErr and a message holding every wantMsg.
type loadCase struct {
	name    string
	opts    LoadOptions
	wantErr error
	wantMsg []string
	check   func(t *testing.T, m *Material)
}

func runLoadCases(t *testing.T, cases []loadCase) {
	t.Helper()
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			m, err := Load(tt.opts)
			if tt.wantErr == nil {
				if err != nil {
					t.Fatalf("Load: %v", err)
				}
				if tt.check != nil {
					tt.check(t, m)
				}
				return
			}
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			for _, want := range tt.wantMsg {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("message %q lacks %q", err, want)
				}
			}
		})
	}
}

// pemOpts are LoadOptions for a written chain, expecting the test identity.
func pemOpts(f DevFiles) LoadOptions {
	return LoadOptions{CertFile: f.Cert, KeyFile: f.Key, IntermediateFile: f.Intermediate,
		PassTypeID: testPassTypeID, TeamID: testTeamID}
}

func with(o LoadOptions, edit func(*LoadOptions)) LoadOptions {
	edit(&o)
	return o
}

func TestLoadPEM(t *testing.T) {
	fx := fixtures(t)
	a, b := writeChain(t, fx.a), writeChain(t, fx.b)
	expired, future := writeChain(t, fx.expired), writeChain(t, fx.future)
	dir := t.TempDir()
	leafKey := fx.a.keys.leaf

	subjectLeaf := func(name, uid, cn, ou string) string {
		c := issueLeaf(t, passSubject(uid, cn, ou), leafKey.Public(), fx.a.intermediate, fx.a.keys.intermediate)
		return writePEM(t, dir, name, certBlock(c))
	}
	noUID := subjectLeaf("no-uid.pem", "", "Pass Type ID: "+testPassTypeID, testTeamID)
	noOU := subjectLeaf("no-ou.pem", testPassTypeID, "Pass Type ID: "+testPassTypeID, "")
	cnMismatch := subjectLeaf("cn.pem", testPassTypeID, "Pass Type ID: pass.ru.other", testTeamID)
	nfc := subjectLeaf("nfc.pem", testPassTypeID, "Pass Type ID with NFC: "+testPassTypeID, testTeamID)

	// Same issuer name and key ID as a's intermediate, but signed by b's.
	impostor := *fx.b.intermediate
	impostor.SubjectKeyId = fx.a.intermediate.SubjectKeyId
	forged := writePEM(t, dir, "forged.pem", certBlock(issueLeaf(t,
		passSubject(testPassTypeID, "Pass Type ID: "+testPassTypeID, testTeamID), leafKey.Public(), &impostor, fx.b.keys.intermediate)))

	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	ecDER, err := x509.MarshalECPrivateKey(ecKey)
	if err != nil {
		t.Fatal(err)
	}
	curve, _ := asn1.Marshal(asn1.ObjectIdentifier{1, 2, 840, 10045, 3, 1, 7})
	ecKeyFile := writePEM(t, dir, "ec.key", &pem.Block{Type: "EC PARAMETERS", Bytes: curve}, &pem.Block{Type: "EC PRIVATE KEY", Bytes: ecDER})
	ecCert := writePEM(t, dir, "ec.pem", certBlock(issueLeaf(t,
		passSubject(testPassTypeID, "Pass Type ID: "+testPassTypeID, testTeamID), ecKey.Public(), fx.a.intermediate, fx.a.keys.intermediate)))

	pkcs1 := writePEM(t, dir, "pkcs1.key", &pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(leafKey)})
	encrypted := writePEM(t, dir, "enc.key", &pem.Block{Type: "ENCRYPTED PRIVATE KEY", Bytes: []byte{0x30, 0}})
	bundle := writePEM(t, dir, "fullchain.pem", certBlock(fx.a.leaf), certBlock(fx.a.intermediate))
	caBundle := writePEM(t, dir, "cas.pem", certBlock(fx.a.root), certBlock(fx.a.intermediate))
	derInter := filepath.Join(dir, "wwdr.cer")
	garbage := filepath.Join(dir, "garbage.pem")
	for path, data := range map[string][]byte{derInter: fx.a.intermediate.Raw, garbage: []byte("not a certificate\n")} {
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	missing := filepath.Join(dir, "missing.pem")

	wantA := func(t *testing.T, m *Material) {
		if m.PassTypeID != testPassTypeID || m.TeamID != testTeamID || !m.Leaf.Equal(fx.a.leaf) || !m.Intermediate.Equal(fx.a.intermediate) {
			t.Errorf("got %q/%q, leaf %v, intermediate %v", m.PassTypeID, m.TeamID, m.Leaf.Subject, m.Intermediate.Subject)
		}
	}
	runLoadCases(t, []loadCase{
		{name: "valid chain", opts: pemOpts(a), check: wantA},
		{name: "no expectations", opts: with(pemOpts(a), func(o *LoadOptions) { o.PassTypeID, o.TeamID = "", "" }), check: wantA},
		{name: "PKCS#1 key", opts: with(pemOpts(a), func(o *LoadOptions) { o.KeyFile = pkcs1 }), check: wantA},
		{name: "EC key with parameters block", opts: with(pemOpts(a), func(o *LoadOptions) { o.CertFile, o.KeyFile = ecCert, ecKeyFile })},
		{name: "NFC common name", opts: with(pemOpts(a), func(o *LoadOptions) { o.CertFile = nfc })},
		{name: "DER intermediate", opts: with(pemOpts(a), func(o *LoadOptions) { o.IntermediateFile = derInter }), check: wantA},
		{name: "intermediate bundled with root", opts: with(pemOpts(a), func(o *LoadOptions) { o.IntermediateFile = caBundle }), check: wantA},
		{name: "intermediate bundled in cert file", opts: with(pemOpts(a), func(o *LoadOptions) { o.CertFile, o.IntermediateFile = bundle, "" }), check: wantA},

		{name: "no source", opts: LoadOptions{}, wantErr: ErrOptions},
		{name: "cert without key", opts: LoadOptions{CertFile: a.Cert}, wantErr: ErrOptions, wantMsg: []string{"key file"}},
		{name: "p12 and pem", opts: with(pemOpts(a), func(o *LoadOptions) { o.P12File = "x.p12" }), wantErr: ErrOptions},
		{name: "missing cert", opts: with(pemOpts(a), func(o *LoadOptions) { o.CertFile = missing }), wantErr: ErrUnreadable, wantMsg: []string{"pass certificate", missing}},
		{name: "missing key", opts: with(pemOpts(a), func(o *LoadOptions) { o.KeyFile = missing }), wantErr: ErrUnreadable, wantMsg: []string{"pass key", missing}},
		{name: "missing intermediate", opts: with(pemOpts(a), func(o *LoadOptions) { o.IntermediateFile = missing }), wantErr: fs.ErrNotExist, wantMsg: []string{"intermediate", missing}},
		{name: "key given as cert", opts: with(pemOpts(a), func(o *LoadOptions) { o.CertFile = a.Key }), wantErr: ErrMalformed, wantMsg: []string{"PRIVATE KEY", "no CERTIFICATE", a.Key}},
		{name: "cert given as key", opts: with(pemOpts(a), func(o *LoadOptions) { o.KeyFile = a.Cert }), wantErr: ErrMalformed, wantMsg: []string{"CERTIFICATE", "no private key"}},
		{name: "garbage cert", opts: with(pemOpts(a), func(o *LoadOptions) { o.CertFile = garbage }), wantErr: ErrMalformed, wantMsg: []string{garbage}},
		{name: "garbage intermediate", opts: with(pemOpts(a), func(o *LoadOptions) { o.IntermediateFile = garbage }), wantErr: ErrMalformed, wantMsg: []string{"intermediate " + garbage}},
		{name: "encrypted key", opts: with(pemOpts(a), func(o *LoadOptions) { o.KeyFile = encrypted }), wantErr: ErrMalformed, wantMsg: []string{"encrypted"}},
		{name: "expired", opts: pemOpts(expired), wantErr: ErrExpired, wantMsg: []string{expired.Cert, stamp(fx.expired.leaf.NotAfter), stamp(fx.expired.leaf.NotBefore)}},
		{name: "not yet valid", opts: pemOpts(future), wantErr: ErrNotYetValid, wantMsg: []string{stamp(fx.future.leaf.NotBefore)}},
		{name: "key from another chain", opts: with(pemOpts(a), func(o *LoadOptions) { o.KeyFile = b.Key }), wantErr: ErrKeyMismatch, wantMsg: []string{b.Key, a.Cert, "RSA-2048"}},
		{name: "EC key for RSA cert", opts: with(pemOpts(a), func(o *LoadOptions) { o.KeyFile = ecKeyFile }), wantErr: ErrKeyMismatch, wantMsg: []string{"ECDSA P-256"}},
		{name: "other pass type ID", opts: with(pemOpts(a), func(o *LoadOptions) { o.PassTypeID = "pass.ru.other" }), wantErr: ErrIdentityMismatch, wantMsg: []string{`"pass.ru.other"`, `"` + testPassTypeID + `"`}},
		{name: "other team", opts: with(pemOpts(a), func(o *LoadOptions) { o.TeamID = "ZZZZZ99999" }), wantErr: ErrIdentityMismatch, wantMsg: []string{"ZZZZZ99999", testTeamID}},
		{name: "UID and CN disagree", opts: with(pemOpts(a), func(o *LoadOptions) { o.CertFile = cnMismatch }), wantErr: ErrIdentityMismatch, wantMsg: []string{"CN", "pass.ru.other"}},
		{name: "no UID", opts: with(pemOpts(a), func(o *LoadOptions) { o.CertFile = noUID }), wantErr: ErrMissingIdentity, wantMsg: []string{"no UID"}},
		{name: "no OU", opts: with(pemOpts(a), func(o *LoadOptions) { o.CertFile = noOU }), wantErr: ErrMissingIdentity, wantMsg: []string{"no OU"}},
		{name: "no intermediate", opts: with(pemOpts(a), func(o *LoadOptions) { o.IntermediateFile = "" }), wantErr: ErrNoIntermediate, wantMsg: []string{"G4"}},
		{name: "intermediate of another chain", opts: with(pemOpts(a), func(o *LoadOptions) { o.IntermediateFile = b.Intermediate }),
			wantErr: ErrWrongIntermediate, wantMsg: []string{"different chain", "G4", b.Intermediate}},
		{name: "root as intermediate", opts: with(pemOpts(a), func(o *LoadOptions) { o.IntermediateFile = a.Root }), wantErr: ErrWrongIntermediate, wantMsg: []string{devRootCN}},
		{name: "forged issuer signature", opts: with(pemOpts(a), func(o *LoadOptions) { o.CertFile = forged }), wantErr: ErrWrongIntermediate, wantMsg: []string{"signature does not verify"}},
		{name: "leaf as intermediate", opts: with(pemOpts(a), func(o *LoadOptions) { o.IntermediateFile = b.Cert }), wantErr: ErrNotCA, wantMsg: []string{"no CA basic constraints", b.Cert, "UID=" + testPassTypeID}},
	})
}
