package store

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"sync"
	"testing"
	"time"
)

// TestDeviceCapHoldsUnderConcurrentRegistrations registers one card from
// many devices at once (two instances on PostgreSQL): exactly MaxDevices
// get in, the rest get ErrTooManyDevices and leave no rows.
func TestDeviceCapHoldsUnderConcurrentRegistrations(t *testing.T) {
	forEachBackend(t, func(t *testing.T, url string) {
		stores := [2]*Store{openTestStore(t, url), openTestStore(t, url)}
		m, p := newTestProgram(t, stores[0], "Cap")
		serial := issueCards(t, stores[0], m, p, 1)[0]
		const devices, maxDevices = 24, 5
		var wg sync.WaitGroup
		errs := make([]error, devices)
		for i := range devices {
			wg.Go(func() {
				_, errs[i] = stores[i%2].Devices().Register(context.Background(), Registration{DeviceID: fmt.Sprintf("dev%02d", i),
					PassTypeID: "pass.x", SerialNumber: serial, PushToken: fmt.Sprintf("token%02d", i), Channel: "apple",
					MaxDevices: maxDevices})
			})
		}
		wg.Wait()
		in, refused := 0, 0
		for _, err := range errs {
			switch {
			case err == nil:
				in++
			case errors.Is(err, ErrTooManyDevices):
				refused++
			default:
				t.Fatal(err)
			}
		}
		var rows int
		stores[0].read.QueryRow(`SELECT COUNT(*) FROM registrations WHERE serial_number = ?`, serial).Scan(&rows)
		if in != maxDevices || refused != devices-maxDevices || rows != maxDevices {
			t.Fatalf("%d registered, %d refused, %d rows; want %d, %d, %d", in, refused, rows, maxDevices, devices-maxDevices, maxDevices)
		}
		installs, err := stores[0].Devices().CardInstalls(context.Background(), serial)
		if err != nil || len(installs) != 1 || installs[0].Installed != maxDevices {
			t.Fatalf("installs = %+v %v", installs, err)
		}
	})
}

// openAtVersion brings a fresh database at url to schema version v only,
// as an older binary left it.
func openAtVersion(t *testing.T, url string, v int) *Store {
	t.Helper()
	s := &Store{now: time.Now, logPruner: newDeviceLogPruner(DeviceLogLimits{})}
	var err error
	if IsPostgresURL(url) {
		s.dialect = postgresDialect
		s.write, err = openPostgres(url, "")
		s.read = s.write
	} else {
		s.dialect = sqliteDialect
		s.write, s.read, err = openSQLite(url, newCheckpointer()) // no checkpoints: the test is short
	}
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	ms, err := s.dialect.loadMigrations()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.write.ExecContext(ctx, createMigrationsTable); err != nil {
		t.Fatal(err)
	}
	for {
		done, err := s.applyNext(ctx, ms[:v])
		if err != nil {
			t.Fatal(err)
		}
		if done {
			return s
		}
	}
}

// TestMigrationMovesPushTokensToRegistrations upgrades a database whose
// devices held the push tokens: each registration takes its device's
// token, channel, relay and user agent, and pushes go there.
func TestMigrationMovesPushTokensToRegistrations(t *testing.T) {
	forEachBackend(t, func(t *testing.T, url string) {
		ctx := context.Background()
		old := openAtVersion(t, url, 6)
		serials := seedCardsAtV6(t, old, 2)
		now := time.Now().UTC()
		for _, q := range []struct {
			sql  string
			args []any
		}{
			{`INSERT INTO devices (id, push_token, channel, push_service_url, user_agent, created_at, updated_at)
				VALUES (?, ?, ?, ?, ?, ?, ?)`, []any{"dev1", "token1", "passwallet", "https://relay.example/pw", "PassWallet/1", now, now}},
			{`INSERT INTO devices (id, push_token, channel, push_service_url, user_agent, created_at, updated_at)
				VALUES (?, ?, ?, ?, ?, ?, ?)`, []any{"dev2", "token2", "apple", "", "Wallet/1", now, now}},
			{`INSERT INTO registrations (device_id, serial_number, pass_type_id, channel, created_at, registered_at)
				VALUES (?, ?, 'pass.x', 'passwallet', ?, ?)`, []any{"dev1", serials[0], now, now}},
			{`INSERT INTO registrations (device_id, serial_number, pass_type_id, channel, created_at, registered_at)
				VALUES (?, ?, 'pass.x', 'apple', ?, ?)`, []any{"dev2", serials[0], now, now}},
			{`INSERT INTO registrations (device_id, serial_number, pass_type_id, channel, created_at, registered_at)
				VALUES (?, ?, 'pass.x', 'apple', ?, ?)`, []any{"dev2", serials[1], now, now}},
			{`UPDATE cards SET change_seq = 5`, nil},
		} {
			if _, err := old.write.ExecContext(ctx, q.sql, q.args...); err != nil {
				t.Fatalf("%s: %v", q.sql, err)
			}
		}
		old.Close()

		s := openTestStore(t, url)
		apple, err := s.Devices().DeviceTargets(ctx, ChannelApple, serials)
		if err != nil {
			t.Fatal(err)
		}
		relays, err := s.Devices().DeviceTargets(ctx, ChannelRelay, serials)
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]string{}
		for _, tg := range append(apple, relays...) {
			got[tg.DeviceID+" "+tg.Serial] = tg.Token + " " + tg.App + " " + tg.ServiceURL
		}
		want := map[string]string{
			"dev1 " + serials[0]: "token1 passwallet https://relay.example/pw",
			"dev2 " + serials[0]: "token2 apple ",
			"dev2 " + serials[1]: "token2 apple ",
		}
		if !maps.Equal(got, want) {
			t.Fatalf("push targets after the upgrade = %v, want %v", got, want)
		}
		var ua string
		if err := s.read.QueryRowContext(ctx, `SELECT user_agent FROM registrations WHERE device_id = 'dev1'`).Scan(&ua); err != nil || ua != "PassWallet/1" {
			t.Fatalf("user agent = %q %v", ua, err)
		}
	})
}
