package phone

import (
	"errors"
	"testing"
)

func TestNormalize(t *testing.T) {
	tests := []struct {
		raw, region, want string
	}{
		{"8 (912) 345-67-89", "RU", "+79123456789"},
		{"+7 912 345 67 89", "RU", "+79123456789"},
		{"79123456789", "RU", "+79123456789"},
		{"9123456789", "RU", "+79123456789"},
		{"+1 415 555 2671", "RU", "+14155552671"},
		{"(415) 555-2671", "US", "+14155552671"},
		{"+44 7911 123456", "RU", "+447911123456"},
	}
	for _, tt := range tests {
		t.Run(tt.raw, func(t *testing.T) {
			got, err := Normalize(tt.raw, tt.region)
			if err != nil || got != tt.want {
				t.Fatalf("Normalize(%q) = %q, %v; want %q", tt.raw, got, err, tt.want)
			}
		})
	}
}

func TestNormalizeRejects(t *testing.T) {
	for _, raw := range []string{"12345", "abc", "", "   ", "+7", "8 (912) 345-67", "+79123456789000000000000000000000000000000000000000000000000000000"} {
		if got, err := Normalize(raw, "RU"); !errors.Is(err, ErrInvalid) {
			t.Errorf("Normalize(%q) = %q, %v; want ErrInvalid", raw, got, err)
		}
	}
}

func TestMask(t *testing.T) {
	if got := Mask("+79123456789"); got != "********6789" {
		t.Fatalf("Mask = %q", got)
	}
	if got := Mask("+7"); got != "****" {
		t.Fatalf("Mask short = %q", got)
	}
}

func TestNormalizeMobile(t *testing.T) {
	tests := []struct {
		raw  string
		want string
		ok   bool
	}{
		{"8 (912) 345-67-89", "+79123456789", true},
		{"+7 912 345 67 89", "+79123456789", true},
		{"8-800-555-35-35", "", false},  // toll-free
		{"+7 495 123-45-67", "", false}, // a Moscow landline
		{"12345", "", false},
		{"", "", false},
	}
	for _, tt := range tests {
		got, err := NormalizeMobile(tt.raw, "RU")
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("NormalizeMobile(%q) = %q, %v; want %q, ok %v", tt.raw, got, err, tt.want, tt.ok)
		}
	}
}
