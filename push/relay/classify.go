package relay

import "strings"

// Classify tells which channel a pass registration belongs to, from the
// scheme of its Authorization header (the whole header value is accepted;
// only the first word is read), its X-Pass-Client header and its
// User-Agent. The scheme decides when it is an Android app's own
// (AndroidPass, AttidoPass, WalletUnionPass, WalletUnionHMSPass,
// TelegramPass); otherwise X-Pass-Client and then User-Agent may name an
// app that keeps Apple's ApplePass scheme; failing all that, ApplePass
// means Apple (an iPhone, or FossWallet, which polls and gets no push).
func Classify(authScheme, xPassClient, userAgent string) Vendor {
	scheme, _, _ := strings.Cut(strings.TrimSpace(authScheme), " ")
	switch strings.ToLower(scheme) {
	case "androidpass":
		return WalletPasses
	case "attidopass":
		return PassWallet
	case "walletunionpass":
		return WalletUnion
	case "walletunionhmspass":
		return WalletUnionHMS
	case "telegrampass":
		return PassHub
	}
	switch strings.ToLower(strings.TrimSpace(xPassClient)) {
	case "passes":
		return Pass2U
	case "passworks":
		return Passworks
	}
	for _, p := range userAgents {
		if hasPrefixFold(userAgent, p.prefix) {
			return p.vendor
		}
	}
	if strings.EqualFold(scheme, "ApplePass") {
		return Apple
	}
	return Unknown
}

// userAgents are the apps' User-Agent product tokens, most specific first
// (WalletUnionHMS/ before WalletUnion/).
var userAgents = []struct {
	prefix string
	vendor Vendor
}{
	{"WalletUnionHMS/", WalletUnionHMS},
	{"WalletUnion/", WalletUnion},
	{"WalletPasses/", WalletPasses},
	{"PassHubTelegram/", PassHub},
}

func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}
