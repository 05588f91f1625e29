package main

import (
	"archive/zip"
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
)

// TestServePublicURLFollowsTheListenAddress starts serve without a public
// URL on a port of its own and follows the URLs it hands out: the card's
// pass and short link and the pass's web service URL must all point at
// the address it listens on. An explicit public_url still wins.
func TestServePublicURLFollowsTheListenAddress(t *testing.T) {
	tests := []struct {
		name, addr string
		env        []string
		// want is the public URL given the address the server bound.
		want func(bound string) string
	}{
		{"loopback address", "127.0.0.1:0", nil, func(b string) string { return "http://" + b }},
		{"no host", ":0", nil, func(b string) string { return "http://localhost:" + b[strings.LastIndex(b, ":")+1:] }},
		{"explicit public_url", "127.0.0.1:0", []string{"LOYALPASS_PUBLIC_URL=http://cards.example.test"},
			func(string) string { return "http://cards.example.test" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := t.TempDir()
			cmd := command(t, tt.env, "serve", "--addr", tt.addr, "--data", data)
			stdout, _ := cmd.StdoutPipe()
			stderr, _ := cmd.StderrPipe()
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
			// The demo merchant's key and hint come before the server
			// listens, ending with the "Try: curl" line.
			var printed strings.Builder
			out := bufio.NewScanner(stdout)
			for out.Scan() {
				printed.WriteString(out.Text() + "\n")
				if strings.Contains(out.Text(), "Try: curl") {
					break
				}
			}
			go io.Copy(io.Discard, stdout)
			serving := regexp.MustCompile(`loyalpass is serving.* addr=(\S+) public_url=(\S+)`)
			var bound, announced string
			sc := bufio.NewScanner(stderr)
			for sc.Scan() {
				if m := serving.FindStringSubmatch(sc.Text()); m != nil {
					bound, announced = m[1], m[2]
					break
				}
			}
			if bound == "" {
				t.Fatal("server did not start")
			}
			go io.Copy(io.Discard, stderr)
			want := tt.want(bound)
			if announced != want {
				t.Errorf("announced public_url=%s, want %s", announced, want)
			}
			key := regexp.MustCompile(`lp_[a-z2-7]{10}_[A-Z2-7]{26}`).FindString(printed.String())
			if hint := "Bearer " + key + `" ` + want + "/api/v1/programs"; key == "" || !strings.Contains(printed.String(), hint) {
				t.Errorf("demo hint does not say %q:\n%s", hint, printed.String())
			}

			local := "http://" + bound
			call := func(method, url, body string) *http.Response {
				t.Helper()
				req, _ := http.NewRequest(method, url, strings.NewReader(body))
				req.Header.Set("Authorization", "Bearer "+key)
				req.Header.Set("Content-Type", "application/json")
				res, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { res.Body.Close() })
				return res
			}
			var programs struct{ Programs []struct{ ID string } }
			json.NewDecoder(call("GET", local+"/api/v1/programs", "").Body).Decode(&programs)
			if len(programs.Programs) == 0 {
				t.Fatal("no demo program")
			}
			var card struct {
				PassURL  string `json:"pass_url"`
				ShortURL string `json:"short_url"`
			}
			json.NewDecoder(call("POST", local+"/api/v1/programs/"+programs.Programs[0].ID+"/cards", `{"phone":"+79123456789"}`).Body).Decode(&card)
			if !strings.HasPrefix(card.PassURL, want+"/") || !strings.HasPrefix(card.ShortURL, want+"/c/") {
				t.Fatalf("card pass_url %q, short_url %q; want both under %s", card.PassURL, card.ShortURL, want)
			}
			// Where the URLs are this server, they must answer.
			passURL := card.PassURL
			if want != "http://cards.example.test" {
				if res := call("GET", card.ShortURL, ""); res.StatusCode != http.StatusOK {
					t.Errorf("short link %s = %d", card.ShortURL, res.StatusCode)
				}
			} else {
				passURL = local + strings.TrimPrefix(card.PassURL, want)
			}
			res := call("GET", passURL, "")
			pkpass, _ := io.ReadAll(res.Body)
			if res.StatusCode != http.StatusOK {
				t.Fatalf("pass %s = %d", passURL, res.StatusCode)
			}
			zr, err := zip.NewReader(bytes.NewReader(pkpass), int64(len(pkpass)))
			if err != nil {
				t.Fatal(err)
			}
			var pass struct {
				WebServiceURL string `json:"webServiceURL"`
			}
			for _, f := range zr.File {
				if f.Name == "pass.json" {
					r, _ := f.Open()
					json.NewDecoder(r).Decode(&pass)
					r.Close()
				}
			}
			if pass.WebServiceURL != want+"/wallet" {
				t.Errorf("pass.json webServiceURL %q, want %s/wallet", pass.WebServiceURL, want)
			}
		})
	}
}
