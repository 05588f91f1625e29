package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// PassFile is a signed package cached for one card and program version.
type PassFile struct {
	CardVersion    int64
	ProgramVersion int64
	Data           []byte
}

const (
	selectPassFile = `SELECT card_version, program_version, data FROM pass_files WHERE serial_number = ?`
	upsertPassFile = `INSERT INTO pass_files (serial_number, card_version, program_version, data, rendered_at)
		VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (serial_number) DO UPDATE SET card_version = excluded.card_version,
			program_version = excluded.program_version, data = excluded.data, rendered_at = excluded.rendered_at
		WHERE excluded.card_version >= pass_files.card_version
			AND excluded.program_version >= pass_files.program_version`
)

// PassFile returns the cached package of a card, or ErrNotFound.
func (cs *CardStore) PassFile(ctx context.Context, serial string) (PassFile, error) {
	var f PassFile
	err := cs.s.read.QueryRowContext(ctx, selectPassFile, serial).Scan(&f.CardVersion, &f.ProgramVersion, &f.Data)
	if errors.Is(err, sql.ErrNoRows) {
		return f, ErrNotFound
	}
	if err != nil {
		return f, fmt.Errorf("load pass file: %w", err)
	}
	return f, nil
}

// PutPassFile caches a package, unless a newer one is already cached.
func (cs *CardStore) PutPassFile(ctx context.Context, serial string, f PassFile) error {
	_, err := cs.s.write.ExecContext(ctx, upsertPassFile, serial, f.CardVersion, f.ProgramVersion, f.Data, cs.s.nowUTC())
	if err != nil {
		return fmt.Errorf("store pass file: %w", err)
	}
	return nil
}
