package passes

import (
	"archive/zip"
	"bytes"
	"crypto/sha1"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/loyalpass/loyalpass/certs"
)

const (
	testPassTypeID = "pass.com.example.loyalty"
	testTeamID     = "ABCDE12345"
	testWebService = "https://loyalpass.example/wallet"
)

// testChain is the development signing chain every test signs with. It is
// generated once in TestMain: RSA key generation is slow.
var testChain struct {
	material *certs.Material
	rootFile string // root CA, PEM
	root     *x509.CertPool
}

func TestMain(m *testing.M) {
	os.Exit(runTests(m))
}

func runTests(m *testing.M) int {
	dir, err := os.MkdirTemp("", "passes-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	files, err := certs.GenerateDev(dir, certs.DevOptions{PassTypeID: testPassTypeID, TeamID: testTeamID})
	if err != nil {
		fmt.Fprintln(os.Stderr, "generate test chain:", err)
		return 1
	}
	material, err := certs.Load(certs.LoadOptions{
		CertFile:         files.Cert,
		KeyFile:          files.Key,
		IntermediateFile: files.Intermediate,
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "load test chain:", err)
		return 1
	}
	rootPEM, err := os.ReadFile(files.Root)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	block, _ := pem.Decode(rootPEM)
	if block == nil {
		fmt.Fprintln(os.Stderr, "test root is not PEM")
		return 1
	}
	root, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		fmt.Fprintln(os.Stderr, "parse test root:", err)
		return 1
	}
	testChain.material = material
	testChain.rootFile = files.Root
	testChain.root = x509.NewCertPool()
	testChain.root.AddCert(root)
	return m.Run()
}

// newTestRenderer returns a Renderer on the test chain with a web service.
func newTestRenderer(t testing.TB) *Renderer {
	t.Helper()
	return NewRenderer(testChain.material, testWebService)
}

func testProgram() Program {
	return Program{
		ID:               "prog-1",
		OrganizationName: "Кофейня «Зерно»",
		Name:             "Зерно Club",
		CurrencyLabel:    "баллы",
		EarnRateBP:       250,
		Terms:            "Баллы сгорают через 12 месяцев.\nОбмен: 1 балл = 1 ₽ & \"честно\".",
		BarcodeFormat:    BarcodeQR,
		Locale:           LocaleRU,
		Design: Design{
			BackgroundColor: "#1f2937",
			ForegroundColor: "#ffffff",
			LabelColor:      "#A5B4FC",
			LogoText:        "Зерно",
		},
		Version: 3,
	}
}

func testCard() Card {
	return Card{
		SerialNumber:        "c-0001",
		AuthenticationToken: "0123456789abcdef0123",
		Number:              "4000123412341234",
		HolderName:          "Анна Петрова",
		Balance:             1250,
		Tier:                "Золото",
		Version:             7,
		UpdatedAt:           time.Date(2026, 3, 1, 12, 30, 0, 0, time.UTC),
		BackFields:          []Field{{Key: "expiring", Label: "Сгорает 1 апреля", Value: "120"}},
	}
}

// unpack opens a .pkpass and returns its files by name, failing on a
// duplicate name or a file outside the root and the lproj folders.
func unpack(t *testing.T, pkpass []byte) map[string][]byte {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(pkpass), int64(len(pkpass)))
	if err != nil {
		t.Fatalf("open pkpass: %v", err)
	}
	files := make(map[string][]byte, len(zr.File))
	for _, f := range zr.File {
		if _, dup := files[f.Name]; dup {
			t.Fatalf("pkpass has %s twice", f.Name)
		}
		if dir, _, nested := strings.Cut(f.Name, "/"); nested && !strings.HasSuffix(dir, ".lproj") {
			t.Errorf("pkpass file %s is in a sub-folder", f.Name)
		}
		rc, err := f.Open()
		if err != nil {
			t.Fatalf("open %s: %v", f.Name, err)
		}
		data, err := io.ReadAll(rc) // checks the CRC too
		rc.Close()
		if err != nil {
			t.Fatalf("read %s: %v", f.Name, err)
		}
		files[f.Name] = data
	}
	return files
}

// checkManifest asserts that manifest.json lists every other file but the
// signature, with the SHA-1 of its exact bytes, and nothing else.
func checkManifest(t *testing.T, files map[string][]byte) {
	t.Helper()
	var manifest map[string]string
	if err := json.Unmarshal(files["manifest.json"], &manifest); err != nil {
		t.Fatalf("manifest.json: %v", err)
	}
	for name, data := range files {
		if name == "manifest.json" || name == "signature" {
			continue
		}
		sum := sha1.Sum(data)
		if got, want := manifest[name], hex.EncodeToString(sum[:]); got != want {
			t.Errorf("manifest[%s] = %q, want %q", name, got, want)
		}
	}
	for name := range manifest {
		if _, ok := files[name]; !ok || name == "manifest.json" || name == "signature" {
			t.Errorf("manifest lists %s, which the package does not hold", name)
		}
	}
}

// decodePass unmarshals pass.json into a generic map, keeping numbers as
// json.Number so a test can tell 1 from "1".
func decodePass(t *testing.T, files map[string][]byte) map[string]any {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(files["pass.json"]))
	dec.UseNumber()
	var pass map[string]any
	if err := dec.Decode(&pass); err != nil {
		t.Fatalf("pass.json: %v", err)
	}
	return pass
}

// passFieldsOf returns the fields of a storeCard group by key.
func passFieldsOf(t *testing.T, pass map[string]any, group string) map[string]map[string]any {
	t.Helper()
	sc, _ := pass["storeCard"].(map[string]any)
	list, _ := sc[group].([]any)
	out := make(map[string]map[string]any, len(list))
	for _, f := range list {
		m, ok := f.(map[string]any)
		if !ok {
			t.Fatalf("%s entry %v is not an object", group, f)
		}
		out[m["key"].(string)] = m
	}
	return out
}

// parseStrings parses a .strings file of `"key" = "value";` lines,
// undoing the escapes writeStringsEscaped writes, and fails on anything
// else: no BOM, no stray text, no duplicate key.
func parseStrings(t *testing.T, data []byte) map[string]string {
	t.Helper()
	s := string(data)
	if strings.HasPrefix(s, "\ufeff") {
		t.Fatalf("strings file starts with a BOM")
	}
	out := make(map[string]string)
	readToken := func() string {
		if !strings.HasPrefix(s, `"`) {
			t.Fatalf("strings: want a quoted token at %q", head(s))
		}
		var b strings.Builder
		for i := 1; i < len(s); i++ {
			switch c := s[i]; c {
			case '"':
				s = s[i+1:]
				return b.String()
			case '\\':
				i++
				switch s[i] {
				case 'n':
					b.WriteByte('\n')
				case 'r':
					b.WriteByte('\r')
				case 't':
					b.WriteByte('\t')
				case '"', '\\':
					b.WriteByte(s[i])
				case 'U':
					r, err := strconv.ParseUint(s[i+1:i+5], 16, 32)
					if err != nil {
						t.Fatalf("strings: bad \\U escape at %q", head(s[i:]))
					}
					b.WriteRune(rune(r))
					i += 4
				default:
					t.Fatalf("strings: unknown escape \\%c", s[i])
				}
			case '\n':
				t.Fatalf("strings: raw newline inside a token at %q", head(s))
			default:
				b.WriteByte(c)
			}
		}
		t.Fatalf("strings: unterminated token")
		return ""
	}
	for s != "" {
		key := readToken()
		if !strings.HasPrefix(s, " = ") {
			t.Fatalf("strings: want ' = ' after %q", key)
		}
		s = s[3:]
		value := readToken()
		if !strings.HasPrefix(s, ";\n") {
			t.Fatalf("strings: want ';' and a newline after %q", value)
		}
		s = s[2:]
		if _, dup := out[key]; dup {
			t.Fatalf("strings: key %q twice", key)
		}
		out[key] = value
	}
	return out
}

func head(s string) string {
	if len(s) > 30 {
		return s[:30]
	}
	return s
}
