package store

// The store is split by aggregate: each group of tables that changes
// together has its own type, reached from the Store, so a caller names the
// part of the database it uses and no type carries the whole schema. The
// unexported helpers (transactions, dialect, wake-ups) stay on *Store and
// every aggregate shares them.

// MerchantStore persists merchants, their API keys and installation settings.
type MerchantStore struct{ s *Store }

// ProgramStore persists loyalty programs, their design images and messages.
type ProgramStore struct{ s *Store }

// CardStore persists cards and what hangs off them: the ledger, lots and
// expiry, short links, messages and the signed pass files.
type CardStore struct{ s *Store }

// DeviceStore persists where cards are installed: wallet registrations,
// device logs, Google Wallet objects, FCM tokens and the push targets
// and outcomes of each channel.
type DeviceStore struct{ s *Store }

// CampaignStore persists win-back campaigns, their recipients and the
// bonuses and funnel that follow from them.
type CampaignStore struct{ s *Store }

// QueueStore persists the outbox of device work: its claims, leases,
// retries and dead letters.
type QueueStore struct{ s *Store }

// WebhookStore persists merchants' webhook endpoints and the deliveries
// queued for them.
type WebhookStore struct{ s *Store }

// Merchants returns the merchant aggregate.
func (s *Store) Merchants() *MerchantStore { return &MerchantStore{s} }

// Programs returns the program aggregate.
func (s *Store) Programs() *ProgramStore { return &ProgramStore{s} }

// Cards returns the card aggregate.
func (s *Store) Cards() *CardStore { return &CardStore{s} }

// Devices returns the device aggregate.
func (s *Store) Devices() *DeviceStore { return &DeviceStore{s} }

// Campaigns returns the campaign aggregate.
func (s *Store) Campaigns() *CampaignStore { return &CampaignStore{s} }

// Queue returns the outbox aggregate.
func (s *Store) Queue() *QueueStore { return &QueueStore{s} }

// Webhooks returns the webhook aggregate.
func (s *Store) Webhooks() *WebhookStore { return &WebhookStore{s} }
