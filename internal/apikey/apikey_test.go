package apikey

import "testing"

func TestRoundTrip(t *testing.T) {
	k := New()
	got, err := Parse(k.String())
	if err != nil || got != k {
		t.Fatalf("Parse(%q) = %+v, %v", k.String(), got, err)
	}
	if !got.Matches(k.Hash()) {
		t.Fatal("key does not match its own hash")
	}
	other := New()
	if other.Matches(k.Hash()) || other.ID == k.ID {
		t.Fatal("two keys collide")
	}
}

func TestParseRejects(t *testing.T) {
	k := New()
	for _, s := range []string{"", "lp_", "lp_abc_def", k.ID + "_" + k.Secret, "xx_" + k.ID + "_" + k.Secret, "lp_" + k.ID + k.Secret} {
		if _, err := Parse(s); err == nil {
			t.Errorf("Parse(%q) accepted", s)
		}
	}
}
