package api_test

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"
)

// zeroPNG returns a w×h PNG of depth bits per channel and colorType whose
// pixels are all zero bytes (bpp bytes a pixel): it compresses about
// 1000:1, so 4096×4096 RGBA at 16 bits is a 130 KB file that decodes to
// 128 MiB. With noData the file ends after its header.
func zeroPNG(t testing.TB, w, h int, depth, colorType byte, bpp int, noData bool) []byte {
	t.Helper()
	var b bytes.Buffer
	b.WriteString("\x89PNG\r\n\x1a\n")
	put := func(typ string, data []byte) {
		binary.Write(&b, binary.BigEndian, uint32(len(data)))
		c := append([]byte(typ), data...)
		b.Write(c)
		binary.Write(&b, binary.BigEndian, crc32.ChecksumIEEE(c))
	}
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr, uint32(w))
	binary.BigEndian.PutUint32(ihdr[4:], uint32(h))
	ihdr[8], ihdr[9] = depth, colorType
	put("IHDR", ihdr)
	if noData {
		return b.Bytes()
	}
	var z bytes.Buffer
	zw, err := zlib.NewWriterLevel(&z, zlib.BestCompression)
	if err != nil {
		t.Fatal(err)
	}
	row := make([]byte, 1+w*bpp) // filter byte 0, then the pixels
	for range h {
		zw.Write(row)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	put("IDAT", z.Bytes())
	put("IEND", nil)
	return b.Bytes()
}

func TestImageOverBudgetRefusedFromHeader(t *testing.T) {
	ts := newTestServer(t)
	key := ts.merchant("Кофейня")
	prog := ts.program(key)
	// The header declares 4096×4096 RGBA at 16 bits and no pixel data
	// follows: a decode would fail with "unexpected EOF", so the
	// image_too_large answer is the header's alone.
	res := ts.doImage(prog, "strip", key, zeroPNG(t, 4096, 4096, 16, 6, 8, true))
	if res.Code != http.StatusUnprocessableEntity {
		t.Fatalf("status %d, want 422: %s", res.Code, res.Body)
	}
	code, field := res.errorOf(t)
	msg := res.json(t)["error"].(map[string]any)["message"].(string)
	if code != "image_too_large" || field != "image" {
		t.Errorf("error %s on %q, want image_too_large on image", code, field)
	}
	for _, want := range []string{"4096×4096", "128 MiB", "limit is 4096 pixels a side and 64 MiB decoded"} {
		if !strings.Contains(msg, want) {
			t.Errorf("message %q does not say %q", msg, want)
		}
	}
	if strings.Contains(msg, "EOF") {
		t.Errorf("message %q comes from a decode", msg)
	}
	// The same header at 8 bits per channel is within the budget, so this
	// one is decoded, and fails for want of pixels.
	res = ts.doImage(prog, "strip", key, zeroPNG(t, 4096, 4096, 8, 6, 4, true))
	if code, _ := res.errorOf(t); res.Code != 422 || code != "invalid_field" {
		t.Errorf("8-bit header only: %d %s, want 422 invalid_field from the decode", res.Code, code)
	}
}

func (ts *testServer) doImage(prog, kind, key string, data []byte) response {
	ts.t.Helper()
	req := httptest.NewRequest("PUT", "/api/v1/programs/"+prog+"/images/"+kind, bytes.NewReader(data))
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", "image/png")
	rec := httptest.NewRecorder()
	ts.http.ServeHTTP(rec, req)
	return response{rec}
}

// imageBombChild is set in the environment of the child process that
// TestImageBombs runs the uploads in.
const imageBombChild = "LOYALPASS_TEST_IMAGE_BOMB_CHILD"

// TestImageBombs sends four crafted PNGs at once through the upload
// endpoint over real HTTP, twice: 130 KB files declaring 4096×4096 at 16
// bits per channel (128 MiB each once decoded: refused from the header),
// then 65 KB files of 4096×4096 at 8 bits (64 MiB each, the largest the
// budget admits: decoded and scaled). The refusals must come within 2 s.
// The uploads run in a child process, the test binary run again, and the
// parent reads the child's peak RSS (ru_maxrss) when it exits: the whole
// process, server and clients, must stay under 400 MB. It does not run
// under -race, whose instrumentation voids both bounds.
func TestImageBombs(t *testing.T) {
	if raceDetector {
		t.Skip("time and memory bounds; -race makes compressing and decoding the images take tens of seconds")
	}
	if os.Getenv(imageBombChild) == "" {
		cmd := exec.Command(os.Args[0], "-test.run=^TestImageBombs$", "-test.v")
		cmd.Env = append(os.Environ(), imageBombChild+"=1")
		out, err := cmd.CombinedOutput()
		t.Logf("child process:\n%s", out)
		if err != nil {
			t.Fatalf("child process: %v", err)
		}
		rss, ok := peakRSS(cmd.ProcessState)
		if !ok {
			t.Skip("peak RSS is measured on Linux only")
		}
		t.Logf("peak RSS of the child: %d MB", rss>>20)
		if rss > 400<<20 {
			t.Errorf("peak RSS %d MB, want under 400 MB", rss>>20)
		}
		return
	}

	ts := newTestServer(t)
	key := ts.merchant("Кофейня")
	srv := httptest.NewServer(ts.http)
	defer srv.Close()
	progs := make([]string, 4)
	for i := range progs {
		progs[i] = ts.program(key)
	}
	upload := func(prog string, data []byte) (int, string, time.Duration, error) {
		start := time.Now()
		req, err := http.NewRequest("PUT", srv.URL+"/api/v1/programs/"+prog+"/images/strip", bytes.NewReader(data))
		if err != nil {
			return 0, "", 0, err
		}
		req.Header.Set("Authorization", "Bearer "+key)
		req.Header.Set("Content-Type", "image/png")
		res, err := srv.Client().Do(req)
		if err != nil {
			return 0, "", 0, err
		}
		defer res.Body.Close()
		body, err := io.ReadAll(res.Body)
		return res.StatusCode, string(body), time.Since(start), err
	}
	for _, tt := range []struct {
		name       string
		depth, bpp int
		want       int
		within     time.Duration
	}{
		{"16-bit 4096² bombs", 16, 8, http.StatusUnprocessableEntity, 2 * time.Second},
		// These decode one at a time (64 MiB each, half the budget, plus
		// scratch), about 0.3 s each on an idle core, so the last answers
		// after about 1.2 s; the bound is for liveness on a machine shared
		// with other builds, where the last has taken over 4 s.
		{"8-bit 4096² at the budget", 8, 4, http.StatusOK, 10 * time.Second},
	} {
		png := zeroPNG(t, 4096, 4096, byte(tt.depth), 6, tt.bpp, false)
		var wg sync.WaitGroup
		answers := make([]string, len(progs))
		for i, prog := range progs {
			wg.Go(func() {
				status, body, took, err := upload(prog, png)
				switch {
				case err != nil:
					answers[i] = err.Error()
				case status != tt.want:
					answers[i] = fmt.Sprintf("status %d, want %d: %s", status, tt.want, body)
				case took > tt.within:
					answers[i] = fmt.Sprintf("answered %d after %v, want within %v", status, took, tt.within)
				}
				t.Logf("%s (%d bytes): upload %d answered %d in %v", tt.name, len(png), i, status, took.Round(time.Millisecond))
			})
		}
		wg.Wait()
		for i, a := range answers {
			if a != "" {
				t.Errorf("%s: upload %d: %s", tt.name, i, a)
			}
		}
	}
}
