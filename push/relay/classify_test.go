package relay_test

import (
	"testing"

	"github.com/loyalpass/loyalpass/push/relay"
)

func TestClassify(t *testing.T) {
	const (
		iPhoneUA  = "PassKit/1.0 (iPhone; iOS 18.1)"
		androidUA = "Mozilla/5.0 (Linux; Android 14)"
	)
	tests := []struct {
		name                     string
		auth, xPassClient, agent string
		want                     relay.Vendor
	}{
		{"iPhone", "ApplePass", "", iPhoneUA, relay.Apple},
		{"whole header value", "ApplePass 0123456789abcdef", "", iPhoneUA, relay.Apple},
		{"scheme case-insensitive", "applepass", "", "", relay.Apple},
		{"WalletPasses", "AndroidPass", "", "WalletPasses/2.5 (Linux; U; Android 13)", relay.WalletPasses},
		{"WalletPasses by agent", "ApplePass", "", "WalletPasses/2.5 (Linux; U; Android 13)", relay.WalletPasses},
		{"PassWallet", "AttidoPass tok", "", androidUA, relay.PassWallet},
		{"WalletUnion", "WalletUnionPass tok", "", "WalletUnion/1.0 Passbook/1.0 (Linux; U; Android 14; samsung SM-A556E)", relay.WalletUnion},
		{"WalletUnion HMS", "WalletUnionHMSPass tok", "", "WalletUnionHMS/1.0 Passbook/1.0 (Linux; U; Android 12; HUAWEI MAO-LX9)", relay.WalletUnionHMS},
		{"WalletUnion HMS by agent", "ApplePass tok", "", "WalletUnionHMS/1.0 Passbook/1.0", relay.WalletUnionHMS},
		{"WalletUnion by agent", "", "", "WalletUnion/1.0 Passbook/1.0", relay.WalletUnion},
		{"PassHub", "TelegramPass tok", "", "PassHubTelegram/1.0", relay.PassHub},
		{"Pass2U", "ApplePass tok", "Passes", androidUA, relay.Pass2U},
		{"Passworks", "ApplePass tok", "Passworks", androidUA, relay.Passworks},
		{"X-Pass-Client case and space", "ApplePass tok", " passes ", "", relay.Pass2U},
		{"scheme beats X-Pass-Client", "WalletUnionPass tok", "Passes", "", relay.WalletUnion},
		{"FossWallet polls as Apple", "ApplePass tok", "", "okhttp/4.12.0", relay.Apple},
		{"no header", "", "", androidUA, relay.Unknown},
		{"unknown scheme", "Bearer tok", "", androidUA, relay.Unknown},
		{"prefix is not a scheme", "ApplePassword tok", "", "", relay.Unknown},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := relay.Classify(tt.auth, tt.xPassClient, tt.agent); got != tt.want {
				t.Errorf("Classify(%q, %q, %q) = %q, want %q", tt.auth, tt.xPassClient, tt.agent, got, tt.want)
			}
		})
	}
}
