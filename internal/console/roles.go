package console

import (
	"fmt"
	"slices"
)

// Role is what a merchant user may do in the console.
type Role string

// The roles, from most to least trusted.
const (
	// Owner may do everything, keys and webhooks included.
	Owner Role = "owner"
	// Manager runs the program: programs, customers, adjustments, reports.
	Manager Role = "manager"
	// Cashier works the till: the cashier page only.
	Cashier Role = "cashier"
)

// Roles lists every role, most trusted first.
var Roles = []Role{Owner, Manager, Cashier}

// ParseRole returns the role named s, or an error listing the roles.
func ParseRole(s string) (Role, error) {
	if r := Role(s); slices.Contains(Roles, r) {
		return r, nil
	}
	return "", fmt.Errorf("role must be owner, manager or cashier, not %q", s)
}

// Who may use a route: every route names one of these.
var (
	everyone = []Role{Owner, Manager, Cashier}
	staff    = []Role{Owner, Manager}
	owners   = []Role{Owner}
)

// may reports whether role r is among allowed.
func may(r Role, allowed []Role) bool { return slices.Contains(allowed, r) }
