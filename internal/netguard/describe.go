package netguard

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
)

// Describe names what went wrong with an outbound call in a few words fit
// to store where a merchant or device owner reads them: "refused:
// loopback address", "timed out", "host not found", "TLS handshake
// failed", "canceled" or "connection failed". It never repeats the raw
// error, whose addresses, ports and socket messages (connection refused
// versus reset versus timeout) would let a caller map a network through
// us. Log the raw error where the operator needs it.
func Describe(err error) string {
	var refused *RefusedError
	var dnsErr *net.DNSError
	var netErr net.Error
	switch {
	case err == nil:
		return ""
	case errors.As(err, &refused):
		return refused.Error()
	case errors.Is(err, context.Canceled):
		return "canceled"
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &netErr) && netErr.Timeout():
		return "timed out"
	case errors.As(err, &dnsErr) && dnsErr.IsNotFound:
		return "host not found"
	case isTLS(err):
		return "TLS handshake failed"
	}
	return "connection failed"
}

// isTLS reports errors of the TLS handshake: certificate checks, alerts
// and a peer that does not speak TLS.
func isTLS(err error) bool {
	var (
		verify   *tls.CertificateVerificationError
		header   tls.RecordHeaderError
		alert    tls.AlertError
		unknown  x509.UnknownAuthorityError
		hostname x509.HostnameError
		invalid  x509.CertificateInvalidError
	)
	return errors.As(err, &verify) || errors.As(err, &header) || errors.As(err, &alert) ||
		errors.As(err, &unknown) || errors.As(err, &hostname) || errors.As(err, &invalid)
}
