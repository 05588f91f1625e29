package netguard_test

import (
	"net/netip"
	"testing"

	"github.com/loyalpass/loyalpass/internal/netguard"
)

func TestClassify(t *testing.T) {
	tests := []struct {
		addr string
		want netguard.Class
	}{
		{"127.0.0.1", netguard.Loopback},
		{"127.255.0.9", netguard.Loopback},
		{"::1", netguard.Loopback},
		{"::ffff:127.0.0.1", netguard.Loopback},
		{"64:ff9b::7f00:1", netguard.Loopback}, // NAT64 of 127.0.0.1
		{"10.0.0.1", netguard.Private},
		{"172.16.0.1", netguard.Private},
		{"172.31.255.254", netguard.Private},
		{"192.168.1.1", netguard.Private},
		{"::ffff:10.1.2.3", netguard.Private},
		{"fc00::1", netguard.Private},
		{"fd12:3456::1", netguard.Private},
		{"fec0::1", netguard.Private},
		{"169.254.0.1", netguard.LinkLocal},
		{"169.254.255.255", netguard.LinkLocal},
		{"fe80::1", netguard.LinkLocal},
		{"fe80::1%eth0", netguard.LinkLocal},
		{"febf::1", netguard.LinkLocal},
		{"0.0.0.0", netguard.Unspecified},
		{"::", netguard.Unspecified},
		{"::ffff:0.0.0.0", netguard.Unspecified},
		{"100.64.0.1", netguard.SharedNAT},
		{"100.127.255.254", netguard.SharedNAT},
		{"224.0.0.1", netguard.Multicast},
		{"239.255.255.250", netguard.Multicast},
		{"ff02::1", netguard.Multicast},
		{"ff05::2", netguard.Multicast},
		{"169.254.169.254", netguard.Metadata},
		{"::ffff:169.254.169.254", netguard.Metadata},
		{"fd00:ec2::254", netguard.Metadata},
		{"169.254.170.2", netguard.Metadata},
		{"100.100.100.200", netguard.Metadata},
		{"0.1.2.3", netguard.Reserved},
		{"240.0.0.1", netguard.Reserved},
		{"255.255.255.255", netguard.Reserved},
		{"198.18.0.1", netguard.Reserved},
		{"::127.0.0.1", netguard.Reserved}, // IPv4-compatible, deprecated
		// Public addresses, including neighbours of the ranges above.
		{"8.8.8.8", netguard.Public},
		{"1.1.1.1", netguard.Public},
		{"172.15.255.255", netguard.Public},
		{"172.32.0.0", netguard.Public},
		{"100.63.255.255", netguard.Public},
		{"100.128.0.0", netguard.Public},
		{"169.253.255.255", netguard.Public},
		{"126.255.255.255", netguard.Public},
		{"128.0.0.0", netguard.Public},
		{"223.255.255.255", netguard.Public},
		{"::ffff:8.8.8.8", netguard.Public},
		{"64:ff9b::808:808", netguard.Public}, // NAT64 of 8.8.8.8
		{"2a00:1450:4001:80b::200e", netguard.Public},
		{"2001:4860:4860::8888", netguard.Public},
	}
	for _, tt := range tests {
		t.Run(tt.addr, func(t *testing.T) {
			if got := netguard.Classify(netip.MustParseAddr(tt.addr)); got != tt.want {
				t.Errorf("Classify(%s) = %q, want %q", tt.addr, got, tt.want)
			}
		})
	}
}

func TestCheckAllowList(t *testing.T) {
	allow, err := netguard.ParseAllow(" 127.0.0.0/8, ::1 ,::ffff:10.20.0.0/112")
	if err != nil {
		t.Fatal(err)
	}
	g := netguard.New(netguard.Options{Allow: allow})
	tests := []struct {
		addr    string
		refused netguard.Class
	}{
		{"127.0.0.1", ""},
		{"127.9.9.9", ""},
		{"::ffff:127.0.0.1", ""},
		{"::1", ""},
		{"10.20.3.4", ""},
		{"10.21.0.1", netguard.Private},
		{"169.254.169.254", netguard.Metadata},
		{"0.0.0.0", netguard.Unspecified},
		{"8.8.8.8", ""},
	}
	for _, tt := range tests {
		t.Run(tt.addr, func(t *testing.T) {
			err := g.Check(netip.MustParseAddr(tt.addr))
			if tt.refused == "" {
				if err != nil {
					t.Fatalf("Check(%s) = %v, want allowed", tt.addr, err)
				}
				return
			}
			if want := "refused: " + string(tt.refused); err == nil || err.Error() != want {
				t.Fatalf("Check(%s) = %v, want %q", tt.addr, err, want)
			}
		})
	}
}

func TestParseAllowRefuses(t *testing.T) {
	for _, s := range []string{"localhost", "10.0.0.0/33", "10.0.0/8", "*"} {
		if _, err := netguard.ParseAllow(s); err == nil {
			t.Errorf("ParseAllow(%q) accepted", s)
		}
	}
	if p, err := netguard.ParseAllow(""); err != nil || len(p) != 0 {
		t.Errorf("ParseAllow(\"\") = %v, %v", p, err)
	}
}

func TestCheckURL(t *testing.T) {
	strict := netguard.New(netguard.Options{})
	tests := []struct {
		url  string
		want string // "" accepted
	}{
		{"https://hooks.example.com/x", ""},
		{"http://relay.example.net/PassWallet", ""},
		{"https://user:pw@hooks.example.com/", "must not carry a user name or password"},
		{"https://user@hooks.example.com/", "must not carry a user name or password"},
		{"https://127.0.0.1/", "refused: loopback address"},
		{"https://localhost:8080/", "refused: loopback address"},
		{"https://LocalHost./", "refused: loopback address"},
		{"https://api.localhost/", "refused: loopback address"},
		{"http://[::1]:9000/", "refused: loopback address"},
		{"http://[::ffff:127.0.0.1]/", "refused: loopback address"},
		{"http://169.254.169.254/latest/meta-data/", "refused: cloud metadata address"},
		{"http://[fd00:ec2::254]/", "refused: cloud metadata address"},
		{"http://10.0.0.5:6379/", "refused: private address"},
		{"http://0.0.0.0:22/", "refused: unspecified address"},
		{"ftp://files.example.com/", "must be an absolute http(s) URL"},
		{"/relative", "must be an absolute http(s) URL"},
		{"https:///nohost", "has no host"},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			err := strict.CheckURL(tt.url)
			if tt.want == "" && err != nil || tt.want != "" && (err == nil || err.Error() != tt.want) {
				t.Fatalf("CheckURL(%q) = %v, want %q", tt.url, err, tt.want)
			}
		})
	}
	open := netguard.New(netguard.Options{Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}})
	for _, u := range []string{"http://127.0.0.1:8080/", "http://localhost:8080/"} {
		if err := open.CheckURL(u); err != nil {
			t.Errorf("with 127.0.0.0/8 allowed, CheckURL(%q) = %v", u, err)
		}
	}
}
