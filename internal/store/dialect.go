package store

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/mattn/go-sqlite3"
)

// dialect holds everything that differs between the databases we support.
// The SQL elsewhere in the package is written once, with ? placeholders;
// PostgreSQL connections rebind it (see rebind) as it is sent.
type dialect struct {
	name string
	// migrations is the folder under migrations/ with this dialect's files.
	migrations string
	// isUniqueViolation reports whether err is a unique-constraint failure.
	isUniqueViolation func(err error) bool
	// isDeadlock reports whether err aborted the transaction as one of a
	// deadlocked pair.
	isDeadlock func(err error) bool
	// groupCommit runs concurrent postings in shared transactions: right
	// for a database with one writer, where the commit is the cost.
	groupCommit bool
	// pipelinePosts runs postings in pipelined batches on the pgx
	// interface (ledger_pg.go): right where each round trip costs.
	pipelinePosts bool
	// migrationLock, if set, runs first in every migration transaction, so
	// that processes starting at once apply each migration exactly once.
	// (SQLite needs none: BEGIN IMMEDIATE already serializes writers.)
	migrationLock string
	// lockCard, if set, locks a card's row ($1: serial) for the rest of the
	// transaction. Where writers run in parallel, everything that reads a
	// card to write its ledger takes it first, so that two writers never
	// work from the same balance or expire the same lot twice. (NO KEY
	// UPDATE is the lock an UPDATE of the card takes anyway; unlike FOR
	// UPDATE it lets rows that merely reference the card be inserted.)
	lockCard string
	// lockProgramCards, if set, locks every card of program $1 before its
	// cards take an update tag, in the order a posting locks them (card,
	// then the change counter), so a program change and a posting cannot
	// deadlock.
	lockProgramCards string
	// nextChangeSeq, if set, hands out the next update tag from the one
	// counter row (SQLite, one writer). Where it is empty, the tag comes
	// from the writing transaction's id (see changefeed.go).
	nextChangeSeq string
	// changeSeq is the SQL value of a changed card's new update tag; its
	// one ? is what Store.changeTag returns.
	changeSeq string
	// tagHorizon, if set, returns the update tag below which every change
	// has been committed or rolled back, with the tag base as its ?.
	tagHorizon string
	// markCardChanged sets a card's update tag ($1) and moves its
	// Last-Modified (unix seconds) to max(previous + 1, now ($2)).
	markCardChanged string
	// markProgramChanged does the same for every card of program $3.
	markProgramChanged string
	// updateLedgerCard saves a posting's card, its tag and Last-Modified
	// (lots.go).
	updateLedgerCard string
	// markPushed raises a registration's pushed tag to $1, never lowering it.
	markPushed string
	// skipLocked ends the subquery that chooses the rows a claim of work
	// takes: "" where one writer runs at a time; FOR UPDATE SKIP LOCKED
	// where writers run in parallel, so that a row another worker is
	// claiming right now is left to it (see workTable).
	skipLocked string
	// dayOf and monthOf turn a timestamp column (the first verb) into its
	// day ('YYYY-MM-DD') and month ('YYYY-MM') at an offset from UTC in
	// seconds (the second verb, with its sign): the dashboard's buckets in
	// the merchant's time zone.
	dayOf, monthOf string
	// forUpdate ends a SELECT that must lock its row for the rest of the
	// transaction: "" where one writer runs at a time.
	forUpdate string
	// forNoKeyUpdate is forUpdate for a row whose key stays: it lets rows
	// that reference it be inserted meanwhile.
	forNoKeyUpdate string
	// notifyWork, if set, tells other instances on commit that queue $2
	// has work, from instance $3, on channel $1 (listen.go).
	notifyWork string
}

var sqliteDialect = dialect{
	name:               "sqlite",
	migrations:         "migrations/sqlite",
	groupCommit:        true,
	nextChangeSeq:      `UPDATE change_counter SET value = value + 1 WHERE id = 1 RETURNING value`,
	changeSeq:          sqliteChangeSeq,
	markCardChanged:    fmt.Sprintf(markCardChangedFormat, sqliteChangeSeq, "MAX"),
	markProgramChanged: fmt.Sprintf(markProgramChangedFormat, sqliteChangeSeq, "MAX"),
	updateLedgerCard:   fmt.Sprintf(updateLedgerCardFormat, sqliteChangeSeq),
	markPushed:         `UPDATE registrations SET pushed_seq = MAX(pushed_seq, ?) WHERE device_id = ? AND serial_number = ?`,
	// date() reads the driver's "2006-01-02 15:04:05.999999999-07:00" and
	// converts an offset to UTC.
	dayOf:      "date(%[1]s, '%+[2]d seconds')",
	monthOf:    "strftime('%%Y-%%m', %[1]s, '%+[2]d seconds')",
	isDeadlock: func(error) bool { return false }, // one writer
	isUniqueViolation: func(err error) bool {
		var se sqlite3.Error
		return errors.As(err, &se) && se.Code == sqlite3.ErrConstraint &&
			(se.ExtendedCode == sqlite3.ErrConstraintUnique || se.ExtendedCode == sqlite3.ErrConstraintPrimaryKey)
	},
}

// postgresDialect runs many writers at once, from one process or several:
// postings are plain transactions that lock the card they change, and the
// work tables are claimed with SKIP LOCKED.
var postgresDialect = dialect{
	name:          "postgres",
	migrations:    "migrations/postgres",
	groupCommit:   false,
	pipelinePosts: true,
	// Keyed by schema, so that databases in other schemas do not wait.
	migrationLock:      `SELECT pg_advisory_xact_lock(hashtext('loyalpass.migrate.' || current_schema()))`,
	lockCard:           `SELECT serial_number FROM cards WHERE serial_number = ? FOR NO KEY UPDATE`,
	lockProgramCards:   `SELECT serial_number FROM cards WHERE program_id = ? ORDER BY serial_number FOR NO KEY UPDATE`,
	changeSeq:          postgresChangeSeq,
	tagHorizon:         postgresTagHorizon,
	markCardChanged:    fmt.Sprintf(markCardChangedFormat, postgresChangeSeq, "GREATEST"),
	markProgramChanged: fmt.Sprintf(markProgramChangedFormat, postgresChangeSeq, "GREATEST"),
	updateLedgerCard:   fmt.Sprintf(updateLedgerCardFormat, postgresChangeSeq),
	markPushed:         `UPDATE registrations SET pushed_seq = GREATEST(pushed_seq, ?) WHERE device_id = ? AND serial_number = ?`,
	skipLocked:         " FOR UPDATE SKIP LOCKED",
	forUpdate:          " FOR UPDATE",
	forNoKeyUpdate:     " FOR NO KEY UPDATE",
	notifyWork:         `SELECT pg_notify(?, ? || ':' || current_schema() || ':' || ?)`,
	dayOf:              "to_char((%[1]s AT TIME ZONE 'UTC') + interval '%+[2]d seconds', 'YYYY-MM-DD')",
	monthOf:            "to_char((%[1]s AT TIME ZONE 'UTC') + interval '%+[2]d seconds', 'YYYY-MM')",
	isUniqueViolation: func(err error) bool {
		var pe *pgconn.PgError
		return errors.As(err, &pe) && pe.Code == "23505"
	},
	isDeadlock: func(err error) bool {
		var pe *pgconn.PgError
		return errors.As(err, &pe) && pe.Code == "40P01"
	},
}

// rebound caches rebind's answers: the package has a fixed set of queries
// (plus IN lists of a few lengths), so each is converted once.
var rebound sync.Map // string → string

// rebind turns the ? placeholders of a query into PostgreSQL's $1, $2, …,
// leaving quoted strings, quoted names and comments alone.
func rebind(query string) string {
	if !strings.Contains(query, "?") {
		return query
	}
	if q, ok := rebound.Load(query); ok {
		return q.(string)
	}
	var b strings.Builder
	b.Grow(len(query) + 16)
	n := 0
	for i := 0; i < len(query); {
		if query[i] == '?' {
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			i++
			continue
		}
		k := max(quotedLen(query[i:]), 1)
		b.WriteString(query[i : i+k])
		i += k
	}
	q := b.String()
	rebound.Store(query, q)
	return q
}

// quotedLen is the length of the quoted string, quoted name or comment at
// the start of s (to the end of s if it is not closed), or 0 if none is.
func quotedLen(s string) int {
	switch {
	case s[0] == '\'' || s[0] == '"':
		if end := strings.IndexByte(s[1:], s[0]); end >= 0 {
			return end + 2
		}
	case strings.HasPrefix(s, "--"):
		if end := strings.IndexByte(s, '\n'); end >= 0 {
			return end
		}
	case strings.HasPrefix(s, "/*"):
		if end := strings.Index(s, "*/"); end >= 0 {
			return end + 2
		}
	default:
		return 0
	}
	return len(s)
}
