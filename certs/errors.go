package certs

import "errors"

// Sentinel errors returned (wrapped, with the file names, dates or values
// involved) by Load. Test for them with errors.Is; show err.Error() to the
// operator.
var (
	// ErrOptions means LoadOptions name no usable source, or two of them.
	ErrOptions = errors.New("invalid certificate options")
	// ErrUnreadable means a file is missing or cannot be read; the
	// underlying fs error is wrapped too.
	ErrUnreadable = errors.New("cannot read file")
	// ErrMalformed means a file holds no certificate or key where one was
	// expected, or it does not parse.
	ErrMalformed = errors.New("not a valid certificate or key")
	// ErrP12Password means the PKCS#12 password is wrong.
	ErrP12Password = errors.New("wrong PKCS#12 password")
	// ErrExpired means a certificate's NotAfter has passed.
	ErrExpired = errors.New("certificate has expired")
	// ErrNotYetValid means a certificate's NotBefore is still ahead.
	ErrNotYetValid = errors.New("certificate is not valid yet")
	// ErrKeyMismatch means the private key does not belong to the
	// certificate.
	ErrKeyMismatch = errors.New("private key does not match the certificate")
	// ErrMissingIdentity means the leaf lacks the UID (pass type ID) or OU
	// (team ID) that Apple puts in every Pass Type ID certificate.
	ErrMissingIdentity = errors.New("certificate is not a Pass Type ID certificate")
	// ErrIdentityMismatch means the leaf is for another pass type ID or team
	// than the one configured.
	ErrIdentityMismatch = errors.New("certificate is for a different pass type or team")
	// ErrNoIntermediate means no intermediate certificate was supplied.
	ErrNoIntermediate = errors.New("no intermediate certificate")
	// ErrWrongIntermediate means the intermediate did not issue the leaf.
	ErrWrongIntermediate = errors.New("intermediate did not issue the pass certificate")
	// ErrNotCA means the intermediate is not a CA certificate.
	ErrNotCA = errors.New("intermediate is not a CA certificate")
)

// wwdrHint is appended to intermediate errors: the usual cause is a WWDR
// generation mismatch.
const wwdrHint = "Apple Pass Type ID certificates issued since 2022-01-27 need the " +
	"Apple Worldwide Developer Relations G4 intermediate (subject OU=G4), " +
	"https://www.apple.com/certificateauthority/"
