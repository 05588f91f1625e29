package store

/*
// The declarations of the two SQLite functions this file calls; their
// definitions are in go-sqlite3's copy of SQLite, linked into the same
// binary.
typedef struct sqlite3 sqlite3;
extern int sqlite3_db_config(sqlite3 *db, int op, ...);
extern int sqlite3_auto_extension(void (*entry)(void));

#define SQLITE_DBCONFIG_ENABLE_QPSG 1007

static int loyalpass_stable_plans(sqlite3 *db, char **err, const void *api) {
	return sqlite3_db_config(db, SQLITE_DBCONFIG_ENABLE_QPSG, 1, (int *)0);
}

static int loyalpass_register_stable_plans(void) {
	return sqlite3_auto_extension((void (*)(void))loyalpass_stable_plans);
}
*/
import "C"

import "fmt"

// Every SQLite connection of the process turns on the query planner
// stability guarantee (SQLITE_DBCONFIG_ENABLE_QPSG). Without it, SQLite
// marks a statement that joins tables on a bound parameter to be compiled
// again whenever the parameter's value changes, hoping for a better plan
// for the new value: the card lookup of every posting (cards joined with
// customers by serial number) was parsed and planned anew on each run,
// 50 µs instead of 10. With it, a prepared statement keeps its plan; the
// plans of this schema's queries do not depend on the values anyway.
func init() {
	if rc := C.loyalpass_register_stable_plans(); rc != 0 {
		panic(fmt.Sprintf("sqlite3_auto_extension: error %d", int(rc)))
	}
}
