package main

import (
	"context"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/loyalpass/loyalpass/internal/password"
	"github.com/loyalpass/loyalpass/internal/store"
)

var passwordRE = regexp.MustCompile(`^[A-Z2-7]{20}\n$`)

// checkUser opens the data dir's database and checks that email signs in
// with pw as role at the merchant called merchant.
func checkUser(t *testing.T, data, email, pw, role, merchant string) {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, store.Options{URL: "sqlite:" + filepath.Join(data, "loyalpass.db")})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	u, err := st.Users().ByEmail(ctx, email)
	if err != nil {
		t.Fatalf("user %s: %v", email, err)
	}
	m, _ := st.Merchants().Merchant(ctx, u.MerchantID)
	if ok, err := password.Verify(u.PasswordHash, pw); !ok || err != nil || u.Role != role || m.Name != merchant {
		t.Fatalf("user %s: role %s at %q, password verifies %v %v", email, u.Role, m.Name, ok, err)
	}
	if !strings.HasPrefix(u.PasswordHash, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Fatalf("stored hash %q is not argon2id at the default cost", u.PasswordHash)
	}
}

func TestUsersCreatePrintsOnlyThePassword(t *testing.T) {
	data := t.TempDir()
	code, out, errOut := runCLI(t, "users", "create", "--merchant", "Кофейня", "--email", "Anna@Example.com",
		"--role", "cashier", "--data", data)
	if code != 0 || !passwordRE.MatchString(out) {
		t.Fatalf("users create = %d %q %q", code, out, errOut)
	}
	checkUser(t, data, "anna@example.com", strings.TrimSpace(out), "cashier", "Кофейня")

	for _, tt := range []struct {
		name string
		args []string
		code int
		says string
	}{
		{"same email", []string{"--merchant", "Кофейня", "--email", "anna@example.com", "--role", "owner"}, 1, "exists already"},
		{"bad role", []string{"--merchant", "Кофейня", "--email", "b@example.com", "--role", "admin"}, 2, "owner, manager or cashier"},
		{"bad email", []string{"--merchant", "Кофейня", "--email", "not an email", "--role", "owner"}, 1, "not an address"},
		{"no email", []string{"--merchant", "Кофейня", "--role", "owner"}, 2, "--email"},
	} {
		code, out, errOut := runCLI(t, append([]string{"users", "create", "--data", data}, tt.args...)...)
		if code != tt.code || out != "" || !strings.Contains(errOut, tt.says) {
			t.Errorf("%s: %d %q %q", tt.name, code, out, errOut)
		}
	}
}
