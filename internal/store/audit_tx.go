package store

import (
	"context"
	"fmt"
)

// An audit entry that must commit with the change it reports rides on the
// request's context (WithAudit) down to the store method that makes the
// change, which writes it in its own transaction (auditIn): the entry and
// the change commit together or not at all. The console sets it; the
// merchant API, whose handlers the console calls in-process, needs no
// word of it. It is the request's data, like the acting merchant, not a
// dependency.

type auditKey struct{}

// ErrFormUsed refuses a change whose audit entry carries a Ref already
// recorded: the same form sent twice (a double click, back and resend).
// It is an ErrConflict.
var ErrFormUsed = fmt.Errorf("form already used: %w", ErrConflict)

// WithAudit returns ctx carrying e, for the store method that makes the
// change ctx is passed to. That method records e inside its transaction,
// filling in the merchant and, where e leaves them empty, the subject and
// detail it knows (a new program's id, a ledger line's change). When e
// has a Ref that is already recorded, nothing is changed and the method
// fails with ErrFormUsed: the Ref is a one-time form token consumed in the
// same transaction as the change. A change that makes nothing (a replayed
// posting, a card that already existed) records nothing.
func WithAudit(ctx context.Context, e AuditEntry) context.Context {
	return context.WithValue(ctx, auditKey{}, e)
}

// auditOf is the entry ctx carries, if any.
func auditOf(ctx context.Context) (AuditEntry, bool) {
	e, ok := ctx.Value(auditKey{}).(AuditEntry)
	return e, ok
}

// carryAudit returns dst carrying the entry src carries, for work done
// under another context than the request's (the group-commit writer).
func carryAudit(dst, src context.Context) context.Context {
	if e, ok := auditOf(src); ok {
		return WithAudit(dst, e)
	}
	return dst
}

// auditIn records the entry ctx carries, if any, inside tx, as a change
// of merchantID to subject (used where the entry names none) described by
// detail (likewise).
func (s *Store) auditIn(ctx context.Context, tx *writeTx, merchantID, subject, detail string) error {
	e, ok := auditOf(ctx)
	if !ok {
		return nil
	}
	e.MerchantID = merchantID
	if e.Subject == "" {
		e.Subject = subject
	}
	if e.Detail == "" {
		e.Detail = detail
	}
	fresh, err := s.Audit().insert(ctx, tx, e)
	if err != nil {
		return err
	}
	if !fresh {
		return fmt.Errorf("audit %s %s: %w", e.Action, e.Ref, ErrFormUsed)
	}
	return nil
}
