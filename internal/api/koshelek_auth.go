package api

import (
	"context"
	"crypto/sha256"
	"errors"
	"sync"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/loyalpass/loyalpass/internal/clientlimit"
	"github.com/loyalpass/loyalpass/internal/credential"
	"github.com/loyalpass/loyalpass/internal/store"
)

// How «Кошелёк» proves itself to the partner API and the Push Callback
// API: HTTP Basic with the login the merchant set for the program in the
// URL.

// koshelekProgramStore finds a program's integration by the id in the URL.
type koshelekProgramStore interface {
	Program(ctx context.Context, programID string) (store.KoshelekProgram, error)
}

// koshelekAuth checks a request's HTTP Basic credentials against the
// program of its URL. A good login is remembered for a while by a digest
// of everything it was checked against, so Кошелёк's steady calls do not
// each pay for the slow hash; a change of the password forgets it.
// Requests that must hash are limited per client address, so guessing is
// slow and cannot burn the CPU.
type koshelekAuth struct {
	programs koshelekProgramStore
	limiter  *clientlimit.Limiter
	now      func() time.Time

	mu   sync.Mutex
	good map[[32]byte]time.Time // digest → when it stops counting
}

const (
	koshelekAuthTTL     = 10 * time.Minute
	koshelekAuthEntries = 4096
	// koshelekHashesPerMinute is how many logins a client address may
	// have checked the slow way a minute, by default.
	koshelekHashesPerMinute = 60
)

func newKoshelekAuth(programs koshelekProgramStore, perMinute int) *koshelekAuth {
	if perMinute <= 0 {
		perMinute = koshelekHashesPerMinute
	}
	return &koshelekAuth{programs: programs, limiter: clientlimit.New(perMinute, time.Now), now: time.Now,
		good: map[[32]byte]time.Time{}}
}

// koshelekProgramKey is where the checked program is kept on the request.
const koshelekProgramKey = "koshelek_program"

// check authenticates the request for the program in its URL.
func (a *koshelekAuth) check(c *gin.Context) (store.KoshelekProgram, *koshelekError) {
	if a == nil || a.programs == nil {
		return store.KoshelekProgram{}, errKoshelekAuth
	}
	login, password, ok := c.Request.BasicAuth()
	if !ok {
		return store.KoshelekProgram{}, errKoshelekAuth
	}
	kp, err := a.programs.Program(c.Request.Context(), c.Param("program"))
	switch {
	case errors.Is(err, store.ErrNotFound):
		kp = store.KoshelekProgram{} // checked against nothing below, in the same time
	case err != nil:
		return kp, &koshelekError{Code: koshelekCodeInternal, Description: "internal error; try again", err: err}
	}
	s := kp.Settings
	digest := sha256.Sum256([]byte(s.ProgramID + "\x00" + s.PasswordHash + "\x00" + s.Login + "\x00" + login + "\x00" + password))
	now := a.now()
	a.mu.Lock()
	until, known := a.good[digest]
	a.mu.Unlock()
	if !known || now.After(until) {
		if ok, _ := a.limiter.Allow(c.ClientIP()); !ok {
			return kp, koshelekFail(koshelekCodeThrottled, "too many login attempts; try again in a minute")
		}
		if !credential.CheckLogin(s.Login, s.PasswordHash, login, password) {
			return kp, errKoshelekAuth
		}
		a.mu.Lock()
		if len(a.good) >= koshelekAuthEntries {
			clear(a.good)
		}
		a.good[digest] = now.Add(koshelekAuthTTL)
		a.mu.Unlock()
	}
	if !s.Enabled {
		return kp, errKoshelekAuth
	}
	return kp, nil
}
