package store

import (
	"errors"

	"github.com/mattn/go-sqlite3"
)

// dialect holds everything that differs between the databases we support.
type dialect struct {
	name string
	// migrations is the folder under migrations/ with this dialect's files.
	migrations string
	// isUniqueViolation reports whether err is a unique-constraint failure.
	isUniqueViolation func(err error) bool
	// groupCommit runs concurrent postings in shared transactions: right
	// for a database with one writer, where the commit is the cost.
	groupCommit bool
	// markCardChanged sets a card's update tag ($1) and moves its
	// Last-Modified (unix seconds) to max(previous + 1, now ($2)).
	markCardChanged string
	// markProgramChanged does the same for every card of program $3.
	markProgramChanged string
}

var sqliteDialect = dialect{
	name:        "sqlite",
	migrations:  "migrations/sqlite",
	groupCommit: true,
	markCardChanged: `UPDATE cards SET change_seq = ?, pass_modified = MAX(pass_modified + 1, ?)
		WHERE serial_number = ?`,
	markProgramChanged: `UPDATE cards SET change_seq = ?, pass_modified = MAX(pass_modified + 1, ?)
		WHERE program_id = ?`,
	isUniqueViolation: func(err error) bool {
		var se sqlite3.Error
		return errors.As(err, &se) && se.Code == sqlite3.ErrConstraint &&
			(se.ExtendedCode == sqlite3.ErrConstraintUnique || se.ExtendedCode == sqlite3.ErrConstraintPrimaryKey)
	},
}
