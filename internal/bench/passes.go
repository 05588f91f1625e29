package bench

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strconv"
	"time"

	"github.com/loyalpass/loyalpass/certs"
	"github.com/loyalpass/loyalpass/passes"
)

// benchWebService is the web service URL the rendered passes carry. It is
// never called: rendering is measured without a server.
const benchWebService = "https://loyalpass.example/wallet"

// RenderOptions configures RunRenderAndSign.
type RenderOptions struct {
	Passes  int // passes to render, or signatures to make
	Workers int // goroutines at once; 0 means GOMAXPROCS
}

func (o RenderOptions) workers() int {
	if o.Workers > 0 {
		return o.Workers
	}
	return runtime.GOMAXPROCS(0)
}

// renderBlocks is how many slices RunRenderAndSign cuts each measure
// into, alternating the two, so a neighbour's burst of load on a shared
// machine falls on both alike and their ratio stays meaningful.
const renderBlocks = 10

// RunRenderAndSign measures two things on the same cores, in alternating
// slices: o.Passes RSA-2048 PKCS #1 v1.5 SHA-256 signatures with the pass
// signing key alone, the one operation every pass needs and nothing can
// make cheaper, and o.Passes signed .pkpass files of the benchmark card
// rendered through passes.Renderer, each with its own serial number, so
// nothing comes from a cache but the image digests a server keeps too.
func RunRenderAndSign(ctx context.Context, m *certs.Material, o RenderOptions) (sign, render Latencies, err error) {
	if m == nil || m.Key == nil {
		return sign, render, errors.New("sign: no signing key")
	}
	digest := sha256.Sum256([]byte("manifest.json"))
	signOp := func(int) error {
		_, err := m.Key.Sign(rand.Reader, digest[:], crypto.SHA256)
		return err
	}
	r := passes.NewRenderer(m, benchWebService)
	p := benchProgram()
	renderOp := func(i int) error {
		_, err := r.Render(p, benchCard(i))
		return err
	}
	// Untimed: the first render hashes the images, which later ones reuse.
	if err := signOp(0); err != nil {
		return sign, render, fmt.Errorf("sign: %w", err)
	}
	if err := renderOp(0); err != nil {
		return sign, render, err
	}
	var signed, rendered rawRun
	done := 0
	for b := range renderBlocks {
		n := (o.Passes*(b+1))/renderBlocks - done
		if n == 0 {
			continue
		}
		type step struct {
			op  func(int) error
			acc *rawRun
		}
		steps := []step{{signOp, &signed}, {renderOp, &rendered}}
		if b%2 == 1 { // alternate which goes first, so a trend in the load cancels out
			slices.Reverse(steps)
		}
		offset := done
		for _, st := range steps {
			raw, err := runParallelRaw(ctx, n, o.workers(), func(i int) error { return st.op(offset + i) })
			if err != nil {
				return sign, render, err
			}
			st.acc.add(raw)
		}
		done += n
	}
	return signed.summary(), rendered.summary(), nil
}

// benchProgram is the program of the benchmark card: Russian, with terms,
// an earn rate and the default images from assets/images.
func benchProgram() passes.Program {
	return passes.Program{
		ID:               "bench-program",
		OrganizationName: "Кофейня «Зерно»",
		Name:             "Зерно Club",
		CurrencyLabel:    "баллы",
		EarnRateBP:       500,
		Terms:            "Баллы сгорают через 12 месяцев. 1 балл = 1 ₽.",
		BarcodeFormat:    passes.BarcodeQR,
		Locale:           passes.LocaleRU,
		Design: passes.Design{
			BackgroundColor: "#1f2937",
			ForegroundColor: "#ffffff",
			LabelColor:      "#a5b4fc",
			LogoText:        "Зерно",
		},
		Version: 1,
	}
}

// benchCard is the i-th benchmark card: a typical one, with a holder, a
// tier and a back field about expiring points.
func benchCard(i int) passes.Card {
	return passes.Card{
		SerialNumber:        benchSerial(i),
		AuthenticationToken: "bench-token-0123456789abcdef",
		Number:              "4000123412341234",
		HolderName:          "Анна Петрова",
		Balance:             1250,
		Tier:                "Золото",
		Version:             1,
		UpdatedAt:           time.Date(2026, 3, 1, 12, 30, 0, 0, time.UTC),
		BackFields:          []passes.Field{{Key: "expiring", Label: "Сгорание баллов", Value: "120 баллов сгорят 01.04.2026"}},
	}
}

// benchSerial is the serial number of the i-th benchmark card; the
// passkit-generator script numbers its passes the same way.
func benchSerial(i int) string { return "bench-" + strconv.Itoa(i) }
