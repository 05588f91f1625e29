package console

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/loyalpass/loyalpass/internal/loyalty"
	"github.com/loyalpass/loyalpass/internal/password"
	"github.com/loyalpass/loyalpass/internal/store"
)

var newPasswordRE = regexp.MustCompile(`id="new-password">([^<]+)<`)

// TestUsersCreateShowsThePasswordOnceAndDisable: the owner makes a
// manager, whose password is on that one answer and signs in; a taken or
// bad email is refused at its field; disabling ends the person's session
// and sign-in; the owner cannot disable themselves; each step audited.
func TestUsersCreateShowsThePasswordOnceAndDisable(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	owner := r.as(Owner)
	owner.get("/console/users")
	p := owner.postForm("/console/users", url.Values{"email": {"New.Manager@Coffee.example"}, "role": {"manager"}})
	m := newPasswordRE.FindStringSubmatch(p.body)
	if p.status != http.StatusCreated || m == nil {
		t.Fatalf("create: %d\n%s", p.status, p.body)
	}
	if list := owner.get("/console/users"); strings.Contains(list.body, m[1]) || !strings.Contains(list.body, "new.manager@coffee.example") {
		t.Error("the password shows again, or the user is not listed")
	}
	u, err := r.st.Users().ByEmail(ctx, "new.manager@coffee.example")
	if err != nil || u.Role != "manager" || u.MerchantID != r.merchant.ID {
		t.Fatalf("stored %+v %v", u, err)
	}
	if ok, _ := password.Verify(u.PasswordHash, m[1]); !ok {
		t.Fatal("the password shown is not the one stored")
	}
	mgr := r.client()
	mgr.login("new.manager@coffee.example", m[1])
	if p := mgr.get("/console/automations"); p.status != http.StatusOK {
		t.Fatalf("the new manager: %d", p.status)
	}
	for _, tt := range []struct{ email, role, field string }{
		{"new.manager@coffee.example", "cashier", "email"},
		{"not an email", "cashier", "email"},
		{"x@coffee.example", "admin", "role"},
	} {
		owner.get("/console/users")
		p := owner.postForm("/console/users", url.Values{"email": {tt.email}, "role": {tt.role}})
		if p.status != http.StatusUnprocessableEntity || fieldError(p.body, tt.field) == "" {
			t.Errorf("%s/%s: %d, error at %s %q", tt.email, tt.role, p.status, tt.field, fieldError(p.body, tt.field))
		}
	}
	owner.get("/console/users")
	if p := owner.postForm("/console/users/"+u.ID+"/disable", url.Values{}); p.status != http.StatusSeeOther {
		t.Fatalf("disable: %d", p.status)
	}
	if p := mgr.get("/console/automations"); p.status != http.StatusSeeOther || !strings.HasPrefix(p.location, "/console/login") {
		t.Errorf("a disabled user's session still works: %d %s", p.status, p.location)
	}
	if p := r.client().tryLogin("new.manager@coffee.example", m[1]); p.status != http.StatusUnauthorized {
		t.Errorf("a disabled user signs in: %d", p.status)
	}
	self, _ := r.st.Users().ByEmail(ctx, r.emails[Owner])
	owner.get("/console/users")
	if p := owner.postForm("/console/users/"+self.ID+"/disable", url.Values{}); p.status != http.StatusConflict {
		t.Errorf("the owner disabled themselves: %d", p.status)
	}
	other, _ := r.newMerchant("Другая", "other")
	r.newUser(other.ID, "someone@other.example", Cashier)
	them, _ := r.st.Users().ByEmail(ctx, "someone@other.example")
	owner.get("/console/users")
	if p := owner.postForm("/console/users/"+them.ID+"/disable", url.Values{}); p.status != http.StatusNotFound {
		t.Errorf("another merchant's user: %d", p.status)
	}
	if them, _ = r.st.Users().ByEmail(ctx, "someone@other.example"); them.DisabledAt != nil {
		t.Error("another merchant's user was disabled")
	}
	log, _ := r.st.Audit().List(ctx, r.merchant.ID, 0, 10)
	var got []string
	for _, e := range log {
		if e.Subject == "new.manager@coffee.example" {
			got = append(got, e.Action+" by "+e.UserEmail)
		}
	}
	if want := "user.disable by " + r.emails[Owner] + ",user.create by " + r.emails[Owner]; strings.Join(got, ",") != want {
		t.Errorf("audit %v, want %s", got, want)
	}
}

// TestEveryoneChangesTheirOwnPassword: a cashier changes their password
// with the current one; a wrong current one, a short or repeated new one,
// or a mismatched confirmation are refused at their field; afterwards the
// new password signs in, the old does not, other sessions are ended and
// the current one goes on; audited.
func TestEveryoneChangesTheirOwnPassword(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	c := r.as(Cashier)
	elsewhere := r.as(Cashier)
	old := r.passwords[Cashier]
	for _, tt := range []struct {
		current, next, again, field string
	}{
		{"wrong password!", "brand-new-password", "brand-new-password", "current_password"},
		{old, "short", "short", "new_password"},
		{old, old, old, "new_password"},
		{old, "brand-new-password", "brand-new-passw0rd", "confirm_password"},
	} {
		c.get("/console/password")
		p := c.postForm("/console/password", url.Values{"current_password": {tt.current}, "new_password": {tt.next},
			"confirm_password": {tt.again}})
		if p.status != http.StatusUnprocessableEntity || fieldError(p.body, tt.field) == "" {
			t.Errorf("%s: %d, error %q", tt.field, p.status, fieldError(p.body, tt.field))
		}
	}
	c.get("/console/password")
	p := c.postForm("/console/password", url.Values{"current_password": {old}, "new_password": {"brand-new-password"},
		"confirm_password": {"brand-new-password"}})
	if p.status != http.StatusSeeOther {
		t.Fatalf("change: %d\n%s", p.status, p.body)
	}
	if p := c.get("/console/password?done=1"); p.status != http.StatusOK || !strings.Contains(p.body, `id="password-done"`) {
		t.Errorf("this session after the change: %d", p.status)
	}
	if p := elsewhere.get("/console/cashier"); p.status != http.StatusSeeOther {
		t.Errorf("another session goes on after the change: %d", p.status)
	}
	if p := r.client().tryLogin(r.emails[Cashier], old); p.status != http.StatusUnauthorized {
		t.Errorf("the old password signs in: %d", p.status)
	}
	r.client().login(r.emails[Cashier], "brand-new-password")
	log, _ := r.st.Audit().List(ctx, r.merchant.ID, 0, 5)
	if len(log) == 0 || log[0].Action != "user.password" || log[0].UserEmail != r.emails[Cashier] {
		t.Errorf("audit %+v", log)
	}
}

// TestCouponsScreenIssuesToASegment: a manager issues the coupon program's
// coupon to the points program's customers; the job is the API's, its
// page shows its counts, the list shows it; a points program is refused
// at its field; audited.
func TestCouponsScreenIssuesToASegment(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	for _, phone := range []string{"+79120000031", "+79120000032", "+79120000033"} {
		r.issue(r.merchant.ID, r.program.ID, phone, "Клиент")
	}
	c := r.as(Manager)
	if p := c.get("/console/coupons"); p.status != http.StatusOK || !strings.Contains(p.body, `id="no-coupon-programs"`) {
		t.Fatalf("without a coupon program: %d", p.status)
	}
	coupon := loyalty.Program{MerchantID: r.merchant.ID, Kind: loyalty.KindCoupon, Name: "Купон", Offer: "−20%", ValidDays: 30,
		CurrencyLabel: "купон", BarcodeFormat: "qr", Locale: "ru", BackgroundColor: "#000000", ForegroundColor: "#ffffff",
		LabelColor: "#ffffff"}
	if err := r.st.Programs().CreateProgram(ctx, &coupon); err != nil {
		t.Fatal(err)
	}
	c.get("/console/coupons")
	if p := c.postForm("/console/coupons", url.Values{"program_id": {r.program.ID}, "source_program_id": {r.program.ID},
		"inactive_days": {"0"}}); p.status != http.StatusUnprocessableEntity || fieldError(p.body, "program_id") == "" {
		t.Errorf("a points program as the coupon: %d %q", p.status, fieldError(p.body, "program_id"))
	}
	c.get("/console/coupons")
	if p := c.postForm("/console/coupons", url.Values{"program_id": {coupon.ID}, "source_program_id": {r.program.ID},
		"inactive_days": {"-3"}}); p.status != http.StatusUnprocessableEntity || fieldError(p.body, "inactive_days") == "" {
		t.Errorf("negative days: %d", p.status)
	}
	c.get("/console/coupons")
	p := c.postForm("/console/coupons", url.Values{"program_id": {coupon.ID}, "source_program_id": {r.program.ID},
		"inactive_days": {"0"}})
	if p.status != http.StatusSeeOther || !strings.HasPrefix(p.location, "/console/coupons/cis_") {
		t.Fatalf("start: %d %s\n%s", p.status, p.location, p.body)
	}
	id := strings.TrimPrefix(p.location, "/console/coupons/")
	job, err := r.st.CouponIssues().CouponIssue(ctx, r.merchant.ID, id)
	if err != nil || job.Total != 3 || job.ProgramID != coupon.ID {
		t.Fatalf("job %+v %v", job, err)
	}
	page := c.get(p.location)
	if page.status != http.StatusOK || !strings.Contains(page.body, `id="job-total">3<`) || !strings.Contains(page.body, `id="job-pending">3<`) {
		t.Errorf("job page: %d", page.status)
	}
	if list := c.get("/console/coupons"); !strings.Contains(list.body, `href="/console/coupons/`+id+`"`) {
		t.Error("the job is not listed")
	}
	log, _ := r.st.Audit().List(ctx, r.merchant.ID, 0, 5)
	if len(log) == 0 || log[0].Action != "coupon_issue.start" || log[0].Subject != id {
		t.Errorf("audit %+v", log)
	}
	other, _ := r.newMerchant("Другая", "other")
	pw := r.newUser(other.ID, "owner@other.example", Owner)
	o := r.client()
	o.login("owner@other.example", pw)
	if p := o.get("/console/coupons/" + id); p.status != http.StatusNotFound {
		t.Errorf("another merchant sees the job: %d", p.status)
	}
}

// newScreenFixtures makes what the new screens show: an automation with
// a report, a coupon program and a coupon issue job. It returns their ids.
func newScreenFixtures(t *testing.T, r *rig) (automationID, jobID string) {
	t.Helper()
	ctx := context.Background()
	a := store.Automation{MerchantID: r.merchant.ID, ProgramID: r.program.ID, Name: "Скучаем",
		Trigger: loyalty.Trigger{Type: loyalty.TriggerInactive, Days: 45}, HoldoutBP: 2000, FrequencyCapDays: 14,
		QuietStart: 21, QuietEnd: 9, Timezone: "Europe/Moscow", PurchaseWindowDays: 14, Provider: "log",
		Variants: []store.Variant{{Text: "{name}, скучаем! {points}: {link}", BonusKind: loyalty.BonusPoints, Bonus: 50},
			{Text: "{name}, вернитесь за {points}: {link}", BonusKind: loyalty.BonusPoints, Bonus: 100}}}
	if err := r.st.Automations().CreateAutomation(ctx, &a); err != nil {
		t.Fatal(err)
	}
	seedAutomationReport(t, r, a)
	coupon := loyalty.Program{MerchantID: r.merchant.ID, Kind: loyalty.KindCoupon, Name: "Купон −20%", Offer: "−20% на всё",
		ValidDays: 30, CurrencyLabel: "купон", BarcodeFormat: "qr", Locale: "ru", BackgroundColor: "#7c2d12",
		ForegroundColor: "#ffffff", LabelColor: "#fed7aa"}
	if err := r.st.Programs().CreateProgram(ctx, &coupon); err != nil {
		t.Fatal(err)
	}
	job, err := r.st.CouponIssues().CreateCouponIssue(ctx, r.merchant.ID, coupon.ID, store.CouponSegment{SourceProgramID: r.program.ID})
	if err != nil {
		t.Fatal(err)
	}
	return a.ID, job.ID
}
