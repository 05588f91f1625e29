package store

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
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
				_, errs[i] = stores[i%2].Register(context.Background(), Registration{DeviceID: fmt.Sprintf("dev%02d", i),
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
		installs, err := stores[0].CardInstalls(context.Background(), serial)
		if err != nil || len(installs) != 1 || installs[0].Installed != maxDevices {
			t.Fatalf("installs = %+v %v", installs, err)
		}
	})
}
