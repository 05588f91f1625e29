package gwallettest

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// store returns the map of one resource kind. The caller holds s.mu.
func (s *Server) store(kind string) map[string]map[string]any {
	return s.resources[kind]
}

// isClass reports whether kind is a class kind; classOf names an object
// kind's class kind.
func isClass(kind string) bool { return strings.HasSuffix(kind, "Class") }

func classOf(kind string) string { return strings.TrimSuffix(kind, "Object") + "Class" }

func (s *Server) get(w http.ResponseWriter, kind, id string) {
	v, ok := s.stored(kind, id)
	if !ok {
		notFound(w, kind, id)
		return
	}
	writeJSON(w, http.StatusOK, v)
}

func (s *Server) insert(w http.ResponseWriter, kind string, body map[string]any) {
	if body == nil {
		writeError(w, http.StatusBadRequest, "invalid", "Request body is not a JSON object.")
		return
	}
	id, _ := body["id"].(string)
	if !resourceID.MatchString(id) {
		writeError(w, http.StatusBadRequest, "invalidResource", "Invalid resource ID")
		return
	}
	if msg := checkFields(kind, body, true); msg != "" {
		writeError(w, http.StatusBadRequest, "invalid", msg)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.store(kind)
	if _, ok := m[id]; ok {
		writeError(w, http.StatusConflict, "duplicate", fmt.Sprintf("Resource %s already exists.", id))
		return
	}
	if !isClass(kind) {
		if _, ok := s.store(classOf(kind))[body["classId"].(string)]; !ok {
			writeError(w, http.StatusNotFound, "resourceNotFound", fmt.Sprintf("Class %s not found.", body["classId"]))
			return
		}
	}
	delete(body, "notifyPreference") // ephemeral: it applies to this request only
	for k, v := range body {
		if v == nil {
			delete(body, k) // proto3 JSON: null is the default value
		}
	}
	body["kind"] = "walletobjects#" + kind
	if isClass(kind) {
		body["reviewStatus"] = "APPROVED" // the platform approves an UNDER_REVIEW class
	}
	m[id] = body
	writeJSON(w, http.StatusOK, body)
}

func (s *Server) patch(w http.ResponseWriter, kind, id string, body map[string]any) {
	if body == nil {
		writeError(w, http.StatusBadRequest, "invalid", "Request body is not a JSON object.")
		return
	}
	if msg := checkFields(kind, body, false); msg != "" {
		writeError(w, http.StatusBadRequest, "invalid", msg)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	cur, ok := s.store(kind)[id]
	if !ok {
		notFound(w, kind, id)
		return
	}
	for k, v := range body {
		switch {
		case k == "notifyPreference" || k == "id":
		case v == nil:
			delete(cur, k) // null clears a field
		default:
			cur[k] = v
		}
	}
	if isClass(kind) {
		cur["reviewStatus"] = "APPROVED"
	}
	writeJSON(w, http.StatusOK, cur)
}

func (s *Server) addMessage(w http.ResponseWriter, kind, id string, body map[string]any) {
	msg, _ := body["message"].(map[string]any)
	if msg == nil {
		writeError(w, http.StatusBadRequest, "invalid", "message is required.")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	cur, ok := s.store(kind)[id]
	if !ok {
		notFound(w, kind, id)
		return
	}
	if msg["messageType"] == "TEXT_AND_NOTIFY" {
		if s.notified[id] >= NotifyLimit {
			// The body Google sends (edutap-eu/edutap.wallet_google#3).
			writeError(w, http.StatusForbidden, "quotaExceeded",
				fmt.Sprintf("Quota exceeded for issuer when adding TEXT_AND_NOTIFY message to %s %s", kind, id))
			return
		}
		s.notified[id]++
	}
	msgs, _ := cur["messages"].([]any)
	cur["messages"] = append(msgs, msg)
	writeJSON(w, http.StatusOK, map[string]any{"resource": cur})
}

// required lists the fields an insert of each kind must carry.
var required = map[string][]string{
	"loyaltyClass":   {"issuerName", "programName", "reviewStatus", "programLogo"},
	"offerClass":     {"issuerName", "provider", "title", "redemptionChannel", "reviewStatus"},
	"giftCardClass":  {"issuerName", "reviewStatus"},
	"loyaltyObject":  {"classId", "state"},
	"offerObject":    {"classId", "state"},
	"giftCardObject": {"classId", "state", "cardNumber"},
}

// checkFields applies the API's rules on required and forbidden values; an
// insert must carry the required fields, a patch only keeps to the rules.
func checkFields(kind string, body map[string]any, insert bool) string {
	if isClass(kind) {
		switch rs, _ := body["reviewStatus"].(string); strings.ToUpper(rs) {
		case "APPROVED", "REJECTED":
			return "reviewStatus " + rs + " cannot be set: send UNDER_REVIEW."
		case "", "DRAFT", "UNDER_REVIEW", "UNDERREVIEW":
		default:
			return "Invalid reviewStatus " + rs
		}
	} else {
		switch st, _ := body["state"].(string); st {
		case "", "ACTIVE", "INACTIVE", "COMPLETED", "EXPIRED":
		default:
			return "Invalid state " + st
		}
	}
	if msg := checkValues(kind, body); msg != "" {
		return msg
	}
	if !insert {
		return ""
	}
	for _, f := range required[kind] {
		if v, _ := body[f]; v == nil || v == "" {
			return "Missing required field " + f + "."
		}
	}
	return ""
}

// checkValues checks the values of the fields a kind's rules name.
func checkValues(kind string, body map[string]any) string {
	switch kind {
	case "offerClass":
		if ch, ok := body["redemptionChannel"].(string); ok {
			switch ch {
			case "INSTORE", "ONLINE", "BOTH", "TEMPORARY_PRICE_REDUCTION":
			default:
				return "Invalid redemptionChannel " + ch
			}
		}
	case "loyaltyObject":
		for _, f := range []string{"loyaltyPoints", "secondaryLoyaltyPoints"} {
			pts, _ := body[f].(map[string]any)
			if bal, ok := pts["balance"].(map[string]any); ok && len(bal) == 0 {
				return f + ".balance has no value."
			}
		}
	case "giftCardObject":
		if bal, ok := body["balance"].(map[string]any); ok {
			micros, _ := bal["micros"].(string)
			if _, err := strconv.ParseInt(micros, 10, 64); err != nil {
				return fmt.Sprintf("balance.micros must be an int64 string, not %v.", bal["micros"])
			}
			if code, _ := bal["currencyCode"].(string); len(code) != 3 {
				return "balance.currencyCode must be an ISO 4217 code."
			}
		}
	}
	if vti, ok := body["validTimeInterval"].(map[string]any); ok && !isClass(kind) {
		dates, offsets := 0, 0
		for _, end := range []string{"start", "end"} {
			dt, _ := vti[end].(map[string]any)
			if dt == nil {
				continue
			}
			dates++
			date, _ := dt["date"].(string)
			if _, err := time.Parse(time.RFC3339, date); err == nil {
				offsets++
			} else if _, err := time.Parse("2006-01-02T15:04:05", date); err != nil {
				return "validTimeInterval." + end + ".date is not an ISO 8601 date and time."
			}
		}
		if dates == 2 && offsets == 1 {
			return "validTimeInterval: give start and end both with an offset or both without."
		}
	}
	return ""
}
