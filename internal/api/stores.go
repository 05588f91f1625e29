package api

import "github.com/loyalpass/loyalpass/internal/store"

// Stores are the stores of the handler groups, each the narrow interface
// its group declares next to itself. New hands each group its own, so no
// handler can reach a method it does not use; a test gives a group an
// in-memory double instead.
type Stores struct {
	Keys        keyStore
	Programs    programStore
	Cards       cardStore
	Ledger      ledgerStore
	Messages    messageStore
	FCM         fcmStore
	DeadLetters deadLetterStore
	Webhooks    webhookStore
	Campaigns   campaignStore
	Wallet      walletStore
	Links       linkStore
	Google      googleStore
	SMSHooks    smsHookStore
	// The «Кошелёк» integration (koshelek.go, koshelek_merchant.go); nil
	// turns it off.
	Koshelek          koshelekStore
	KoshelekPrograms  koshelekProgramStore
	KoshelekCallbacks koshelekCallbackStore
	ProgramKoshelek   programKoshelekStore
	KoshelekCards     koshelekCardStore
	Automations       automationStore
	Rhythms           rhythmStore
	Budgets           budgetStore
	Liability         liabilityStore
	Coupons           couponIssueStore
	// Schema is what /readyz pings and compares with the migrations.
	Schema SchemaStore
	// Joins runs the join page; Customers the customer routes;
	// Referrals the referral report; Posters the join poster;
	// ReferralCodes puts a card's referral link on its landing page.
	Joins         joinStore
	Customers     customerStore
	Referrals     referralReports
	Posters       posterStore
	ReferralCodes referralCodes
}

// StoresOf builds every group's store from the aggregates of st. A group
// whose interface spans aggregates gets a small struct joining just those.
func StoresOf(st *store.Store) Stores {
	return Stores{
		Keys:        st.Merchants(),
		Programs:    st.Programs(),
		Cards:       cardAggregates{st.Merchants(), st.Cards(), st.Devices()},
		Ledger:      st.Cards(),
		Messages:    messageAggregates{st.Cards(), st.Programs()},
		FCM:         st.Devices(),
		DeadLetters: st.Queue(),
		Webhooks:    st.Webhooks(),
		Campaigns:   campaignAggregates{st.Programs(), st.Campaigns()},
		Wallet:      walletAggregates{st.Cards(), st.Devices(), st.Campaigns()},
		Links:       linkAggregates{st.Merchants(), st.Programs(), st.Cards(), st.Campaigns()},
		Google:      googleAggregates{st.Programs(), st.Cards(), st.Devices(), st.Campaigns()},
		SMSHooks:    st.Campaigns(),
		Automations: automationAggregates{st.Programs(), st.Automations()},
		Rhythms:     st.Automations(),
		Budgets:     st.Automations(),
		Liability:   st.Liabilities(),
		Coupons:     st.CouponIssues(),
		Schema:      st,

		Joins:         joinAggregates{st.Joins(), st.Referrals(), st.JoinFunnel()},
		Customers:     customerAggregates{st.Customers(), st.Merchants(), st.Referrals()},
		Referrals:     st.Referrals(),
		Posters:       posterAggregates{st.Programs(), st.Merchants()},
		ReferralCodes: st.Referrals(),

		Koshelek:          koshelekAggregates{st.Koshelek(), st.Campaigns()},
		KoshelekPrograms:  st.Koshelek(),
		KoshelekCallbacks: st.Koshelek(),
		ProgramKoshelek:   st.Koshelek(),
		KoshelekCards:     st.Koshelek(),
	}
}

// joinAggregates is the join page's store: the codes and joins, the
// program a referral link invites to, and the counts of the dashboard's
// join funnel.
type joinAggregates struct {
	*store.JoinStore
	*store.ReferralStore
	*store.JoinFunnelStore
}

// customerAggregates is the customer group's store: customers, the
// merchant's country (for phone numbers) and the cards' referral codes.
type customerAggregates struct {
	*store.CustomerStore
	*store.MerchantStore
	*store.ReferralStore
}

// posterAggregates is the poster's store: the program and its merchant.
type posterAggregates struct {
	*store.ProgramStore
	*store.MerchantStore
}

// koshelekAggregates is the «Кошелёк» partner API's store: the
// integration, and the campaigns an install pays.
type koshelekAggregates struct {
	*store.KoshelekStore
	*store.CampaignStore
}

// cardAggregates is the card group's store: a card's merchant (for its
// links), the card and its ledger, and where it is installed.
type cardAggregates struct {
	*store.MerchantStore
	*store.CardStore
	*store.DeviceStore
}

// messageAggregates sets the message of a card or of a whole program.
type messageAggregates struct {
	*store.CardStore
	*store.ProgramStore
}

// campaignAggregates is the campaign group's store: campaigns and the
// program each one runs for.
type campaignAggregates struct {
	*store.ProgramStore
	*store.CampaignStore
}

// walletAggregates is the pass web service's store: cards, the devices
// they are registered on, and the campaigns an installation pays.
type walletAggregates struct {
	*store.CardStore
	*store.DeviceStore
	*store.CampaignStore
}

// linkAggregates is the short links' store: the link's card, its
// merchant and program for the page, and the campaign that sent it.
type linkAggregates struct {
	*store.MerchantStore
	*store.ProgramStore
	*store.CardStore
	*store.CampaignStore
}

// googleAggregates is the Google Wallet group's store: cards and their
// program images, Google's callbacks, and the campaigns an install pays.
type googleAggregates struct {
	*store.ProgramStore
	*store.CardStore
	*store.DeviceStore
	*store.CampaignStore
}

// automationAggregates is the automation group's store: automations and
// the program each one runs in.
type automationAggregates struct {
	*store.ProgramStore
	*store.AutomationStore
}
