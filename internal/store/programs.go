package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/loyalpass/loyalpass/internal/loyalty"
)

const programColumns = `id, merchant_id, name, currency_label, earn_rate_bp, welcome_bonus, terms,
	barcode_format, locale, background_color, foreground_color, label_color, logo_text,
	tiers, tier_basis, tier_downgrade, points_lifetime_days, version, created_at, updated_at,
	join_code, join_settings, referral_terms, ` + programKindColumns

const (
	insertProgram = `INSERT INTO programs (` + programColumns + `)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ` + programKindValues + `)`
	selectProgram = `SELECT ` + programColumns + ` FROM programs WHERE merchant_id = ? AND id = ?`
	listPrograms  = `SELECT ` + programColumns + ` FROM programs
		WHERE merchant_id = ? AND (created_at > ? OR (created_at = ? AND id > ?))
		ORDER BY created_at, id LIMIT ?`
	updateProgram = `UPDATE programs SET name = ?, currency_label = ?, earn_rate_bp = ?, welcome_bonus = ?,
		terms = ?, barcode_format = ?, locale = ?, background_color = ?, foreground_color = ?,
		label_color = ?, logo_text = ?, tiers = ?, tier_basis = ?, tier_downgrade = ?,
		points_lifetime_days = ?, join_settings = ?, referral_terms = ?, version = version + 1, updated_at = ?,
		` + programKindUpdate + `
		WHERE merchant_id = ? AND id = ?`
	bumpProgramVersion  = `UPDATE programs SET version = version + 1, updated_at = ? WHERE merchant_id = ? AND id = ?`
	selectImageKinds    = `SELECT DISTINCT kind FROM program_images WHERE program_id = ? ORDER BY kind`
	selectProgramImages = `SELECT name, data FROM program_images WHERE program_id = ?`
	deleteProgramImages = `DELETE FROM program_images WHERE program_id = ? AND kind = ?`
	insertProgramImage  = `INSERT INTO program_images (program_id, kind, name, data) VALUES (?, ?, ?, ?)`
)

// CreateProgram stores a new program; it fills in ID, Version and times.
func (pg *ProgramStore) CreateProgram(ctx context.Context, p *loyalty.Program) error {
	now := pg.s.nowUTC()
	p.ID, p.Version, p.CreatedAt, p.UpdatedAt = newID("prg"), 1, now, now
	if p.TierBasis == "" {
		p.TierBasis = loyalty.BasisPoints
	}
	if p.Kind == "" {
		p.Kind = loyalty.KindPoints
	}
	if p.Join == (loyalty.JoinSettings{}) {
		p.Join = loyalty.DefaultJoinSettings()
	}
	p.JoinCode = newJoinCode()
	tiers, err := json.Marshal(nonNilTiers(p.Tiers))
	if err != nil {
		return err
	}
	join, referral, err := joinColumns(*p)
	if err != nil {
		return err
	}
	args := append([]any{p.ID, p.MerchantID, p.Name, p.CurrencyLabel,
		p.EarnRateBP, p.WelcomeBonus, p.Terms, p.BarcodeFormat, p.Locale, p.BackgroundColor,
		p.ForegroundColor, p.LabelColor, p.LogoText, string(tiers), p.TierBasis, p.TierDowngrade,
		p.PointsLifetimeDays, p.Version, p.CreatedAt, p.UpdatedAt, p.JoinCode, join, referral, p.Kind},
		programKindArgs(p)...)
	return pg.s.inTx(ctx, func(tx *writeTx) error {
		if _, err := tx.ExecContext(ctx, insertProgram, args...); err != nil {
			return fmt.Errorf("insert program: %w", err)
		}
		return pg.s.auditIn(ctx, tx, p.MerchantID, p.ID, p.Name)
	})
}

// Program returns the merchant's program with the given id, or ErrNotFound
// (also when it belongs to another merchant).
func (pg *ProgramStore) Program(ctx context.Context, merchantID, id string) (loyalty.Program, error) {
	return pg.s.program(ctx, pg.s.read, merchantID, id)
}

type queryer interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

func (s *Store) program(ctx context.Context, q queryer, merchantID, id string) (loyalty.Program, error) {
	return s.loadProgram(ctx, q, selectProgram, merchantID, id)
}

// lockedProgram is program with the program's row locked for the rest of
// tx where writers run in parallel, so that two read-change-write updates
// of one program run one after the other and neither loses the other's
// change. (NO KEY: a posting's ledger line references the program, and
// must not wait for the lock while it holds a card the update will lock.)
func (s *Store) lockedProgram(ctx context.Context, tx *writeTx, merchantID, id string) (loyalty.Program, error) {
	return s.loadProgram(ctx, tx, selectProgram+s.dialect.forNoKeyUpdate, merchantID, id)
}

func (s *Store) loadProgram(ctx context.Context, q queryer, query, merchantID, id string) (loyalty.Program, error) {
	p, err := scanProgram(q.QueryRowContext(ctx, query, merchantID, id))
	if err != nil {
		return p, err
	}
	p.CustomImages, err = imageKinds(ctx, q, p.ID)
	return p, err
}

// Programs lists the merchant's programs in creation order after the cursor.
func (pg *ProgramStore) Programs(ctx context.Context, merchantID string, after Cursor, limit int) ([]loyalty.Program, error) {
	rows, err := pg.s.read.QueryContext(ctx, listPrograms, merchantID, after.Time, after.Time, after.ID, limit)
	if err != nil {
		return nil, fmt.Errorf("list programs: %w", err)
	}
	defer rows.Close()
	var ps []loyalty.Program
	for rows.Next() {
		p, err := scanProgram(rows)
		if err != nil {
			return nil, err
		}
		ps = append(ps, p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list programs: %w", err)
	}
	for i := range ps {
		if ps[i].CustomImages, err = imageKinds(ctx, pg.s.read, ps[i].ID); err != nil {
			return nil, err
		}
	}
	return ps, nil
}

// UpdateProgram applies change to the stored program inside a transaction
// and saves the result with a new version. change may refuse by returning
// an error, which UpdateProgram returns unchanged.
func (pg *ProgramStore) UpdateProgram(ctx context.Context, merchantID, id string, change func(*loyalty.Program) error) (loyalty.Program, error) {
	var p loyalty.Program
	err := pg.s.inTx(ctx, func(tx *writeTx) error {
		var err error
		if p, err = pg.s.updateProgram(ctx, tx, merchantID, id, change); err != nil {
			return err
		}
		return pg.s.auditIn(ctx, tx, merchantID, id, "")
	})
	return p, err
}

// updateProgram is UpdateProgram inside the caller's transaction.
func (s *Store) updateProgram(ctx context.Context, tx *writeTx, merchantID, id string, change func(*loyalty.Program) error) (loyalty.Program, error) {
	p, err := s.lockedProgram(ctx, tx, merchantID, id)
	if err != nil {
		return p, err
	}
	if err := change(&p); err != nil {
		return p, err
	}
	p.UpdatedAt = s.nowUTC()
	p.Version++
	tiers, err := json.Marshal(nonNilTiers(p.Tiers))
	if err != nil {
		return p, err
	}
	join, referral, err := joinColumns(p)
	if err != nil {
		return p, err
	}
	// The kind itself never changes: its cards' ledgers are of that kind.
	args := append([]any{p.Name, p.CurrencyLabel, p.EarnRateBP, p.WelcomeBonus,
		p.Terms, p.BarcodeFormat, p.Locale, p.BackgroundColor, p.ForegroundColor, p.LabelColor,
		p.LogoText, string(tiers), p.TierBasis, p.TierDowngrade, p.PointsLifetimeDays, join, referral,
		p.UpdatedAt}, programKindArgs(&p)...)
	_, err = tx.ExecContext(ctx, updateProgram, append(args, merchantID, id)...)
	if err != nil {
		return p, fmt.Errorf("update program: %w", err)
	}
	return p, s.queueProgramChange(ctx, tx, merchantID, id, p.UpdatedAt)
}

// SetProgramImages replaces the files of one image kind (nil files restores
// the default) and raises the program's version so passes re-render.
func (pg *ProgramStore) SetProgramImages(ctx context.Context, merchantID, programID, kind string, files map[string][]byte) error {
	return pg.s.inTx(ctx, func(tx *writeTx) error {
		res, err := tx.ExecContext(ctx, bumpProgramVersion, pg.s.nowUTC(), merchantID, programID)
		if err != nil {
			return fmt.Errorf("bump program version: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return ErrNotFound
		}
		if _, err := tx.ExecContext(ctx, deleteProgramImages, programID, kind); err != nil {
			return fmt.Errorf("delete images: %w", err)
		}
		for name, data := range files {
			if _, err := tx.ExecContext(ctx, insertProgramImage, programID, kind, name, data); err != nil {
				return fmt.Errorf("insert image %s: %w", name, err)
			}
		}
		if err := pg.s.auditIn(ctx, tx, merchantID, programID, kind); err != nil {
			return err
		}
		return pg.s.queueProgramChange(ctx, tx, merchantID, programID, pg.s.nowUTC())
	})
}

// ProgramImages returns the uploaded image files of a program by file name.
func (pg *ProgramStore) ProgramImages(ctx context.Context, programID string) (map[string][]byte, error) {
	rows, err := pg.s.read.QueryContext(ctx, selectProgramImages, programID)
	if err != nil {
		return nil, fmt.Errorf("load images: %w", err)
	}
	defer rows.Close()
	files := map[string][]byte{}
	for rows.Next() {
		var name string
		var data []byte
		if err := rows.Scan(&name, &data); err != nil {
			return nil, fmt.Errorf("load images: %w", err)
		}
		files[name] = data
	}
	return files, rows.Err()
}

func imageKinds(ctx context.Context, q queryer, programID string) ([]string, error) {
	rows, err := q.QueryContext(ctx, selectImageKinds, programID)
	if err != nil {
		return nil, fmt.Errorf("load image kinds: %w", err)
	}
	defer rows.Close()
	var kinds []string
	for rows.Next() {
		var k string
		if err := rows.Scan(&k); err != nil {
			return nil, err
		}
		kinds = append(kinds, k)
	}
	return kinds, rows.Err()
}

func nonNilTiers(t []loyalty.Tier) []loyalty.Tier {
	if t == nil {
		return []loyalty.Tier{}
	}
	return t
}

type scanner interface{ Scan(dest ...any) error }

func scanProgram(row scanner) (loyalty.Program, error) {
	var p loyalty.Program
	var tiers, join, referral string
	err := row.Scan(append([]any{&p.ID, &p.MerchantID, &p.Name, &p.CurrencyLabel, &p.EarnRateBP, &p.WelcomeBonus,
		&p.Terms, &p.BarcodeFormat, &p.Locale, &p.BackgroundColor, &p.ForegroundColor, &p.LabelColor,
		&p.LogoText, &tiers, &p.TierBasis, &p.TierDowngrade, &p.PointsLifetimeDays, &p.Version,
		&p.CreatedAt, &p.UpdatedAt, &p.JoinCode, &join, &referral, &p.Kind}, programKindDests(&p)...)...)
	if errors.Is(err, sql.ErrNoRows) {
		return p, ErrNotFound
	}
	if err != nil {
		return p, fmt.Errorf("load program: %w", err)
	}
	if err := json.Unmarshal([]byte(tiers), &p.Tiers); err != nil {
		return p, fmt.Errorf("program %s tiers: %w", p.ID, err)
	}
	if err := scanJoinColumns(&p, join, referral); err != nil {
		return p, err
	}
	return p, nil
}
