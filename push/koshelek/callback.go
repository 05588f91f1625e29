package koshelek

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
)

// Callback is one status report Кошелёк posts to a partner's Push
// Callback API for a message sent with StatusCallbacks.
//
// [D] The Callback API is hosted by the partner at a base URL the partner
// gives Кошелёк with the Push API account; it is called over HTTPS with
// HTTP Basic, in UTF-8 JSON, and answered 200. The statuses are
// ENQUEUED, DELIVERED and OPENED.
//
// [N] The path under that base URL and the body were not readable in any
// copy of the documentation. This is our reading, and the one place to
// correct it: a POST to the base URL or any path below it, whose body is
// one object, or an array of them, naming the message ("messageId", as
// the Push API's answer names it) and its new state ("state", or
// "status"). Other fields are ignored.
type Callback struct {
	MessageID string      `json:"messageId"`
	State     string      `json:"state"`
	MSISDN    json.Number `json:"msisdn,omitempty"`
	Timestamp string      `json:"timestamp,omitempty"`
}

// callbackIn is what ParseCallbacks reads: "status" is taken for
// "state".
type callbackIn struct {
	MessageID string `json:"messageId"`
	State     string `json:"state"`
	Status    string `json:"status"`
}

// ParseCallbacks reads a callback body. Every report must name a message
// and a state.
func ParseCallbacks(body []byte) ([]Callback, error) {
	body = bytes.TrimSpace(body)
	var ins []callbackIn
	switch {
	case len(body) == 0:
		return nil, errors.New("the body is empty")
	case body[0] == '[':
		if err := json.Unmarshal(body, &ins); err != nil {
			return nil, errors.New("the body is not a JSON array of status reports")
		}
	default:
		var one callbackIn
		if err := json.Unmarshal(body, &one); err != nil {
			return nil, errors.New("the body is not a JSON status report")
		}
		ins = []callbackIn{one}
	}
	out := make([]Callback, 0, len(ins))
	for _, in := range ins {
		state := strings.TrimSpace(in.State)
		if state == "" {
			state = strings.TrimSpace(in.Status)
		}
		id := strings.TrimSpace(in.MessageID)
		if id == "" || state == "" || len(id) > 100 || len(state) > 40 {
			return nil, errors.New("a status report must name its messageId and state")
		}
		out = append(out, Callback{MessageID: id, State: strings.ToUpper(state)})
	}
	return out, nil
}
