package console

import (
	"context"
	"fmt"
	"net/mail"

	"github.com/loyalpass/loyalpass/internal/password"
	"github.com/loyalpass/loyalpass/internal/store"
)

// UserCreator stores a new user with the audit entry of its creation.
type UserCreator interface {
	Create(ctx context.Context, u *store.User, audit store.AuditEntry) error
}

// NewUser is a user to create.
type NewUser struct {
	MerchantID, Email string
	Role              Role
	// By names who creates the user, for the audit log ("command line",
	// "first start", an owner's email); ByID is that owner's user id.
	By, ByID string
	// Params are the password's argon2id costs; zero means the defaults.
	Params password.Params
}

// CreateUser creates a user with a generated password and returns the
// password: the only time it exists outside the hash. An email in use is
// store.ErrConflict.
func CreateUser(ctx context.Context, users UserCreator, n NewUser) (string, error) {
	if a, err := mail.ParseAddress(n.Email); err != nil || a.Address != n.Email || len(n.Email) > 254 {
		return "", fmt.Errorf("email %q is not an address", n.Email)
	}
	if _, err := ParseRole(string(n.Role)); err != nil {
		return "", err
	}
	if n.Params == (password.Params{}) {
		n.Params = password.DefaultParams()
	}
	pw := password.Generate()
	hash, err := password.Hash(pw, n.Params)
	if err != nil {
		return "", err
	}
	u := store.User{MerchantID: n.MerchantID, Email: n.Email, Role: string(n.Role), PasswordHash: hash}
	if err := users.Create(ctx, &u, store.AuditEntry{UserID: n.ByID, UserEmail: n.By, Action: "user.create", Detail: string(n.Role)}); err != nil {
		return "", err
	}
	return pw, nil
}
