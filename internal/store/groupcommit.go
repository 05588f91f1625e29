package store

import (
	"context"
	"errors"
	"fmt"

	"github.com/loyalpass/loyalpass/internal/loyalty"
)

// SQLite commits one transaction at a time, and the commit, not the work
// inside it, is most of a posting's cost. So postings queue for one writer
// goroutine, which runs whatever has queued up (at most maxBatch) in one
// database transaction, each posting inside its own savepoint, and commits
// once. A failed posting rolls back to its savepoint and leaves the others
// alone; a failed commit fails them all, so nothing is ever acknowledged
// that did not commit.

const maxBatch = 64

var errClosed = errors.New("store is closed")

type postRequest struct {
	ctx     context.Context
	p       loyalty.Posting
	respond Respond
	done    chan postResult
}

type postResult struct {
	ans      Answer
	replayed bool
	err      error
}

// startPoster runs the writer goroutine until stopPoster.
func (s *Store) startPoster() {
	s.posts = make(chan *postRequest)
	s.quit = make(chan struct{})
	s.posterDone = make(chan struct{})
	go s.poster()
}

func (s *Store) stopPoster() {
	if s.quit != nil {
		close(s.quit)
		<-s.posterDone
	}
}

// postGrouped hands a posting to the writer goroutine and waits for it.
func (s *Store) postGrouped(ctx context.Context, p loyalty.Posting, respond Respond) (Answer, bool, error) {
	req := &postRequest{ctx: ctx, p: p, respond: respond, done: make(chan postResult, 1)}
	select {
	case s.posts <- req:
	case <-s.quit:
		return Answer{}, false, errClosed
	case <-ctx.Done():
		return Answer{}, false, ctx.Err()
	}
	// Once queued, the posting is applied or refused as a whole; waiting
	// for it keeps the caller's answer true even if it gave up meanwhile.
	r := <-req.done
	return r.ans, r.replayed, r.err
}

func (s *Store) poster() {
	defer close(s.posterDone)
	for {
		var first *postRequest
		select {
		case first = <-s.posts:
		case <-s.quit:
			return
		}
		batch := []*postRequest{first}
	drain:
		for len(batch) < maxBatch {
			select {
			case r := <-s.posts:
				batch = append(batch, r)
			default:
				break drain
			}
		}
		results := s.runBatch(batch)
		for i, r := range batch {
			r.done <- results[i]
		}
	}
}

func (s *Store) runBatch(batch []*postRequest) []postResult {
	results := make([]postResult, len(batch))
	failAll := func(err error) []postResult {
		for i := range results {
			results[i] = postResult{err: err}
		}
		return results
	}
	// The batch's work must not die with one caller's context.
	ctx := context.Background()
	sqlTx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return failAll(fmt.Errorf("begin: %w", err))
	}
	defer sqlTx.Rollback() //nolint:errcheck // a no-op after Commit
	tx := &writeTx{Tx: sqlTx}
	for i, r := range batch {
		if err := r.ctx.Err(); err != nil {
			results[i].err = err
			continue
		}
		if _, err := tx.ExecContext(ctx, "SAVEPOINT posting"); err != nil {
			return failAll(fmt.Errorf("savepoint: %w", err))
		}
		queued := tx.queued
		ans, replayed, err := s.postIn(carryAudit(ctx, r.ctx), tx, r.p, r.respond)
		if err != nil {
			if _, rbErr := tx.ExecContext(ctx, "ROLLBACK TO posting"); rbErr != nil {
				return failAll(fmt.Errorf("rollback to savepoint: %w", rbErr))
			}
			tx.queued = queued // its work went with it
		}
		if _, err := tx.ExecContext(ctx, "RELEASE posting"); err != nil {
			return failAll(fmt.Errorf("release savepoint: %w", err))
		}
		results[i] = postResult{ans: ans, replayed: replayed, err: err}
	}
	if err := sqlTx.Commit(); err != nil {
		return failAll(fmt.Errorf("commit: %w", err))
	}
	s.wake(tx.queued)
	s.checkpoints.catchUp(ctx)
	return results
}
