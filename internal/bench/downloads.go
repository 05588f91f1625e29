package bench

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
)

// DownloadOptions configures RunDownloads.
type DownloadOptions struct {
	Requests    int // total GETs
	Concurrency int // clients downloading at once
	Cards       int // cards the downloads spread over
}

// maxPassSize caps what a download may read: a pass is about 50 KB.
const maxPassSize = 4 << 20

// RunDownloads issues cards and downloads each card's pass once, which
// renders, signs and stores it; then it times o.Requests downloads of
// those unchanged cards from o.Concurrency clients, which the server
// answers from its store. Every answer must be byte for byte the first
// one: a pass signed again would differ in its signing time.
func RunDownloads(ctx context.Context, s *Server, o DownloadOptions) (Latencies, error) {
	c := client(o.Concurrency)
	serials, err := s.issueCards(ctx, c, o.Cards)
	if err != nil {
		return Latencies{}, err
	}
	first := make([][]byte, len(serials))
	for i, serial := range serials {
		if first[i], err = s.downloadPass(ctx, c, serial, nil); err != nil {
			return Latencies{}, err
		}
	}
	bufs := make(chan *bytes.Buffer, o.Concurrency)
	return runParallel(ctx, o.Requests, o.Concurrency, func(i int) error {
		var buf *bytes.Buffer
		select {
		case buf = <-bufs:
			buf.Reset()
		default:
			buf = new(bytes.Buffer)
		}
		defer func() { bufs <- buf }()
		k := i % len(serials)
		got, err := s.downloadPass(ctx, c, serials[k], buf)
		if err != nil {
			return err
		}
		if !bytes.Equal(got, first[k]) {
			return fmt.Errorf("card %s: the pass changed between downloads: it was signed again", serials[k])
		}
		return nil
	})
}

// downloadPass GETs a card's pass into buf (a new buffer when nil).
func (s *Server) downloadPass(ctx context.Context, c *http.Client, serial string, buf *bytes.Buffer) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.URL+"/api/v1/cards/"+serial+"/pass.pkpass", nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+s.Key)
	res, err := c.Do(req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		io.Copy(io.Discard, io.LimitReader(res.Body, maxPassSize))
		return nil, fmt.Errorf("GET pass of card %s: status %d", serial, res.StatusCode)
	}
	if buf == nil {
		buf = new(bytes.Buffer)
	}
	if _, err := buf.ReadFrom(io.LimitReader(res.Body, maxPassSize)); err != nil {
		return nil, fmt.Errorf("GET pass of card %s: %w", serial, err)
	}
	return buf.Bytes(), nil
}
